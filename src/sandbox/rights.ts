// Landlock rights, the ABI that introduced each (include/uapi/linux/landlock.h,
// Documentation/userspace-api/landlock.rst), and ward's access groups.

export interface Right {
  readonly name: string;
  readonly bit: bigint;
  readonly abi: number;
  /** May appear in a rule on a file (not only on a directory). */
  readonly onFile: boolean;
}

const fs = (name: string, shift: number, abi: number, onFile = false): Right => ({ name, bit: 1n << BigInt(shift), abi, onFile });

export const FS_RIGHTS: readonly Right[] = [
  fs('execute', 0, 1, true),
  fs('write_file', 1, 1, true),
  fs('read_file', 2, 1, true),
  fs('read_dir', 3, 1),
  fs('remove_dir', 4, 1),
  fs('remove_file', 5, 1),
  fs('make_char', 6, 1),
  fs('make_dir', 7, 1),
  fs('make_reg', 8, 1),
  fs('make_sock', 9, 1),
  fs('make_fifo', 10, 1),
  fs('make_block', 11, 1),
  fs('make_sym', 12, 1),
  fs('refer', 13, 2),
  fs('truncate', 14, 3, true),
  fs('ioctl_dev', 15, 5, true),
  fs('resolve_unix', 16, 9),
];

export const NET_RIGHTS: readonly Right[] = [
  { name: 'bind_tcp', bit: 1n, abi: 4, onFile: false },
  { name: 'connect_tcp', bit: 2n, abi: 4, onFile: false },
  { name: 'bind_udp', bit: 4n, abi: 10, onFile: false },
  { name: 'connect_send_udp', bit: 8n, abi: 10, onFile: false },
];

export const SCOPES: readonly Right[] = [
  { name: 'abstract_unix_socket', bit: 1n, abi: 6, onFile: false },
  { name: 'signal', bit: 2n, abi: 6, onFile: false },
];

export const RESTRICT_FLAGS = {
  log_same_exec_off: { bit: 1, abi: 7 },
  log_new_exec_on: { bit: 2, abi: 7 },
  log_subdomains_off: { bit: 4, abi: 7 },
  tsync: { bit: 8, abi: 8 },
} as const;
export type LogFlag = 'log_same_exec_off' | 'log_new_exec_on' | 'log_subdomains_off';

/** The newest ABI ward knows. */
export const KNOWN_ABI = 10;
/**
 * What `ward run` requires by default: ABI 6 (Linux 6.12) restricts files (with refer, truncate
 * and device ioctl), TCP bind/connect, abstract unix sockets and signals.
 */
export const BASELINE_ABI = 6;

export function bits(rights: readonly Right[], names: readonly string[]): bigint {
  let b = 0n;
  for (const n of names) {
    const r = rights.find((x) => x.name === n);
    if (!r) throw new Error(`unknown right ${n}`);
    b |= r.bit;
  }
  return b;
}

export function namesOf(rights: readonly Right[], mask: bigint): string[] {
  return rights.filter((r) => (mask & r.bit) !== 0n).map((r) => r.name);
}

export function upToAbi(rights: readonly Right[], abi: number): bigint {
  let b = 0n;
  for (const r of rights) if (r.abi <= abi) b |= r.bit;
  return b;
}

export const FILE_RIGHTS = FS_RIGHTS.filter((r) => r.onFile).reduce((a, r) => a | r.bit, 0n);

const RO = ['read_file', 'read_dir'];
// resolve_unix (connecting to a pathname unix socket, ABI 9) is in no group: a socket is granted
// by name (--unix PATH), never because it lies below a writable directory such as /run.
const RW = [...RO, 'write_file', 'remove_dir', 'remove_file', 'make_char', 'make_dir', 'make_reg', 'make_sock', 'make_fifo', 'make_block', 'make_sym', 'truncate', 'ioctl_dev'];

/**
 * Access groups, as landrun and go-landlock name them. `refer` (moving or linking files between
 * directories) is in none of them: like go-landlock's WithRefer it must be asked for, since it
 * lets files change their place in the hierarchy; without it such a move fails with EXDEV and
 * tools like mv fall back to copy + delete.
 */
export const ACCESS_GROUPS = {
  ro: bits(FS_RIGHTS, RO),
  rox: bits(FS_RIGHTS, [...RO, 'execute']),
  rw: bits(FS_RIGHTS, RW),
  rwx: bits(FS_RIGHTS, [...RW, 'execute']),
} as const;
export const RESOLVE_UNIX = bits(FS_RIGHTS, ['resolve_unix']);

function abiOf(rights: readonly Right[], name: string): number {
  const r = rights.find((x) => x.name === name);
  if (!r) throw new Error(`unknown right ${name}`);
  return r.abi;
}

// The ABIs other modules test for, read from the tables above so each fact is stated once.
/** The Landlock ABI that restricts TCP bind and connect (Linux 6.7). */
export const TCP_ABI = abiOf(NET_RIGHTS, 'bind_tcp');
/** The Landlock ABI with scopes: signals and abstract unix sockets (Linux 6.12). */
export const SCOPE_ABI = abiOf(SCOPES, 'signal');
/** The Landlock ABI whose restrict_self can bind every thread of the process (TSYNC, Linux 7.0). */
export const TSYNC_ABI: number = RESTRICT_FLAGS.tsync.abi;
/** The Landlock ABI that restricts connecting to pathname unix sockets. */
export const UNIX_ABI = abiOf(FS_RIGHTS, 'resolve_unix');
/** The Landlock ABI that restricts UDP. */
export const UDP_ABI = abiOf(NET_RIGHTS, 'bind_udp');
export type AccessGroup = keyof typeof ACCESS_GROUPS;
