// The bytes of ward's BPF maps (bpf/ward.h, little-endian, no holes) and what user space computes
// into them: per policy, the "uncovered" table (the decision for anything no verdict covers, from
// what the kernel itself knows), verdicts for exact file identities, and fs-verity digest
// verdicts. No kernel calls here: test/bpf/maps.test.ts checks the encodings on any host.

import type { FileContext } from '../policy/context.ts';
import { StaticFileContext } from '../policy/context.ts';
import { compilePolicy } from '../policy/compiled.ts';
import { OPS, type Policy } from '../policy/model.ts';

export const WARD_NOPS = 8; // OPS + WARD_OP_INVALID
export const OP_INVALID = 7;
export const ALLOW = 1;
export const DENY = 2;

export const F_POLICY = 1;
export const F_ENFORCE = 2;
export const F_AUDIT_SUCCESS = 4;

export const CONFIG_SIZE = 16 + WARD_NOPS * 4;
export const VERDICT_KEY_SIZE = 16;
export const VERDICT_SIZE = 24;
export const DIGEST_KEY_SIZE = 72;
export const DIGEST_VERDICT_SIZE = WARD_NOPS * 2;
export const EVENT_SIZE = 48;

/** ipe_hook names by ward's hook number (security/ipe/hooks.h, audit.c). */
export const HOOK_NAMES = ['BPRM_CHECK', 'MMAP', 'MPROTECT', 'KERNEL_READ', 'KERNEL_LOAD', 'BPRM_CREDS_FOR_EXEC'] as const;
export const SOURCE_NAMES = ['no_file', 'uncovered', 'verdict', 'kernel_fsverity', 'stale_verdict'] as const;

/** FS_VERITY_HASH_ALG_* (include/uapi/linux/fsverity.h): the algorithms the kernel reports. */
export const VERITY_ALGS: Readonly<Record<string, number>> = { sha256: 1, sha512: 2 };

/**
 * Node's st_dev (glibc makedev: major in bits 8-19 and 32-43, minor in 0-7 and 20-31) → the
 * kernel's internal dev_t (MKDEV: major << 20 | minor, include/linux/kdev_t.h), which is what
 * `inode->i_sb->s_dev` holds.
 */
export function kernelDev(stDev: bigint): number {
  const major = ((stDev >> 8n) & 0xfffn) | ((stDev >> 32n) & ~0xfffn);
  const minor = (stDev & 0xffn) | ((stDev >> 12n) & ~0xffn);
  return Number(((major << 20n) | (minor & 0xfffffn)) & 0xffffffffn);
}

export interface ConfigValue {
  gen: number;
  flags: number;
  bootDev: number;
  daemonTgid: number;
  /** [op][ctx]: ctx 0 = no file, 1 = file off the boot superblock, 2 = on it. */
  uncovered: readonly (readonly number[])[];
}

export function encodeConfig(c: ConfigValue): Uint8Array {
  const b = Buffer.alloc(CONFIG_SIZE);
  b.writeUInt32LE(c.gen >>> 0, 0);
  b.writeUInt32LE(c.flags, 4);
  b.writeUInt32LE(c.bootDev >>> 0, 8);
  b.writeUInt32LE(c.daemonTgid >>> 0, 12);
  for (let op = 0; op < WARD_NOPS; op++) for (let ctx = 0; ctx < 4; ctx++) b[16 + op * 4 + ctx] = c.uncovered[op]?.[ctx] ?? DENY;
  return b;
}

export function decodeConfig(b: Uint8Array): ConfigValue {
  const v = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const uncovered: number[][] = [];
  for (let op = 0; op < WARD_NOPS; op++) uncovered.push([...v.subarray(16 + op * 4, 20 + op * 4)]);
  return { gen: v.readUInt32LE(0), flags: v.readUInt32LE(4), bootDev: v.readUInt32LE(8), daemonTgid: v.readUInt32LE(12), uncovered };
}

export function encodeVerdictKey(gen: number, dev: number, ino: bigint): Uint8Array {
  const b = Buffer.alloc(VERDICT_KEY_SIZE);
  b.writeUInt32LE(gen >>> 0, 0);
  b.writeUInt32LE(dev >>> 0, 4);
  b.writeBigUInt64LE(ino, 8);
  return b;
}

export interface FileVerdict {
  ctimeSec: bigint;
  ctimeNsec: number;
  generation: number;
  /** WARD_ALLOW / WARD_DENY per op (index = OPS order, 7 = invalid op). */
  verdict: readonly number[];
}

export function encodeVerdict(v: FileVerdict): Uint8Array {
  const b = Buffer.alloc(VERDICT_SIZE);
  b.writeBigInt64LE(v.ctimeSec, 0);
  b.writeUInt32LE(v.ctimeNsec >>> 0, 8);
  b.writeUInt32LE(v.generation >>> 0, 12);
  for (let op = 0; op < WARD_NOPS; op++) b[16 + op] = v.verdict[op] ?? DENY;
  return b;
}

