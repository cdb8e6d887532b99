// File leases (fcntl(2) F_SETLEASE/F_GETLEASE, fs/locks.c): the kernel's own answer to "is this
// file open for writing?". A read lease is refused with EAGAIN while any file description has
// the inode open for writing (check_conflicting_open: inode_is_open_for_write), which includes
// a MAP_SHARED writable mapping whose fd was closed (the mapping keeps its struct file). While a
// read lease is held, an open for writing breaks it and waits for the holder to release it (up to
// /proc/sys/fs/lease-break-time), so a file stays unwritable for as long as the lease is held.
// Values are the same on every architecture ward supports (include/uapi/linux/fcntl.h:
// F_LINUX_SPECIFIC_BASE 1024; include/uapi/asm-generic/fcntl.h F_RDLCK 0, F_UNLCK 2).
// Taking a lease registers the process for SIGIO on a break: the holder must ignore SIGIO.

import { errnoName } from '../errors.ts';
import { fn, lastErrno } from './ffi.ts';

const F_SETLEASE = 1024;
const F_GETLEASE = 1025;
const F_RDLCK = 0;
const F_UNLCK = 2;

const fcntl = () => fn('int fcntl(int fd, int cmd, int arg)');

/** 'held': a read lease is now held on fd; 'writers': the file is open for writing (EAGAIN);
 *  otherwise the errno name of why no lease could be taken (e.g. EINVAL: not supported here). */
export function takeReadLease(fd: number): 'held' | 'writers' | string {
  if (Number(fcntl()(fd, F_SETLEASE, F_RDLCK)) === 0) return 'held';
  const e = errnoName(lastErrno());
  return e === 'EAGAIN' ? 'writers' : e;
}

/** true while the read lease on fd is intact (no open for writing has broken it). */
export function readLeaseIntact(fd: number): boolean {
  return Number(fcntl()(fd, F_GETLEASE, 0)) === F_RDLCK;
}

export function releaseLease(fd: number): void {
  fcntl()(fd, F_SETLEASE, F_UNLCK);
}

// Record locks (fcntl(2) F_SETLK/F_GETLK, POSIX): held by the process until it exits, so a
// crashed holder never leaves a stale lock. struct flock is the same on x86-64 and arm64
// (include/uapi/asm-generic/fcntl.h): short l_type, short l_whence, [pad] off_t l_start,
// off_t l_len, pid_t l_pid [pad] = 32 bytes.
const F_GETLK = 5;
const F_SETLK = 6;
const F_WRLCK = 1;
const SEEK_SET = 0;

function flock(type: number): Buffer {
  const b = Buffer.alloc(32);
  b.writeInt16LE(type, 0);
  b.writeInt16LE(SEEK_SET, 2);
  return b; // l_start 0, l_len 0: the whole file
}

/** Takes a write lock on the whole file: 'locked', or the pid that holds it (0 if unknown). */
export function lockWholeFile(fd: number): 'locked' | { heldBy: number } {
  const setlk = fn('int fcntl(int fd, int cmd, _Inout_ uint8_t *lock)');
  if (Number(setlk(fd, F_SETLK, flock(F_WRLCK))) === 0) return 'locked';
  const q = flock(F_WRLCK);
  if (Number(setlk(fd, F_GETLK, q)) !== 0) return { heldBy: 0 };
  return { heldBy: q.readInt16LE(0) === F_UNLCK ? 0 : q.readInt32LE(24) };
}
