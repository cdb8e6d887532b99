// The kernel's audit interface (include/uapi/linux/audit.h, netlink.h): a NETLINK_AUDIT socket
// bound to the read-only multicast group (AUDIT_NLGRP_READLOG, needs CAP_AUDIT_READ) receives
// every audit record without becoming the audit daemon; AUDIT_GET/AUDIT_SET read and change
// whether auditing is enabled (CAP_AUDIT_CONTROL). Thin: records come back as (type, text).

import { errnoName } from '../errors.ts';
import { arch } from './arch.ts';
import { KernelError } from './errors.ts';
import { fn, lastErrno } from './ffi.ts';

const AF_NETLINK = 16;
const NETLINK_AUDIT = 9;
const AUDIT_NLGRP_READLOG = 1;
const AUDIT_GET = 1000;
const AUDIT_SET = 1001;
const AUDIT_STATUS_ENABLED = 1;
const NLM_F_REQUEST = 1;
const NLM_F_ACK = 4;
const NLMSG_ERROR = 2;
const MSG_DONTWAIT = 0x40;
// AUDIT_LANDLOCK_ACCESS and AUDIT_LANDLOCK_DOMAIN (Linux 6.15, Landlock ABI 7).
export const AUDIT_LANDLOCK_ACCESS = 1423;
export const AUDIT_LANDLOCK_DOMAIN = 1424;
export const AUDIT_SECCOMP = 1326;

export interface AuditRecord {
  readonly type: number;
  readonly text: string;
}

function fail(what: string): never {
  const e = errnoName(lastErrno());
  throw new KernelError(e, 'audit', `${what}: ${e}`);
}

function socket(groups: number): number {
  const fd = Number(fn('int socket(int domain, int type, int protocol)')(AF_NETLINK, arch().socket.SOCK_RAW | arch().socket.SOCK_CLOEXEC, NETLINK_AUDIT));
  if (fd < 0) fail('socket(AF_NETLINK, NETLINK_AUDIT)');
  const addr = Buffer.alloc(12);
  addr.writeUInt16LE(AF_NETLINK, 0);
  addr.writeUInt32LE(groups, 8);
  if (Number(fn('int bind(int fd, const uint8_t *addr, uint32_t len)')(fd, addr, 12)) !== 0) {
    const err = errnoName(lastErrno());
    fn('int close(int fd)')(fd);
    throw new KernelError(err, 'audit', `bind(NETLINK_AUDIT${groups ? ', AUDIT_NLGRP_READLOG' : ''}): ${err}`);
  }
  return fd;
}

const recv = (fd: number, buf: Buffer, flags: number): number => Number(fn('long recv(int fd, _Out_ uint8_t *buf, size_t len, int flags)')(fd, buf, buf.length, flags));

function request(type: number, payload: Buffer): Buffer {
  const fd = socket(0);
  try {
    const msg = Buffer.alloc(16 + payload.length);
    msg.writeUInt32LE(msg.length, 0);
    msg.writeUInt16LE(type, 4);
    msg.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK, 6);
    msg.writeUInt32LE(1, 8);
    payload.copy(msg, 16);
    if (Number(fn('long send(int fd, const uint8_t *buf, size_t len, int flags)')(fd, msg, msg.length, 0)) < 0) fail('send(audit)');
    const buf = Buffer.alloc(8192);
    for (;;) {
      const n = recv(fd, buf, 0);
      if (n < 0) fail('recv(audit)');
      const t = buf.readUInt16LE(4);
      if (t === NLMSG_ERROR) {
        const err = -buf.readInt32LE(16);
        if (err !== 0) throw new KernelError(errnoName(err), 'audit', `audit request ${type}: ${errnoName(err)}`);
        if (type !== AUDIT_GET) return Buffer.alloc(0);
        continue; // the ACK before (or after) AUDIT_GET's reply
      }
      if (t === type) return Buffer.from(buf.subarray(16, n));
    }
  } finally {
    fn('int close(int fd)')(fd);
  }
}

/** audit_status.enabled: 0 off, 1 on, 2 on and locked. */
export function auditEnabled(): number {
  return request(AUDIT_GET, Buffer.alloc(0)).readUInt32LE(4);
}

export function setAuditEnabled(on: boolean): void {
  const s = Buffer.alloc(40);
  s.writeUInt32LE(AUDIT_STATUS_ENABLED, 0);
  s.writeUInt32LE(on ? 1 : 0, 4);
  request(AUDIT_SET, s);
}

