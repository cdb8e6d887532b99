// The one table of architecture-dependent kernel facts: syscall numbers (which differ between
// x86-64's own table and the generic table arm64 uses) and the open(2) flags whose values differ
// (O_NOFOLLOW, O_DIRECTORY, O_LARGEFILE: arch/arm64 uses the asm-generic values only partly —
// include/uapi/asm-generic/fcntl.h vs arch/arm64/include/uapi/asm/fcntl.h). Values Node already
// exposes (fs.constants, os.constants) are taken from Node, and checked against this table.
// An architecture not listed here fails loudly, naming itself: guessing a syscall number would
// call a different syscall.

import { constants as fsConstants } from 'node:fs';
import { WardError } from '../errors.ts';

export interface ArchTable {
  /** The name the kernel's uname -m gives. */
  readonly machine: string;
  readonly sys: {
    readonly execveat: number;
    readonly faccessat2: number;
    readonly landlock_create_ruleset: number;
    readonly landlock_add_rule: number;
    readonly landlock_restrict_self: number;
    readonly lsm_list_modules: number;
    readonly close_range: number;
    readonly seccomp: number;
    readonly bpf: number;
    readonly pidfd_open: number;
    readonly capget: number;
    readonly capset: number;
    readonly setsid: number;
    readonly ioctl: number;
    readonly socket: number;
    readonly io_uring_setup: number;
    readonly sendto: number;
    readonly sendmsg: number;
    readonly sendmmsg: number;
    readonly listen: number;
    // SysV IPC and the key management system calls (refused by ward run's seccomp layer).
    readonly shmget: number;
    readonly shmat: number;
    readonly shmctl: number;
    readonly shmdt: number;
    readonly semget: number;
    readonly semop: number;
    readonly semctl: number;
    readonly semtimedop: number;
    readonly msgget: number;
    readonly msgsnd: number;
    readonly msgrcv: number;
    readonly msgctl: number;
    readonly add_key: number;
    readonly request_key: number;
    readonly keyctl: number;
    readonly setpgid: number;
  };
  readonly open: {
    readonly O_NOFOLLOW: number;
    readonly O_DIRECTORY: number;
    readonly O_LARGEFILE: number;
  };
  /** AUDIT_ARCH_* for seccomp filters (include/uapi/linux/audit.h). */
  readonly auditArch: number;
  /** System calls that name files, sockets or programs, watched by `ward run --learn`. */
  readonly learn: Readonly<Record<string, number>>;
}

// arch/x86/entry/syscalls/syscall_64.tbl; arch/x86/include/uapi/asm (generic fcntl values).
const X64: ArchTable = {
  machine: 'x86_64',
  sys: {
    execveat: 322,
    faccessat2: 439,
    landlock_create_ruleset: 444,
    landlock_add_rule: 445,
    landlock_restrict_self: 446,
    lsm_list_modules: 461,
    close_range: 436,
    seccomp: 317,
    bpf: 321,
    pidfd_open: 434,
    capget: 125,
    capset: 126,
    setsid: 112,
    ioctl: 16,
    socket: 41,
    io_uring_setup: 425,
    sendto: 44,
    sendmsg: 46,
    sendmmsg: 307,
    listen: 50,
    shmget: 29,
    shmat: 30,
    shmctl: 31,
    shmdt: 67,
    semget: 64,
    semop: 65,
    semctl: 66,
    semtimedop: 220,
    msgget: 68,
    msgsnd: 69,
    msgrcv: 70,
    msgctl: 71,
    add_key: 248,
    request_key: 249,
    keyctl: 250,
    setpgid: 109,
  },
  open: { O_NOFOLLOW: 0o400000, O_DIRECTORY: 0o200000, O_LARGEFILE: 0o100000 },
  auditArch: 0xc000003e, // AUDIT_ARCH_X86_64 = EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
  learn: {
    open: 2, creat: 85, openat: 257, openat2: 437, execve: 59, execveat: 322, connect: 42, bind: 49,
    mkdir: 83, mkdirat: 258, rmdir: 84, unlink: 87, unlinkat: 263, rename: 82, renameat: 264, renameat2: 316,
    truncate: 76, symlink: 88, symlinkat: 266, link: 86, linkat: 265, mknod: 133, mknodat: 259,
  },
};

// include/uapi/asm-generic/unistd.h; arch/arm64/include/uapi/asm/fcntl.h.
const ARM64: ArchTable = {
  machine: 'aarch64',
  sys: {
    execveat: 281,
    faccessat2: 439,
    landlock_create_ruleset: 444,
    landlock_add_rule: 445,
    landlock_restrict_self: 446,
    lsm_list_modules: 461,
    close_range: 436,
    seccomp: 277,
    bpf: 280,
    pidfd_open: 434,
    capget: 90,
    capset: 91,
    setsid: 157,
    ioctl: 29,
    socket: 198,
    io_uring_setup: 425,
    sendto: 206,
    sendmsg: 211,
    sendmmsg: 269,
    listen: 201,
    shmget: 194,
    shmat: 196,
    shmctl: 195,
    shmdt: 197,
    semget: 190,
    semop: 193,
    semctl: 191,
    semtimedop: 192,
    msgget: 186,
    msgsnd: 189,
    msgrcv: 188,
    msgctl: 187,
    add_key: 217,
    request_key: 218,
    keyctl: 219,
    setpgid: 154,
  },
  open: { O_NOFOLLOW: 0o100000, O_DIRECTORY: 0o40000, O_LARGEFILE: 0o400000 },
  auditArch: 0xc00000b7, // AUDIT_ARCH_AARCH64 = EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
  // The generic table has only the *at forms.
  learn: {
    openat: 56, openat2: 437, execve: 221, execveat: 281, connect: 203, bind: 200, mkdirat: 34, unlinkat: 35,
    renameat: 38, renameat2: 276, truncate: 45, symlinkat: 36, linkat: 37, mknodat: 33,
  },
};

const TABLES: Readonly<Record<string, ArchTable>> = { x64: X64, arm64: ARM64 };

/** The table for `arch` (Node's process.arch names), or a typed error naming it. */
export function archTable(arch: string = process.arch): ArchTable {
  const table = TABLES[arch];
  if (!table) {
    throw new WardError(
      'ENOSYS',
      `ward has no kernel table for the ${arch} architecture (known: ${Object.keys(TABLES).join(', ')}); ` +
        'its syscall numbers and flag values would be guesses, so kernel features are refused here',
    );
  }
  // Where Node knows the value, it must agree with the table: a mismatch means the table is wrong.
  if (arch === process.arch && fsConstants.O_NOFOLLOW !== undefined && fsConstants.O_NOFOLLOW !== table.open.O_NOFOLLOW) {
    throw new WardError('EINVAL', `kernel table for ${arch}: O_NOFOLLOW ${table.open.O_NOFOLLOW} disagrees with Node's ${fsConstants.O_NOFOLLOW}`);
  }
  return table;
}

export const KNOWN_ARCHES: readonly string[] = Object.keys(TABLES);

let current: ArchTable | undefined;

/** The running architecture's table (cached). Throws on an unknown architecture. */
export function arch(): ArchTable {
  current ??= archTable();
  return current;
}

/** Syscall numbers for the running architecture. */
export function sys(): ArchTable['sys'] {
  return arch().sys;
}
