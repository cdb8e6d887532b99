// Sessions and inherited fds of the calling process (setsid(2), close_range(2)).

import { errnoName } from '../errors.ts';
import { fn, lastErrno, syscall, sys } from './ffi.ts';

/** setsid(): a new session without a controlling terminal. Returns undefined or the errno name
 * (EPERM when this process already leads a process group, as a job of an interactive shell). */
export function trySetsid(): ReturnType<typeof errnoName> | undefined {
  const r = Number(fn('int setsid(void)')());
  return r === -1 ? errnoName(lastErrno()) : undefined;
}

export function getsid(): number {
  return Number(fn('int getsid(int pid)')(0));
}

// include/uapi/linux/close_range.h
const CLOSE_RANGE_CLOEXEC = 1 << 2;

/**
 * Marks every fd from `first` up close-on-exec (close_range(first, ~0U, CLOSE_RANGE_CLOEXEC),
 * Linux 5.11): execve then closes them all, whatever their number, while a failed execve leaves
 * the launcher's own fds (libuv's epoll, signal pipes) working.
 */
export function cloexecFrom(first: number): ReturnType<typeof errnoName> | undefined {
  const r = syscall(sys().close_range, 'unsigned int', first, 'unsigned int', 0xffffffff, 'unsigned int', CLOSE_RANGE_CLOEXEC);
  return r === 0 ? undefined : errnoName(lastErrno());
}

/** Whether this process leads its process group (then setsid(2) fails with EPERM). */
export function leadsProcessGroup(): boolean {
  return Number(fn('int getpgid(int pid)')(0)) === process.pid;
}