const AUDIT_ADD_RULE = 1011;
const AUDIT_DEL_RULE = 1012;
const AUDIT_FILTER_EXIT = 0x04;
const AUDIT_ALWAYS = 2;
const AUDIT_EQUAL = 0x40000000;
export const AUDIT_ARCH_FIELD = 11;
export const AUDIT_LOGINUID_FIELD = 9;

/** struct audit_rule_data for an exit-filter "always" rule: these syscalls, fields all equal. */
function ruleData(syscalls: readonly number[], fields: ReadonlyArray<readonly [number, number]>): Buffer {
  // flags, action, field_count, mask[64], fields[64], values[64], fieldflags[64], buflen
  const b = Buffer.alloc(12 + 64 * 4 * 4 + 4);
  b.writeUInt32LE(AUDIT_FILTER_EXIT, 0);
  b.writeUInt32LE(AUDIT_ALWAYS, 4);
  b.writeUInt32LE(fields.length, 8);
  for (const nr of syscalls) {
    const o = 12 + Math.floor(nr / 32) * 4;
    b.writeUInt32LE((b.readUInt32LE(o) | (1 << (nr % 32))) >>> 0, o);
  }
  fields.forEach(([field, value], i) => {
    b.writeUInt32LE(field, 12 + 256 + i * 4);
    b.writeUInt32LE(value >>> 0, 12 + 512 + i * 4);
    b.writeUInt32LE(AUDIT_EQUAL, 12 + 768 + i * 4);
  });
  return b;
}

/** Adds an audit rule logging `syscalls` at exit when every field equals its value. */
export function addAuditRule(syscalls: readonly number[], fields: ReadonlyArray<readonly [number, number]>): void {
  request(AUDIT_ADD_RULE, ruleData(syscalls, fields));
}

export function deleteAuditRule(syscalls: readonly number[], fields: ReadonlyArray<readonly [number, number]>): void {
  request(AUDIT_DEL_RULE, ruleData(syscalls, fields));
}

/** A reader of every audit record (the read-only multicast group). */
// A multicast listener whose receive buffer is full loses records silently (the kernel counts
// them nowhere; recv then fails once with ENOBUFS): a watched run's burst of records (a program
// opening hundreds of files at start) must fit. SO_RCVBUFFORCE (root) passes rmem_max.
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const READER_BUFFER = 32 * 1024 * 1024;

export class AuditReader {
  readonly #fd: number;
  readonly #buf = Buffer.alloc(65536);
  /** How often the socket overflowed (records were lost) since it was opened. */
  overflows = 0;
  constructor() {
    this.#fd = socket(1 << (AUDIT_NLGRP_READLOG - 1));
    const size = Buffer.alloc(4);
    size.writeInt32LE(READER_BUFFER, 0);
    const setsockopt = fn('int setsockopt(int fd, int level, int name, const uint8_t *value, uint32_t len)');
    if (Number(setsockopt(this.#fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4)) !== 0) setsockopt(this.#fd, SOL_SOCKET, SO_RCVBUF, size, 4);
  }
  /**
   * The records waiting now (non-blocking), at most `maxReads` datagrams' worth (a multicast
   * datagram carries one record). Bounded: the stream holds every process's records, and any
   * local user can make them faster than they are read (denials in a Landlock sandbox of their
   * own: ~250,000 a second); reading "until none is left" then never returned — 2.7 million
   * records, 660 MB, in one call, the caller's timers and child's exit never seen. What is not
   * read stays in the socket's buffer (or overflows it: `overflows`).
   */
  poll(maxReads = 4096): AuditRecord[] {
    const out: AuditRecord[] = [];
    for (let reads = 0; reads < maxReads; reads++) {
      const n = recv(this.#fd, this.#buf, MSG_DONTWAIT);
      if (n < 0 && errnoName(lastErrno()) === 'ENOBUFS') {
        this.overflows++;
        continue;
      }
      if (n <= 0) return out;
      let o = 0;
      while (o + 16 <= n) {
        const len = this.#buf.readUInt32LE(o);
        const type = this.#buf.readUInt16LE(o + 4);
        if (len < 16 || o + len > n) break;
        out.push({ type, text: this.#buf.toString('utf8', o + 16, o + len).replace(/\0+$/, '') });
        o += (len + 3) & ~3;
      }
    }
    return out;
  }
  close(): void {
    fn('int close(int fd)')(this.#fd);
  }
}
