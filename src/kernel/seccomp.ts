// seccomp filters through libseccomp (Debian: libseccomp2), loaded with koffi. Thin: a filter is
// a default action plus rules "this syscall, with these argument comparisons → this action";
// which syscalls to refuse is decided in src/sandbox/seccomp.ts. seccomp_load acts on the
// calling thread only (libseccomp leaves SCMP_FLTATR_CTL_TSYNC off), like landlock_restrict_self:
// load it on the thread that then execs.

import { KernelError } from './errors.ts';
import { errnoName } from '../errors.ts';
import { ffi } from './ffi.ts';

type Native = (...args: unknown[]) => number | bigint | unknown;

// include/seccomp.h (libseccomp 2.5)
export const SCMP_ACT_ALLOW = 0x7fff0000;
export const SCMP_ACT_KILL_PROCESS = 0x80000000;
export const scmpActErrno = (errno: number): number => 0x00050000 | (errno & 0xffff);

export type Compare = 'ne' | 'lt' | 'le' | 'eq' | 'ge' | 'gt' | 'masked_eq';
// enum scmp_compare
const COMPARE: Readonly<Record<Compare, number>> = { ne: 1, lt: 2, le: 3, eq: 4, ge: 5, gt: 6, masked_eq: 7 };

/** One argument comparison: for masked_eq, (arg & a) == b; otherwise arg OP a. */
export interface ArgCmp {
  readonly arg: number;
  readonly op: Compare;
  readonly a: bigint;
  readonly b?: bigint;
}

// include/uapi/asm-generic/ioctls.h (x86-64 and arm64 use the generic values).
export const TIOCSTI = 0x5412;
export const TIOCLINUX = 0x541c;
export const TIOCSPGRP = 0x5410;
// include/linux/socket.h
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const AF_MAX = 46;
// include/linux/net.h: the low bits of socket(2)'s type argument are the type (arch.ts has the
// types); the rest carries SOCK_NONBLOCK/SOCK_CLOEXEC.
export const SOCK_TYPE_MASK = 0xf;
// include/linux/socket.h: send with TCP Fast Open (connects without connect(2)).
export const MSG_FASTOPEN = 0x20000000;
// include/uapi/linux/in.h
export const IPPROTO_TCP = 6;

// enum scmp_filter_attr: SCMP_FLTATR_CTL_LOG (SECCOMP_FILTER_FLAG_LOG: every action but allow is logged).
const SCMP_FLTATR_CTL_LOG = 6;

let lib: { init: Native; ruleAdd: Native; load: Native; release: Native; version: Native; attrSet: Native } | undefined;

function libseccomp(): NonNullable<typeof lib> {
  if (!lib) {
    let l;
    try {
      l = ffi().load('libseccomp.so.2');
    } catch (e) {
      throw new KernelError('ENOSYS', 'seccomp', `cannot load libseccomp (${(e as Error).message}); install it: apt-get install libseccomp2`);
    }
    // struct scmp_arg_cmp { unsigned int arg; enum scmp_compare op; scmp_datum_t datum_a, datum_b; }
    const ffiLib = ffi();
    ffiLib.struct('scmp_arg_cmp', { arg: 'uint32_t', op: 'int', datum_a: 'uint64_t', datum_b: 'uint64_t' });
    ffiLib.struct('scmp_version', { major: 'uint32_t', minor: 'uint32_t', micro: 'uint32_t' });
    lib = {
      init: l.func('void *seccomp_init(uint32_t def_action)') as Native,
      ruleAdd: l.func('int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const scmp_arg_cmp *arg_array)') as Native,
      load: l.func('int seccomp_load(void *ctx)') as Native,
      release: l.func('void seccomp_release(void *ctx)') as Native,
      version: l.func('const scmp_version *seccomp_version()') as Native,
      attrSet: l.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)') as Native,
    };
  }
  return lib;
}

/** libseccomp's version ("2.5.4"), or an error when it is missing. */
export function libseccompVersion(): string {
  // seccomp_version() returns a pointer to a static struct: koffi hands back the pointer, decoded here.
  const v = ffi().decode(libseccomp().version(), 'scmp_version') as { major: number; minor: number; micro: number };
  return `${v.major}.${v.minor}.${v.micro}`;
}

function checkRc(rc: unknown, what: string): void {
  const n = Number(rc);
  if (n < 0) {
    const name = errnoName(-n);
    throw new KernelError(name, 'seccomp', `${what} failed: ${name}`);
  }
}

export class SeccompFilter {
  #ctx: unknown;
  constructor(defaultAction: number) {
    this.#ctx = libseccomp().init(defaultAction);
    if (!this.#ctx) throw new KernelError('ENOMEM', 'seccomp', 'seccomp_init failed');
  }

  /** A rule: `nr` (the native syscall number) with every comparison true → `action`. */
  add(action: number, nr: number, cmps: readonly ArgCmp[] = []): void {
    const arr = cmps.map((c) => ({ arg: c.arg, op: COMPARE[c.op], datum_a: c.a, datum_b: c.b ?? 0n }));
    checkRc(libseccomp().ruleAdd(this.#ctx, action >>> 0, nr, arr.length, arr.length ? arr : null), `seccomp_rule_add(${nr})`);
  }

  /** Asks the kernel to write an audit record (AUDIT_SECCOMP) for every refusal. */
  logRefusals(): void {
    checkRc(libseccomp().attrSet(this.#ctx, SCMP_FLTATR_CTL_LOG, 1), 'seccomp_attr_set(SCMP_FLTATR_CTL_LOG)');
  }

  /** Loads the filter on the calling thread (needs no_new_privs or CAP_SYS_ADMIN). */
  load(): void {
    checkRc(libseccomp().load(this.#ctx), 'seccomp_load');
  }

  release(): void {
    if (this.#ctx) libseccomp().release(this.#ctx);
    this.#ctx = undefined;
  }
}
