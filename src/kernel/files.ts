// File-level syscalls Node does not expose: statx (mount id, attributes), fstatfs (mount
// flags), faccessat2 on an fd, FS_IOC_MEASURE_VERITY, memfd_create, pipe2.

import { check, fn, lastErrno, syscall, sys } from './ffi.ts';
import { AT_EMPTY_PATH } from './exec-check.ts';
import { errnoName, fail, ok, type ErrnoName, type Result } from '../errors.ts';
const { constants: fsConstants } = process.getBuiltinModule('node:fs');

export const O_PATH = 0o10000000;
export const O_CLOEXEC = 0o2000000;
// Node knows O_NOFOLLOW per architecture (it differs on arm64); O_PATH and O_CLOEXEC are the
// same on every architecture ward supports (include/uapi/asm-generic/fcntl.h).
export const O_NOFOLLOW: number = fsConstants.O_NOFOLLOW;

export const STATX_BASIC_STATS = 0x7ff;
export const STATX_MNT_ID = 0x1000;
export const STATX_ATTR_VERITY = 0x100000;

export interface StatxInfo {
  mode: number;
  uid: number;
  gid: number;
  ino: bigint;
  size: bigint;
  attributes: bigint;
  attributesMask: bigint;
  devMajor: number;
  devMinor: number;
  rdevMajor: number;
  rdevMinor: number;
  mntId: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

function timestampNs(buf: Buffer, off: number): bigint {
  return buf.readBigInt64LE(off) * 1_000_000_000n + BigInt(buf.readUInt32LE(off + 8));
}

/** statx(fd, "", AT_EMPTY_PATH, BASIC|MNT_ID) — struct statx is 256 bytes (include/uapi/linux/stat.h). */
export function fstatx(fd: number): StatxInfo {
  const buf = Buffer.alloc(256);
  check(fn('int statx(int dirfd, const char *path, int flags, unsigned int mask, _Out_ uint8_t *buf)')(fd, '', AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_MNT_ID, buf), 'statx');
  return {
    attributes: buf.readBigUInt64LE(8),
    uid: buf.readUInt32LE(20),
    gid: buf.readUInt32LE(24),
    mode: buf.readUInt16LE(28),
    ino: buf.readBigUInt64LE(32),
    size: buf.readBigUInt64LE(40),
    attributesMask: buf.readBigUInt64LE(56),
    ctimeNs: timestampNs(buf, 96),
    mtimeNs: timestampNs(buf, 112),
    rdevMajor: buf.readUInt32LE(128),
    rdevMinor: buf.readUInt32LE(132),
    devMajor: buf.readUInt32LE(136),
    devMinor: buf.readUInt32LE(140),
    mntId: buf.readBigUInt64LE(144),
  };
}

export const ST_RDONLY = 1;
export const ST_NOSUID = 2;
export const ST_NODEV = 4;
export const ST_NOEXEC = 8;

/** fstatfs(fd).f_flags: the mount's flags (ST_NOEXEC…). struct statfs is 120 bytes on x86_64. */
export function fstatfsFlags(fd: number): number {
  const buf = Buffer.alloc(120);
  check(fn('int fstatfs(int fd, _Out_ uint8_t *buf)')(fd, buf), 'fstatfs');
  return Number(buf.readBigInt64LE(80));
}

export const X_OK = 1;
export const AT_EACCESS = 0x200;

/** faccessat2(fd, "", mode, AT_EMPTY_PATH|AT_EACCESS): may the caller (effective ids) access it? */
export function faccessFd(fd: number, mode: number): Result<void, ErrnoName> {
  const r = syscall(sys().faccessat2, 'int', fd, 'str', '', 'int', mode, 'int', AT_EMPTY_PATH | AT_EACCESS);
  return r === 0 ? ok(undefined) : fail(errnoName(lastErrno()));
}

// _IOWR('f', 134, struct fsverity_digest) (include/uapi/linux/fsverity.h).
export const FS_IOC_MEASURE_VERITY = 0xc0046686;
export const FS_VERITY_HASH_ALG_SHA256 = 1;
export const FS_VERITY_HASH_ALG_SHA512 = 2;

/**
 * The kernel's fs-verity measurement of a file: { algorithm, digest }, or fails with the errno
 * (ENODATA: fs-verity not enabled on the file; ENOTTY/EOPNOTSUPP: the filesystem has none).
 */
export function measureVerity(fd: number): Result<{ algorithm: 'sha256' | 'sha512'; digest: Buffer }, ErrnoName> {
  const buf = Buffer.alloc(4 + 64);
  buf.writeUInt16LE(64, 2); // digest_size in: room available
  const r = Number(fn('int ioctl(int fd, unsigned long req, _Inout_ uint8_t *arg)')(fd, FS_IOC_MEASURE_VERITY, buf));
  if (r !== 0) return fail(errnoName(lastErrno()));
  const alg = buf.readUInt16LE(0);
  const size = buf.readUInt16LE(2);
  return ok({ algorithm: alg === FS_VERITY_HASH_ALG_SHA512 ? 'sha512' : 'sha256', digest: Buffer.from(buf.subarray(4, 4 + size)) });
}

export const MFD_CLOEXEC = 1;
export const MFD_NOEXEC_SEAL = 8;
export const MFD_EXEC = 0x10;

export function memfdCreate(name: string, flags = MFD_CLOEXEC): number {
  return check(fn('int memfd_create(const char *name, unsigned int flags)')(name, flags), 'memfd_create');
}

/** pipe2(O_CLOEXEC) → [readFd, writeFd]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  check(fn('int pipe2(_Out_ int *fds, int flags)')(fds, O_CLOEXEC), 'pipe2');
  return [fds[0]!, fds[1]!];
}
