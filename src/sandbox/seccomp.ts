// The seccomp complement to Landlock: what this kernel's Landlock cannot restrict, refused by a
// filter on syscall numbers and plain argument values (seccomp cannot read memory, so it can
// refuse creating a kind of socket but cannot tell one socket path from another).
//
// - TIOCSTI / TIOCLINUX ioctls: pushing keystrokes into (or pasting from) a terminal that CMD
//   shares with its caller (CVE-2017-5226). The command is `unsigned int` in the kernel
//   (fs/ioctl.c), so only its low 32 bits are compared: a filter on the whole 64-bit register
//   is bypassed by setting the upper half (CVE-2019-10063, flatpak).
// - AF_UNIX sockets (unless allowed): before Landlock ABI 9 connecting to pathname unix sockets
//   (the ward daemon, docker.sock, D-Bus) is unrestricted, and connect() only carries a pointer.
//   socketpair(2) stays allowed: it reaches nothing by name.
// - When the network is restricted: every socket Landlock's TCP rules do not govern — UDP (before
//   ABI 10; unless --allow-udp), SCTP, MPTCP and other protocols, raw and packet sockets, and
//   families other than unix, inet, inet6 and netlink (vsock, bluetooth, tipc, …).
// - TCP Fast Open (sendto/sendmsg/sendmmsg with MSG_FASTOPEN) when the network is restricted:
//   it connects inside sendmsg without the connect hook Landlock's TCP rules use, so on this
//   kernel it reaches any port (tested).
// - listen(2), when the network is restricted and no port may be bound: listening on an unbound
//   TCP socket binds an ephemeral port without the bind hook Landlock's rules use (tested here).
//   seccomp cannot tell a bound socket from an unbound one, so with --bind-tcp (or unix sockets)
//   listen stays allowed and that gap remains (docs/sandbox.md).
// - io_uring_setup: io_uring can create sockets and connect them without the syscalls above.
// - When CMD shares the caller's session (ward leads its process group, as a shell job does, or
//   --share-session): TIOCSPGRP (tcsetpgrp) and setpgid() into another process group. A process
//   of the session that ignores SIGTTOU may make its group the terminal's foreground
//   (drivers/tty/tty_jobctrl.c, tty_check_change) or join the foreground group of the same
//   session (kernel/sys.c, setpgid): either way a sandboxed process left running after CMD read
//   what the user then typed to the shell (tested, root and nobody). setpgid(pid, 0) — a new
//   group of one's own — stays allowed; joining any other group is refused, since seccomp cannot
//   tell one of the sandbox's groups from the shell's.
// - SysV IPC (unless --allow-sysv-ipc): shared memory segments, message queues and semaphore
//   sets live in the IPC namespace, named by a number, and are checked only against their mode
//   (ipc/util.c ipcperms): a sandboxed process attached to, read and rewrote a segment of a
//   process outside, of the same user (tested). Landlock does not mediate them.
// - The key management system calls (unless --allow-keyrings): the user keyring (@u) and the
//   user session keyring are per user, not per process tree, and are reachable by every process
//   of that user (security/keys/process_keys.c); a sandboxed process read a key the caller added.
//
// Socket families, types and protocols are `int` in the kernel (net/socket.c): compared masked
// to 32 bits, or with "greater than" so that garbage in the upper half is refused, never passed.

import { arch, sys } from '../kernel/arch.ts';
import {
  AF_INET,
  AF_INET6,
  AF_MAX,
  AF_NETLINK,
  AF_UNIX,
  IPPROTO_TCP,
  MSG_FASTOPEN,
  SCMP_ACT_ALLOW,
  SOCK_TYPE_MASK,
  SeccompFilter,
  TIOCLINUX,
  TIOCSPGRP,
  TIOCSTI,
  scmpActErrno,
  type ArgCmp,
} from '../kernel/seccomp.ts';
import { ERRNO } from '../errors.ts';

const IPPROTO_UDP = 17;
const LOW32 = 0xffffffffn;

