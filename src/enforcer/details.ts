// What an audit record says about an event besides the decision: the process's comm, the file's
// path, device name and inode. Read after the answer is written (never while an exec waits).
// Also: whether a FAN_OPEN_PERM event is about a loadable ELF object (library or program) at all.

import { readFileSync, readSync } from 'node:fs';
import { readlinkFd } from '../kernel/io.ts';
import { identityOfFd } from '../properties/identity.ts';

export interface EventDetails {
  comm: string;
  path: string;
  dev: string;
  ino: string;
}

const devNames = new Map<bigint, string>();

/** The kernel's audit names a device by its block device name (or major:minor). */
function devName(dev: bigint): string {
  let n = devNames.get(dev);
  if (n !== undefined) return n;
  const major = Number(dev >> 8n) & 0xfff;
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & 0xfff00n));
  n = `${major}:${minor}`;
  try {
    n = /DEVNAME=(\S+)/.exec(readFileSync(`/sys/dev/block/${major}:${minor}/uevent`, 'utf8'))?.[1] ?? n;
  } catch {
    try {
      const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[2] === `${major}:${minor}`);
      n = line?.split(' - ')[1]?.split(' ')[0] ?? n;
    } catch {
      /* keep major:minor */
    }
  }
  devNames.set(dev, n);
  return n;
}

export function eventDetails(fd: number, pid: number): EventDetails {
  let comm = '?';
  try {
    comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    /* the process may be gone */
  }
  let dev = '?';
  let ino = '?';
  try {
    const id = identityOfFd(fd);
    dev = devName(id.dev);
    ino = String(id.ino);
  } catch {
    /* keep ? */
  }
  return { comm, path: readlinkFd(fd) ?? '?', dev, ino };
}

/**
 * ELF ET_DYN (shared objects, PIE executables) or ET_EXEC (non-PIE executables): what ld.so and
 * dlopen map. ET_EXEC counts too: `ld.so ./prog` loads a non-PIE program as well as a PIE one
 * (elf/rtld.c maps the main program itself when run as a command), so deciding only ET_DYN let a
 * denied non-PIE program run through ld.so.
 */
export function isLoadableElf(fd: number): boolean {
  const head = Buffer.alloc(18);
  try {
    if (readSync(fd, head, 0, 18, 0) < 18) return false;
  } catch {
    return false;
  }
  const type = head.readUInt16LE(16);
  return head.readUInt32BE(0) === 0x7f454c46 && (type === ET_EXEC || type === ET_DYN);
}

// e_type values (include/uapi/linux/elf.h).
const ET_EXEC = 2;
const ET_DYN = 3;
