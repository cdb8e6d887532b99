// The one table of architecture-dependent kernel facts: syscall numbers (which differ between
// x86-64's own table and the generic table arm64 uses) and the open(2) flags whose values differ
// (O_NOFOLLOW, O_DIRECTORY, O_LARGEFILE: arch/arm64 uses the asm-generic values only partly —
// include/uapi/asm-generic/fcntl.h vs arch/arm64/include/uapi/asm/fcntl.h). Values Node already
// exposes (fs.constants, os.constants) are taken from Node, and checked against this table.
// An architecture not listed here fails loudly, naming itself: guessing a syscall number would
// call a different syscall.

import { WardError } from '../errors.ts';

// node:fs through process.getBuiltinModule, not an ESM import: importing it builds its module
// namespace, whose fs.promises getter loads streams and readline (~4 ms of every `ward run`).
const { constants: fsConstants } = process.getBuiltinModule('node:fs');

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
  /** socket(2) types and the flag it shares with open(2) (include/linux/net.h; MIPS alone differs). */
  readonly socket: {
    readonly SOCK_STREAM: number;
    readonly SOCK_DGRAM: number;
    readonly SOCK_RAW: number;
    readonly SOCK_CLOEXEC: number;
  };
  /** AUDIT_ARCH_* for seccomp filters (include/uapi/linux/audit.h). */
  readonly auditArch: number;
  /** System calls that name files, sockets or programs, watched by `ward run --learn`. */
  readonly learn: Readonly<Record<string, number>>;
  /** The device-mapper control ioctl (include/uapi/linux/dm-ioctl.h). */
  readonly dm: DmIoctlLayout;
  /** This architecture's user-space ABI as the dynamic loader sees it (ward run --add-libs). */
  readonly libs: LibsAbi;
}

/** What finding a program's libraries needs to know about the machine (glibc, Debian layout). */
export interface LibsAbi {
  /** ELF e_machine of this machine's programs (include/uapi/linux/elf-em.h). */
  readonly elfMachine: number;
  /** Debian's multiarch triplet: the library directories /lib/TRIPLET and /usr/lib/TRIPLET. */
  readonly multiarch: string;
  /** The ABI tag of this machine's 64-bit libraries in /etc/ld.so.cache (glibc sysdeps/generic/dl-cache.h, FLAG_*_LIB64). */
  readonly ldCacheFlag: number;
  /** glibc-hwcaps subdirectories ld.so tries first, best first (glibc elf/dl-hwcaps*; ward lists none for arm64). */
  readonly glibcHwcaps: readonly string[];
}

/**
 * struct dm_ioctl and struct dm_target_spec (include/uapi/linux/dm-ioctl.h, interface 4.x) and
 * the one command ward issues. Both structs have only naturally aligned fixed-size fields, so the
 * offsets are the same on x86-64 and arm64; the ioctl number uses the generic _IOC encoding that
 * both share (dir << 30 | size << 16 | type << 8 | nr; include/uapi/asm-generic/ioctl.h).
 */
export interface DmIoctlLayout {
  /** _IOWR(DM_IOCTL=0xfd, DM_TABLE_STATUS_CMD=12, struct dm_ioctl). */
  readonly DM_TABLE_STATUS: number;
  /** The interface version ward speaks: major 4 (the kernel refuses another major, EINVAL). */
  readonly version: readonly [number, number, number];
  /** sizeof(struct dm_ioctl): 312. */
  readonly sizeofDmIoctl: number;
  /** Offsets in struct dm_ioctl. */
  readonly ioctl: {
    readonly version: number;
    readonly data_size: number;
    readonly data_start: number;
    readonly target_count: number;
    readonly open_count: number;
    readonly flags: number;
    readonly event_nr: number;
    readonly dev: number;
    readonly name: number;
    readonly uuid: number;
  };
  /** sizeof(struct dm_target_spec): 40; the parameter string follows it. */
  readonly sizeofTargetSpec: number;
  /** Offsets in struct dm_target_spec. */
  readonly spec: {
    readonly sector_start: number;
    readonly length: number;
    readonly status: number;
    readonly next: number;
    readonly target_type: number;
  };
  /** DM_MAX_TYPE_NAME: target_type is a NUL-padded char[16]. */
  readonly maxTypeName: number;
  readonly flags: {
    /** In: return the table (STATUSTYPE_TABLE) rather than the target's runtime status. */
    readonly DM_STATUS_TABLE_FLAG: number;
    /** Out: the device has a live table. */
    readonly DM_ACTIVE_PRESENT_FLAG: number;
    /** Out: the buffer was too small; nothing in it is complete. */
    readonly DM_BUFFER_FULL_FLAG: number;
  };
}

