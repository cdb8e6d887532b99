// fanotify_init / fanotify_mark and the event records (include/uapi/linux/fanotify.h): thin
// bindings, no policy. glibc has wrappers for the two calls; events are read and answered with
// plain read(2)/write(2) on the group fd.

import { check, fn } from './ffi.ts';
import { readFd, writeFd } from './io.ts';

export const FAN_CLOEXEC = 0x1;
export const FAN_NONBLOCK = 0x2;
export const FAN_CLASS_CONTENT = 0x4;
/** No limit on pending events (default 16384; past it the kernel drops events and, for
 *  permission events, allows the access without asking: fs/notify/fanotify/fanotify.c). */
export const FAN_UNLIMITED_QUEUE = 0x10;
export const FAN_UNLIMITED_MARKS = 0x20;
export const FAN_ENABLE_AUDIT = 0x40;
export const FAN_MARK_ADD = 0x1;
export const FAN_MARK_REMOVE = 0x2;
export const FAN_MARK_MOUNT = 0x10;
/** Mark the superblock: every mount of the filesystem, in every mount namespace. */
export const FAN_MARK_FILESYSTEM = 0x100;
export const FAN_Q_OVERFLOW = 0x4000;
export const FAN_OPEN_PERM = 0x10000;
export const FAN_ACCESS_PERM = 0x20000;
export const FAN_OPEN_EXEC_PERM = 0x40000;
export const FAN_ALLOW = 1;
export const FAN_DENY = 2;
export const FAN_AUDIT = 0x10;

/** struct fanotify_event_metadata: u32 event_len, u8 vers, u8 reserved, u16 metadata_len,
 *  u64 mask (aligned), s32 fd, s32 pid. */
export const FAN_EVENT_METADATA_LEN = 24;
export const FANOTIFY_METADATA_VERSION = 3;

export function fanotifyInit(flags: number, eventFlags: number): number {
  return check(fn('int fanotify_init(unsigned int flags, unsigned int event_f_flags)')(flags, eventFlags), 'fanotify_init');
}

export function fanotifyMark(fd: number, flags: number, mask: bigint, dirfd: number, path: string): void {
  check(fn('int fanotify_mark(int fd, unsigned int flags, uint64_t mask, int dirfd, const char *path)')(fd, flags, mask, dirfd, path), 'fanotify_mark', path);
}

export interface FanEvent {
  /** Metadata version: anything but FANOTIFY_METADATA_VERSION must still be answered. */
  readonly version: number;
  readonly mask: bigint;
  /** The file, opened for the listener (O_RDONLY, no notification); the caller closes it. */
  readonly fd: number;
  readonly pid: number;
}

/** The events in the first n bytes of buf. FAN_NOFD records (overflow notices) are counted, not returned. */
export function decodeEvents(buf: Buffer, n: number): { events: FanEvent[]; overflows: number } {
  const events: FanEvent[] = [];
  let overflows = 0;
  let off = 0;
  while (off + FAN_EVENT_METADATA_LEN <= n) {
    const len = buf.readUInt32LE(off);
    const fd = buf.readInt32LE(off + 16);
    const e = { version: buf.readUInt8(off + 4), mask: buf.readBigUInt64LE(off + 8), fd, pid: buf.readInt32LE(off + 20) };
    off += Math.max(len, FAN_EVENT_METADATA_LEN);
    if (fd < 0) overflows++;
    else events.push(e);
  }
  return { events, overflows };
}

/** Reads whatever events are pending (non-blocking group); [] when another reader took them. */
export function readEvents(fanFd: number, buf: Buffer): { events: FanEvent[]; overflows: number } {
  const n = readFd(fanFd, buf);
  if (typeof n !== 'number' || n <= 0) return { events: [], overflows: 0 };
  return decodeEvents(buf, n);
}

/** struct fanotify_response { s32 fd; u32 response; } */
export function answerEvent(fanFd: number, fd: number, allow: boolean): void {
  const b = Buffer.alloc(8);
  b.writeInt32LE(fd, 0);
  b.writeUInt32LE(allow ? FAN_ALLOW : FAN_DENY, 4);
  writeFd(fanFd, b);
}
