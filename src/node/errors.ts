// Errors of the enlightened runtime. They reach application code (a refused require/import
// throws), so they carry Node-style string codes that apps and logs can tell apart, as Node's own
// errors do (ERR_ACCESS_DENIED, ERR_REQUIRE_ESM); the errno behind a refusal, when there is one,
// is from the closed union of ../errors.ts, as on every other ward error.

import { errorCode, type ErrnoName } from '../errors.ts';

export type WardNodeCode = 'ERR_WARD_EXEC_DENIED' | 'ERR_WARD_CODE_DENIED' | 'ERR_WARD_MODULE_DENIED' | 'ERR_WARD_EPERM';

export class WardNodeError extends Error {
  readonly code: WardNodeCode;
  readonly errno?: ErrnoName;
  constructor(code: WardNodeCode, message: string, errno?: ErrnoName) {
    super(message);
    this.name = 'WardNodeError';
    this.code = code;
    if (errno) this.errno = errno;
    // The message says what, why and how to fix it; frames inside ward's runtime would not help.
    this.stack = `${this.name} [${code}]: ${message}`;
  }
}

/** Every refusal of the runtime is thrown here, so an uncaught one shows this line, not ward's internals. */
export function refuse(code: WardNodeCode, message: string, errno?: ErrnoName): never {
  throw new WardNodeError(code, message, errno); // ward node refused this; the reason and the fix follow
}

/** Code that does not come from a checked file (SECBIT_EXEC_DENY_INTERACTIVE). */
export function denyCode(door: string, fix = 'put the code in a file that passes AT_EXECVE_CHECK and run that file'): never {
  refuse('ERR_WARD_CODE_DENIED', `${door} is refused: SECBIT_EXEC_DENY_INTERACTIVE is set, so only code from checked files may run; ${fix}`);
}

/** Code generated at run time from strings or bytes (`ward node --deny-codegen`). */
export function denyCodegen(door: string): never {
  refuse(
    'ERR_WARD_CODE_DENIED',
    `${door} is refused: ward node runs with --deny-codegen (or "denyCodegen" in /etc/ward/node.json), so only the contents of checked files may be compiled; run without --deny-codegen if this code is trusted to generate code`,
  );
}

/** A file that is not there (ENOENT, or a path through a non-directory). */
export const isMissing = (err: unknown): boolean => {
  const code = errorCode(err, 'EIO');
  return code === 'ENOENT' || code === 'ENOTDIR';
};

/** Under RESTRICT_FILE, code said to come from a file that is not there: nothing could be checked. */
export function refuseMissing(kind: string, path: string): never {
  refuse('ERR_WARD_EXEC_DENIED', `${kind} ${path} may not be executed: ENOENT: there is no such file, so what would run cannot be checked (SECBIT_EXEC_RESTRICT_FILE is set); give it a file that passes AT_EXECVE_CHECK`, 'ENOENT');
}