export interface SeccompRequest {
  /** Allow creating AF_UNIX sockets (so connecting to pathname unix sockets). */
  readonly unixSockets: boolean;
  /** The network is restricted (Landlock TCP rules apply). */
  readonly restrictNet: boolean;
  readonly allowUdp: boolean;
  /** listen(2) allowed (a --bind-tcp port or unix sockets); otherwise refused with the network restricted. */
  readonly allowListen?: boolean;
  /** CMD shares the caller's session and terminal: refuse taking the terminal's foreground. */
  readonly sharedSession?: boolean;
  /** Allow SysV IPC (shared memory, message queues, semaphores of the IPC namespace). */
  readonly sysvIpc?: boolean;
  /** Allow the key management system calls (the user's keyrings). */
  readonly keyrings?: boolean;
  /** Audit each refusal (for --log-denials). */
  readonly log?: boolean;
}

export interface SeccompRule {
  readonly syscall: 'ioctl' | 'socket' | 'io_uring_setup' | 'sendto' | 'sendmsg' | 'sendmmsg' | 'listen' | 'setpgid' | SysvIpcCall | KeyringCall;
  readonly cmps: readonly ArgCmp[];
  readonly errno: keyof typeof ERRNO;
}

export const SYSV_IPC_CALLS = ['shmget', 'shmat', 'shmctl', 'shmdt', 'semget', 'semop', 'semctl', 'semtimedop', 'msgget', 'msgsnd', 'msgrcv', 'msgctl'] as const;
export const KEYRING_CALLS = ['add_key', 'request_key', 'keyctl'] as const;
type SysvIpcCall = (typeof SYSV_IPC_CALLS)[number];
type KeyringCall = (typeof KEYRING_CALLS)[number];

const eq32 = (arg: number, v: number): ArgCmp => ({ arg, op: 'masked_eq', a: LOW32, b: BigInt(v) });

/** The rules, pure (for --explain and tests). Default action: allow. */
export function seccompRules(req: SeccompRequest): SeccompRule[] {
  const rules: SeccompRule[] = [
    { syscall: 'ioctl', cmps: [eq32(1, TIOCSTI)], errno: 'EPERM' },
    { syscall: 'ioctl', cmps: [eq32(1, TIOCLINUX)], errno: 'EPERM' },
    { syscall: 'io_uring_setup', cmps: [], errno: 'EPERM' },
  ];
  if (req.sharedSession) {
    rules.push({ syscall: 'ioctl', cmps: [eq32(1, TIOCSPGRP)], errno: 'EPERM' });
    // pid_t is int: any bit set in the register is refused (garbage above bit 31 included).
    rules.push({ syscall: 'setpgid', cmps: [{ arg: 1, op: 'ne', a: 0n }], errno: 'EPERM' });
  }
  if (!req.sysvIpc) for (const c of SYSV_IPC_CALLS) rules.push({ syscall: c, cmps: [], errno: 'EPERM' });
  if (!req.keyrings) for (const c of KEYRING_CALLS) rules.push({ syscall: c, cmps: [], errno: 'EPERM' });
  if (!req.unixSockets) rules.push({ syscall: 'socket', cmps: [eq32(0, AF_UNIX)], errno: 'EACCES' });
  if (req.restrictNet) {
    // flags: sendto(fd, buf, len, flags, …), sendmsg(fd, msg, flags), sendmmsg(fd, vec, n, flags).
    const fastopen = (arg: number): ArgCmp => ({ arg, op: 'masked_eq', a: BigInt(MSG_FASTOPEN), b: BigInt(MSG_FASTOPEN) });
    rules.push({ syscall: 'sendto', cmps: [fastopen(3)], errno: 'EACCES' });
    rules.push({ syscall: 'sendmsg', cmps: [fastopen(2)], errno: 'EACCES' });
    rules.push({ syscall: 'sendmmsg', cmps: [fastopen(3)], errno: 'EACCES' });
    if (!req.allowListen) rules.push({ syscall: 'listen', cmps: [], errno: 'EACCES' });
    const families = new Set([AF_UNIX, AF_INET, AF_INET6, AF_NETLINK]);
    for (let f = 0; f < AF_MAX; f++) if (!families.has(f)) rules.push({ syscall: 'socket', cmps: [eq32(0, f)], errno: 'EACCES' });
    rules.push({ syscall: 'socket', cmps: [{ arg: 0, op: 'gt', a: BigInt(AF_MAX - 1) }], errno: 'EACCES' });
    const { SOCK_STREAM, SOCK_DGRAM } = arch().socket;
    for (const fam of [AF_INET, AF_INET6]) {
      // Types: only stream (TCP), and datagram (UDP) with --allow-udp.
      for (let t = 0; t <= SOCK_TYPE_MASK; t++) {
        if (t === SOCK_STREAM || (t === SOCK_DGRAM && req.allowUdp)) continue;
        rules.push({ syscall: 'socket', cmps: [eq32(0, fam), { arg: 1, op: 'masked_eq', a: BigInt(SOCK_TYPE_MASK), b: BigInt(t) }], errno: 'EACCES' });
      }
      // Protocols: a stream socket must be TCP (0 or 6), a datagram socket UDP (0 or 17).
      const allowed: Array<[number, number]> = [[SOCK_STREAM, IPPROTO_TCP]];
      if (req.allowUdp) allowed.push([SOCK_DGRAM, IPPROTO_UDP]);
      for (const [type, proto] of allowed) {
        const base = [eq32(0, fam), { arg: 1, op: 'masked_eq', a: BigInt(SOCK_TYPE_MASK), b: BigInt(type) } as ArgCmp];
        for (let p = 1; p < proto; p++) rules.push({ syscall: 'socket', cmps: [...base, eq32(2, p)], errno: 'EACCES' });
        rules.push({ syscall: 'socket', cmps: [...base, { arg: 2, op: 'gt', a: BigInt(proto) }], errno: 'EACCES' });
      }
    }
  }
  return rules;
}

