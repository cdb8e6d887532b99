// Files of code: checked with AT_EXECVE_CHECK on the fd they are then read from, so the content
// checked is the content run.

const { closeSync, openSync, readFileSync } = process.getBuiltinModule('node:fs');
import { trustedForFd, type TrustResult } from '../trust/trusted-for.ts';
import { getBuiltin } from './builtins.ts';
import { isMissing, refuse } from './errors.ts';
import { auditLine, enforcement } from './state.ts';

/** Everything the fd holds from its current offset (a fresh fd: the whole file), in one buffer. */
export function readAll(fd: number): Buffer {
  // readFileSync on an fd sizes the buffer from the binding's fstat (no Stats object) and reads to EOF.
  return readFileSync(fd);
}

/** Applies the result of a check: throws when enforced, logs when audited. */
export function enforceCheck(kind: string, path: string, r: TrustResult): void {
  if (r.trusted) return;
  const e = enforcement();
  if (e.restrictFile) {
    refuse(
      'ERR_WARD_EXEC_DENIED',
      `${kind} ${path} may not be executed: ${r.errno}: ${r.reason} (checked with ${r.mechanism === 'kernel' ? 'AT_EXECVE_CHECK' : 'the emulated trusted_for policy'}; SECBIT_EXEC_RESTRICT_FILE is set). Make it executable on an exec mount (\`ward node trust DIR\` does that for a tree's code) or allow it in the exec policy; \`ward node --audit APP\` lists every file that would be refused`,
      r.errno,
    );
  }
  if (e.audit) auditLine('exec-check-failed', { kind, path, errno: r.errno, reason: r.reason, mechanism: r.mechanism });
}

// Files ward's hooks checked (and read), so Module.prototype._compile can tell a file Node
// loaded through them from one a legacy require.extensions loader read by itself (./codegen.ts).
const checkedPaths = new Set<string>();

export function wasChecked(path: string): boolean {
  return checkedPaths.has(path);
}

/**
 * Checks the file a source says it came from (a legacy require.extensions loader read it by
 * itself). No such file: the text came from nowhere — generated code, which only --deny-codegen
 * refuses.
 */
export function checkSourceFile(kind: string, path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if (isMissing(e)) return;
    throw e;
  }
  try {
    enforceCheck(kind, path, trustedForFd(fd));
    checkedPaths.add(path);
  } finally {
    closeSync(fd);
  }
}

/** Opens, checks and reads a code file; returns its bytes (the ones that were checked). */
export function checkedRead(kind: string, path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    enforceCheck(kind, path, trustedForFd(fd));
    checkedPaths.add(path);
    return readAll(fd);
  } finally {
    closeSync(fd);
  }
}

// What ward read from checked files, for --deny-codegen: the only texts Module.prototype._compile
// accepts, and the only bytes WebAssembly may compile. Private to this module (and ward's
// modules cannot be imported by the app, ./seal.ts).
const checkedSources = new Map<string, string>();
const checkedWasm = new Set<string>();
const sha = (b: ArrayBufferView | ArrayBuffer) => getBuiltin<typeof import('node:crypto')>('node:crypto').createHash('sha256').update(ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b)).digest('hex');
const strip = (s: string) => (s.charCodeAt(0) === 0xfeff ? s.slice(1) : s);

export function rememberSource(filename: string, text: string): void {
  checkedSources.set(filename, text);
}

export function isCheckedSource(filename: string, text: string): boolean {
  const expected = checkedSources.get(filename);
  return expected !== undefined && strip(expected) === strip(text);
}

export function registerCheckedWasm(bytes: Uint8Array): void {
  checkedWasm.add(sha(bytes));
}

export function isCheckedWasm(bytes: ArrayBufferView | ArrayBuffer): boolean {
  return checkedWasm.has(sha(bytes));
}

/** WebAssembly's magic number: a file is wasm by its content, with or without a .wasm name. */
export function isWasmBytes(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
}
