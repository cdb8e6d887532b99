// The exec securebits (Linux 6.14, include/uapi/linux/securebits.h). They live in the calling
// thread's credentials: set them on the thread that then execs, and everything it starts
// inherits them. PR_SET_SECUREBITS replaces the whole value, so read, OR, write.

import { check, fn } from './ffi.ts';

export const PR_GET_SECUREBITS = 27;
export const PR_SET_SECUREBITS = 28;
export const PR_SET_NO_NEW_PRIVS = 38;

export const SECBIT_EXEC_RESTRICT_FILE = 0x100;
export const SECBIT_EXEC_RESTRICT_FILE_LOCKED = 0x200;
export const SECBIT_EXEC_DENY_INTERACTIVE = 0x400;
export const SECBIT_EXEC_DENY_INTERACTIVE_LOCKED = 0x800;

export interface ExecSecurebits {
  restrictFile: boolean;
  restrictFileLocked: boolean;
  denyInteractive: boolean;
  denyInteractiveLocked: boolean;
}

function prctl(option: number, a2 = 0): number {
  return check(fn('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)')(option, a2, 0, 0, 0), 'prctl');
}

export function getSecurebits(): number {
  return prctl(PR_GET_SECUREBITS);
}

/** Sets the whole securebits value of the calling thread (EPERM for locked bits). */
export function setSecurebits(value: number): void {
  prctl(PR_SET_SECUREBITS, value);
}

export function decodeExecBits(value: number): ExecSecurebits {
  return {
    restrictFile: (value & SECBIT_EXEC_RESTRICT_FILE) !== 0,
    restrictFileLocked: (value & SECBIT_EXEC_RESTRICT_FILE_LOCKED) !== 0,
    denyInteractive: (value & SECBIT_EXEC_DENY_INTERACTIVE) !== 0,
    denyInteractiveLocked: (value & SECBIT_EXEC_DENY_INTERACTIVE_LOCKED) !== 0,
  };
}

export function setNoNewPrivs(): void {
  prctl(PR_SET_NO_NEW_PRIVS, 1);
}
