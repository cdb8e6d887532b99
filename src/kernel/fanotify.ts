// fanotify_init / fanotify_mark (include/uapi/linux/fanotify.h). glibc has wrappers.

import { check, fn } from './ffi.ts';

export const FAN_CLOEXEC = 0x1;
export const FAN_NONBLOCK = 0x2;
export const FAN_CLASS_CONTENT = 0x4;
export const FAN_ENABLE_AUDIT = 0x40;
export const FAN_MARK_ADD = 0x1;
export const FAN_MARK_REMOVE = 0x2;
export const FAN_MARK_MOUNT = 0x10;
export const FAN_MARK_FILESYSTEM = 0x100;
export const FAN_OPEN_PERM = 0x10000;
export const FAN_ACCESS_PERM = 0x20000;
export const FAN_OPEN_EXEC_PERM = 0x40000;
export const FAN_ALLOW = 1;
export const FAN_DENY = 2;
export const FAN_AUDIT = 0x10;

export function fanotifyInit(flags: number, eventFlags: number): number {
  return check(fn('int fanotify_init(unsigned int flags, unsigned int event_f_flags)')(flags, eventFlags), 'fanotify_init');
}

export function fanotifyMark(fd: number, flags: number, mask: bigint, dirfd: number, path: string): void {
  check(fn('int fanotify_mark(int fd, unsigned int flags, uint64_t mask, int dirfd, const char *path)')(fd, flags, mask, dirfd, path), 'fanotify_mark', path);
}