/** One line per thing the filter refuses, for --explain. */
export function describeSeccomp(req: SeccompRequest): string[] {
  const out = ['TIOCSTI and TIOCLINUX ioctls (typing into or pasting from a terminal)', 'io_uring (it can open and connect sockets past the filter)'];
  if (req.sharedSession) out.push("taking the shared terminal's foreground: tcsetpgrp (TIOCSPGRP) and setpgid() into another process group (a process left behind would read what the user types next)");
  if (!req.sysvIpc) out.push("SysV IPC: shared memory, message queues, semaphores (any process's objects are reachable by number; --allow-sysv-ipc)");
  if (!req.keyrings) out.push("the kernel keyrings: add_key, request_key, keyctl (the user's keyrings are shared by all its processes; --allow-keyrings)");
  if (!req.unixSockets) out.push('creating unix sockets, so connecting to any pathname unix socket (socketpair still works)');
  if (req.restrictNet) {
    out.push(req.allowUdp ? 'inet sockets other than TCP and UDP' : 'inet sockets other than TCP (UDP, SCTP, MPTCP, raw, ICMP)');
    out.push('TCP Fast Open sends (MSG_FASTOPEN connects past Landlock\'s connect rules)');
    if (!req.allowListen) out.push('listen() (on an unbound socket it binds an ephemeral port past Landlock\'s bind rules; allowed with --bind-tcp)');
    out.push('socket families other than unix, inet, inet6 and netlink');
  }
  return out;
}

/**
 * Builds the filter (libseccomp is loaded here, so do it before Landlock forbids reading it);
 * the caller loads it on the thread that execs (after no_new_privs) and releases it.
 */
export function buildSeccomp(req: SeccompRequest): SeccompFilter {
  const f = new SeccompFilter(SCMP_ACT_ALLOW);
  try {
    const nr = sys();
    for (const r of seccompRules(req)) f.add(scmpActErrno(ERRNO[r.errno]), nr[r.syscall], r.cmps);
    if (req.log) f.logRefusals();
    return f;
  } catch (e) {
    f.release();
    throw e;
  }
}
