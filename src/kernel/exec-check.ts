// execveat(fd, "", argv, envp, AT_EMPTY_PATH | AT_EXECVE_CHECK) (Linux 6.14): asks the kernel
// whether executing the file would be allowed, running nothing. Goes through the whole exec
// permission path: mount noexec, file mode, LSMs and fanotify FAN_OPEN_EXEC_PERM listeners.

import { errnoName, fail, ok, type ErrnoName, type Result } from '../errors.ts';
import { fn, sys, lastErrno, syscall } from './ffi.ts';

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_EMPTY_PATH = 0x1000;
export const AT_EXECVE_CHECK = 0x10000;

/** ok: executing it would be allowed; else the errno execve(2) would fail with. */
export type ExecCheckResult = Result<void, ErrnoName>;

// A real argv: the kernel warns in its log about a NULL argv.
const ARGV = ['ward-check', null];
const ENVP = [null];

// glibc's execveat() (2.34+) is a plain wrapper of the syscall with a fixed prototype; a call
// through koffi costs ~35 µs less than the variadic syscall(), whose argument types koffi must
// parse on every call — and the enlightened Node makes this call for every file it loads.
// Older glibc: the variadic syscall().
let libcExecveat: ((...args: unknown[]) => number | bigint) | null | undefined;

function execveat(dirfd: number, path: string, flags: number): ExecCheckResult {
  if (libcExecveat === undefined) {
    try {
      libcExecveat = fn('int execveat(int dirfd, const char *pathname, const char **argv, const char **envp, int flags)');
    } catch {
      libcExecveat = null;
    }
  }
  const r = libcExecveat
    ? Number(libcExecveat(dirfd, path, ARGV, ENVP, flags))
    : syscall(sys().execveat, 'int', dirfd, 'str', path, 'const char **', ARGV, 'const char **', ENVP, 'int', flags);
  return r === 0 ? ok(undefined) : fail(errnoName(lastErrno()));
}

/** Checks an open fd (O_RDONLY or O_PATH). */
export function execveCheckFd(fd: number): ExecCheckResult {
  return execveat(fd, '', AT_EMPTY_PATH | AT_EXECVE_CHECK);
}

/** Checks a path; with nofollow a final symlink is refused (ELOOP) instead of followed. */
export function execveCheckPath(path: string, nofollow = false): ExecCheckResult {
  return execveat(AT_FDCWD, path, AT_EXECVE_CHECK | (nofollow ? AT_SYMLINK_NOFOLLOW : 0));
}

let supported: boolean | undefined;

/**
 * Kernels before 6.14 reject the unknown flag with EINVAL; a kernel that knows it reaches the
 * fd lookup and answers EBADF for fd -1.
 */
export function execveCheckSupported(): boolean {
  if (supported === undefined) {
    const r = execveat(-1, '', AT_EMPTY_PATH | AT_EXECVE_CHECK);
    supported = !r.ok && r.error === 'EBADF';
  }
  return supported;
}