const DM_IOCTL_SIZE = 312; // 3*4 version + 7*4 fields + padding to 8 + u64 dev + 128 name + 129 uuid + 7 data
const DM_GENERIC: DmIoctlLayout = {
  DM_TABLE_STATUS: ((3 << 30) | (DM_IOCTL_SIZE << 16) | (0xfd << 8) | 12) >>> 0, // 0xc138fd0c
  version: [4, 0, 0],
  sizeofDmIoctl: DM_IOCTL_SIZE,
  ioctl: { version: 0, data_size: 12, data_start: 16, target_count: 20, open_count: 24, flags: 28, event_nr: 32, dev: 40, name: 48, uuid: 176 },
  sizeofTargetSpec: 40,
  spec: { sector_start: 0, length: 8, status: 16, next: 20, target_type: 24 },
  maxTypeName: 16,
  flags: { DM_STATUS_TABLE_FLAG: 1 << 4, DM_ACTIVE_PRESENT_FLAG: 1 << 5, DM_BUFFER_FULL_FLAG: 1 << 8 },
};

// include/linux/net.h (enum sock_type; ARCH_HAS_SOCKET_TYPES only on MIPS); SOCK_CLOEXEC is
// O_CLOEXEC (asm-generic/fcntl.h), the same on both architectures here.
const SOCKET_GENERIC: ArchTable['socket'] = { SOCK_STREAM: 1, SOCK_DGRAM: 2, SOCK_RAW: 3, SOCK_CLOEXEC: 0o2000000 };

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
  socket: SOCKET_GENERIC,
  auditArch: 0xc000003e, // AUDIT_ARCH_X86_64 = EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
  learn: {
    open: 2, creat: 85, openat: 257, openat2: 437, execve: 59, execveat: 322, connect: 42, bind: 49,
    mkdir: 83, mkdirat: 258, rmdir: 84, unlink: 87, unlinkat: 263, rename: 82, renameat: 264, renameat2: 316,
    truncate: 76, symlink: 88, symlinkat: 266, link: 86, linkat: 265, mknod: 133, mknodat: 259,
  },
  dm: DM_GENERIC,
  libs: { elfMachine: 62 /* EM_X86_64 */, multiarch: 'x86_64-linux-gnu', ldCacheFlag: 0x0300 /* FLAG_X8664_LIB64 */, glibcHwcaps: ['x86-64-v4', 'x86-64-v3', 'x86-64-v2'] },
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
  socket: SOCKET_GENERIC,
  auditArch: 0xc00000b7, // AUDIT_ARCH_AARCH64 = EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
  // The generic table has only the *at forms.
  learn: {
    openat: 56, openat2: 437, execve: 221, execveat: 281, connect: 203, bind: 200, mkdirat: 34, unlinkat: 35,
    renameat: 38, renameat2: 276, truncate: 45, symlinkat: 36, linkat: 37, mknodat: 33,
  },
  dm: DM_GENERIC,
  libs: { elfMachine: 183 /* EM_AARCH64 */, multiarch: 'aarch64-linux-gnu', ldCacheFlag: 0x0a00 /* FLAG_AARCH64_LIB64 */, glibcHwcaps: [] },
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

// fs-verity's FS_IOC_READ_VERITY_METADATA (include/uapi/linux/fsverity.h): _IOWR('f', 135,
// struct fsverity_read_metadata_arg), the struct being five __u64 (metadata_type, offset,
// length, buf_ptr, __reserved) = 40 bytes. The _IOC encoding (dir<<30 | size<<16 | type<<8 | nr)
// is asm-generic's, the same on both architectures in the tables above.
export const FS_IOC_READ_VERITY_METADATA = 0xc0286687;
export const FSVERITY_READ_METADATA_ARG_SIZE = 40;
export const FS_VERITY_METADATA_TYPE_MERKLE_TREE = 1;
export const FS_VERITY_METADATA_TYPE_DESCRIPTOR = 2;
export const FS_VERITY_METADATA_TYPE_SIGNATURE = 3;
/** fs/verity/enable.c: FS_VERITY_MAX_DESCRIPTOR_SIZE (16384) − sizeof(struct fsverity_descriptor) (256). */
export const FS_VERITY_MAX_SIGNATURE_SIZE = 16384 - 256;
