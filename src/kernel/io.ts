// Raw fd I/O used by the fanotify loop (in a worker thread, where blocking is fine) and small
// socket helpers Node lacks: SO_PEERCRED and unix datagrams (sd_notify).

import { errnoName } from '../errors.ts';
import { arch } from './arch.ts';
import { check, fn, lastErrno } from './ffi.ts';

export const POLLIN = 0x1;

/** poll() on one fd: true if readable, false on timeout; throws on error (EINTR → false). */
export function pollReadable(fd: number, timeoutMs: number): boolean {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(POLLIN, 4);
  const r = Number(fn('int poll(_Inout_ uint8_t *fds, unsigned long nfds, int timeout)')(pfd, 1, timeoutMs));
  if (r < 0) {
    if (errnoName(lastErrno()) === 'EINTR') return false;
    check(r, 'poll');
  }
  return r > 0 && (pfd.readInt16LE(6) & POLLIN) !== 0;
}

/** read(2) into buf; returns bytes read, or -errno-name for EAGAIN/EINTR. */
export function readFd(fd: number, buf: Buffer): number | 'EAGAIN' | 'EINTR' {
  const r = Number(fn('long read(int fd, _Out_ uint8_t *buf, unsigned long count)')(fd, buf, buf.length));
  if (r >= 0) return r;
  const e = errnoName(lastErrno());
  if (e === 'EAGAIN' || e === 'EINTR') return e;
  return check(-1, 'read');
}

export function writeFd(fd: number, buf: Buffer): number {
  return check(fn('long write(int fd, const uint8_t *buf, unsigned long count)')(fd, buf, buf.length), 'write');
}

export function closeRaw(fd: number): void {
  fn('int close(int fd)')(fd);
}

export function readlinkFd(fd: number): string | undefined {
  const buf = Buffer.alloc(4096);
  const n = Number(fn('long readlink(const char *path, _Out_ uint8_t *buf, unsigned long size)')(`/proc/self/fd/${fd}`, buf, buf.length));
  return n < 0 ? undefined : buf.subarray(0, n).toString('utf8');
}

const SOL_SOCKET = 1;
const SO_PEERCRED = 17;

/** The peer's credentials of a connected unix socket (struct ucred: pid, uid, gid). */
export function peerCredentials(fd: number): { pid: number; uid: number; gid: number } {
  const buf = Buffer.alloc(12);
  const len = new Uint32Array([12]);
  check(fn('int getsockopt(int fd, int level, int name, _Out_ uint8_t *val, _Inout_ uint32_t *len)')(fd, SOL_SOCKET, SO_PEERCRED, buf, len), 'getsockopt', 'SO_PEERCRED');
  return { pid: buf.readInt32LE(0), uid: buf.readUInt32LE(4), gid: buf.readUInt32LE(8) };
}

const AF_UNIX = 1;

/** Sends one datagram to a unix socket path ('@name' = abstract), e.g. sd_notify's NOTIFY_SOCKET. */
export function sendUnixDatagram(path: string, message: string): void {
  const addr = Buffer.alloc(110);
  addr.writeUInt16LE(AF_UNIX, 0);
  const name = path.startsWith('@') ? Buffer.concat([Buffer.from([0]), Buffer.from(path.slice(1))]) : Buffer.from(path);
  name.copy(addr, 2);
  const addrLen = 2 + name.length + (path.startsWith('@') ? 0 : 1);
  const sock = check(fn('int socket(int domain, int type, int protocol)')(AF_UNIX, arch().socket.SOCK_DGRAM | arch().socket.SOCK_CLOEXEC, 0), 'socket');
  try {
    const msg = Buffer.from(message);
    check(fn('long sendto(int fd, const uint8_t *buf, unsigned long len, int flags, const uint8_t *addr, uint32_t addrlen)')(sock, msg, msg.length, 0, addr, addrLen), 'sendto', path);
  } finally {
    closeRaw(sock);
  }
}
