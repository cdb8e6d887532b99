// Capabilities of the calling thread (include/uapi/linux/capability.h, prctl.h). Dropping them
// all: the bounding set (what any later execve can ever grant — needs CAP_SETPCAP), the ambient
// set, then inheritable, permitted and effective through capset. Like every credential change
// these act on the calling thread only: do it on the thread that then execs.

import { errnoName } from '../errors.ts';
import { KernelError } from './errors.ts';
import { fn, lastErrno, syscall, sys } from './ffi.ts';

// node:fs through process.getBuiltinModule, not an ESM import: importing it builds its module
// namespace, whose fs.promises getter loads streams and readline (~4 ms of every `ward run`).
const { readFileSync } = process.getBuiltinModule('node:fs');

const PR_CAPBSET_READ = 23;
const PR_CAPBSET_DROP = 24;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;
const _LINUX_CAPABILITY_VERSION_3 = 0x20080522;
export const CAP_SETPCAP = 8;

function prctl(option: number, a2 = 0, a3 = 0): number {
  const r = Number(fn('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)')(option, a2, a3, 0, 0));
  return r === -1 ? -lastErrno() : r;
}

/** The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap). */
export function capLastCap(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
  } catch {
    return 40; // CAP_CHECKPOINT_RESTORE, the last one as of Linux 6.18
  }
}

export interface CapSets {
  readonly effective: bigint;
  readonly permitted: bigint;
  readonly inheritable: bigint;
}

/** capget for the calling thread (v3: two 32-bit words per set). */
export function capGet(): CapSets {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(_LINUX_CAPABILITY_VERSION_3, 0);
  const data = Buffer.alloc(24);
  const r = syscall(sys().capget, 'uint8_t *', header, 'uint8_t *', data);
  if (r !== 0) throw new KernelError(errnoName(lastErrno()), 'capget', `capget failed: ${errnoName(lastErrno())}`);
  const word = (set: number) => BigInt(data.readUInt32LE(set * 4)) | (BigInt(data.readUInt32LE(12 + set * 4)) << 32n);
  return { effective: word(0), permitted: word(1), inheritable: word(2) };
}

/** Whether `cap` is still in the calling thread's bounding set. */
export function inBoundingSet(cap: number): boolean {
  return prctl(PR_CAPBSET_READ, cap) === 1;
}

/**
 * Drops every capability of the calling thread. The bounding set can only be emptied with
 * CAP_SETPCAP; without it (an unprivileged caller) it is left as is, which no_new_privs makes
 * harmless (execve then grants no file or setuid capabilities). Returns whether the bounding set
 * was emptied. Read `lastCap` (capLastCap()) before a sandbox forbids reading /proc.
 */
export function dropAllCapabilities(lastCap = capLastCap()): boolean {
  let bounding = true;
  if ((capGet().effective & (1n << BigInt(CAP_SETPCAP))) !== 0n) {
    for (let cap = 0; cap <= lastCap; cap++) {
      const r = prctl(PR_CAPBSET_DROP, cap);
      if (r < 0 && -r !== 22 /* EINVAL: not a capability this kernel knows */) {
        throw new KernelError(errnoName(-r), 'prctl', `PR_CAPBSET_DROP ${cap} failed: ${errnoName(-r)}`);
      }
    }
  } else {
    bounding = false;
  }
  const amb = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL);
  if (amb < 0 && -amb !== 22) throw new KernelError(errnoName(-amb), 'prctl', `PR_CAP_AMBIENT_CLEAR_ALL failed: ${errnoName(-amb)}`);
  const header = Buffer.alloc(8);
  header.writeUInt32LE(_LINUX_CAPABILITY_VERSION_3, 0);
  const r = syscall(sys().capset, 'uint8_t *', header, 'uint8_t *', Buffer.alloc(24));
  if (r !== 0) throw new KernelError(errnoName(lastErrno()), 'capset', `capset (drop all) failed: ${errnoName(lastErrno())}`);
  return bounding;
}
