// Files of code: checked with AT_EXECVE_CHECK on the fd they are then read from, so the content
// checked is the content run.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { trustedForFd, type TrustResult } from '../trust/trusted-for.ts';
import { WardNodeError } from './errors.ts';
import { auditLine, enforcement } from './state.ts';

export function readAll(fd: number): Buffer {
  const size = fstatSync(fd).size;
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  while (off < size) {
    const n = readSync(fd, buf, off, size - off, off);
    if (n === 0) break;
    off += n;
  }
  return off === size ? buf : buf.subarray(0, off);
}

/** Applies the result of a check: throws when enforced, logs when audited. */
export function enforceCheck(kind: string, path: string, r: TrustResult): void {
  if (r.trusted) return;
  const e = enforcement();
  if (e.restrictFile) {
    throw new WardNodeError(
      'ERR_WARD_EXEC_DENIED',
      `${kind} ${path} may not be executed: ${r.errno}: ${r.reason} (checked with ${r.mechanism === 'kernel' ? 'AT_EXECVE_CHECK' : 'the emulated trusted_for policy'}; SECBIT_EXEC_RESTRICT_FILE is set). Make the file executable on an exec mount, or allow it in the exec policy`,
      r.errno,
    );
  }
  if (e.audit) auditLine('exec-check-failed', { kind, path, errno: r.errno, reason: r.reason, mechanism: r.mechanism });
}

/** Opens, checks and reads a code file; returns its bytes (the ones that were checked). */
export function checkedRead(kind: string, path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    enforceCheck(kind, path, trustedForFd(fd));
    return readAll(fd);
  } finally {
    closeSync(fd);
  }
}