/** "sha256:hex" → the kernel's key for that fs-verity digest, or undefined for an algorithm fs-verity has not. */
export function encodeDigestKey(gen: number, digest: string): Uint8Array | undefined {
  const colon = digest.indexOf(':');
  const alg = VERITY_ALGS[digest.slice(0, colon)];
  const bytes = Buffer.from(digest.slice(colon + 1), 'hex');
  if (alg === undefined || bytes.length === 0 || bytes.length > 64) return undefined;
  const b = Buffer.alloc(DIGEST_KEY_SIZE);
  b.writeUInt32LE(gen >>> 0, 0);
  b.writeUInt16LE(alg, 4);
  b.writeUInt16LE(bytes.length, 6);
  bytes.copy(b, 8);
  return b;
}

export function encodeDigestVerdict(byBv: readonly (readonly number[])[]): Uint8Array {
  const b = Buffer.alloc(DIGEST_VERDICT_SIZE);
  for (let op = 0; op < WARD_NOPS; op++) for (let bv = 0; bv < 2; bv++) b[op * 2 + bv] = byBv[op]?.[bv] ?? DENY;
  return b;
}

export interface BpfEvent {
  ino: bigint;
  dev: number;
  pid: number;
  tgid: number;
  gen: number;
  op: string;
  hook: (typeof HOOK_NAMES)[number];
  source: string;
  denied: boolean;
  enforced: boolean;
  comm: string;
}

export function decodeEvent(data: Uint8Array): BpfEvent {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const comm = b.subarray(32, 48);
  const end = comm.indexOf(0);
  return {
    ino: b.readBigUInt64LE(0),
    dev: b.readUInt32LE(8),
    pid: b.readUInt32LE(12),
    tgid: b.readUInt32LE(16),
    gen: b.readUInt32LE(20),
    op: OPS[b[24]!] ?? 'INVALID',
    hook: HOOK_NAMES[b[25]!] ?? 'BPRM_CHECK',
    source: SOURCE_NAMES[b[26]!] ?? `source#${b[26]}`,
    denied: b[27] === 1,
    enforced: b[28] === 1,
    comm: comm.subarray(0, end < 0 ? 16 : end).toString('latin1'),
  };
}

type Decide = (op: string, ctx: FileContext) => { action: 'ALLOW' | 'DENY' };

function decider(policy: Policy | undefined): Decide {
  const c = compilePolicy(policy);
  return (op, ctx) => c.decide(op, ctx);
}

function verdictsFor(policy: Policy | undefined, decide: Decide, ctx: FileContext): number[] {
  const row: number[] = OPS.map((op) => (decide(op, ctx).action === 'ALLOW' ? ALLOW : DENY));
  // A kernel_read_file id IPE has no op for: the global DEFAULT, else deny (security/ipe/eval.c).
  row.push(!policy || policy.globalDefault?.action === 'ALLOW' ? ALLOW : DENY);
  return row;
}

/**
 * What the kernel decides alone, per op: with no file every property is false; with a file,
 * boot_verified is the superblock test and every other property false (the programs cannot see
 * dm-verity or fs-verity signatures; fs-verity digests come from the kfunc where it exists).
 */
export function uncoveredTable(policy: Policy | undefined): number[][] {
  const decide = decider(policy);
  const none = verdictsFor(policy, decide, new StaticFileContext({ boot_verified: false, dmverity_signature: false, fsverity_signature: false }));
  const off = none;
  const on = verdictsFor(policy, decide, new StaticFileContext({ boot_verified: true, dmverity_signature: false, fsverity_signature: false }));
  return none.map((v, op) => [v, off[op]!, on[op]!, DENY]);
}

/** Per op and boot_verified, the decision for a file whose fs-verity digest is `digest`. */
export function digestTable(policy: Policy, digest: string): number[][] {
  const decide = decider(policy);
  const rows = [false, true].map((bv) =>
    verdictsFor(policy, decide, new StaticFileContext({ boot_verified: bv, dmverity_signature: false, fsverity_signature: false, fsverity_digest: digest })),
  );
  return rows[0]!.map((v, op) => [v, rows[1]![op]!]);
}

/** The verdicts of a real file, from its full context (user space's properties). */
export function fileVerdicts(policy: Policy | undefined, ctx: FileContext): number[] {
  return verdictsFor(policy, decider(policy), ctx);
}

/** Every fs-verity digest the policy names (the keys of the digest table). */
export function policyDigests(policy: Policy | undefined): string[] {
  const out = new Set<string>();
  for (const r of policy?.rules ?? []) for (const p of r.properties) if (p.kind === 'digest' && p.name === 'fsverity_digest') out.add(p.digest.key);
  return [...out];
}
