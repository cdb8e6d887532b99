// Landlock compatibility, pure: a sandbox request + the kernel's ABI → what to enforce, what
// was dropped, and whether that is acceptable under the chosen compatibility level
// (rust-landlock's BestEffort / SoftRequirement / HardRequirement).

import { WardError, fail, ok, type Result } from '../errors.ts';
import { BASELINE_ABI, FILE_RIGHTS, bits, FS_RIGHTS, KNOWN_ABI, NET_RIGHTS, RESTRICT_FLAGS, SCOPE_ABI, SCOPES, TCP_ABI, namesOf, upToAbi, type LogFlag } from './rights.ts';

export type Compat = 'strict' | 'soft' | 'best-effort';

export interface PathRule {
  readonly path: string;
  readonly access: bigint;
  /** Where it came from, for messages: "--ro", "profile ro[2]", "--add-libs". */
  readonly origin: string;
  /** Must be a regular file (a discovered file never becomes a directory rule). */
  readonly fileOnly?: boolean;
  /** Must be this file (device, inode): the one ward read when it discovered the path. */
  readonly expect?: { readonly dev: number; readonly ino: number };
}

export interface SandboxRequest {
  readonly fs: { readonly restrict: boolean; readonly rules: readonly PathRule[]; readonly allowUnixSockets?: boolean };
  readonly net: { readonly restrict: boolean; readonly bindTcp: readonly number[]; readonly connectTcp: readonly number[]; readonly allowUdp?: boolean };
  /** true = restricted to the sandbox (the default); false = allowed out. */
  readonly scopes: { readonly signal: boolean; readonly abstractUnix: boolean };
  readonly log: readonly LogFlag[];
  /** Which ABI's restrictions to ask for: 'auto' = max(BASELINE_ABI, kernel) capped at KNOWN_ABI. */
  readonly abi: 'auto' | number;
  readonly compat: Compat;
}

export type EnforcementStatus = 'fully' | 'partially' | 'not';

export interface SandboxPlan {
  readonly kernelAbi: number;
  readonly targetAbi: number;
  readonly status: EnforcementStatus;
  readonly handledFs: bigint;
  readonly handledNet: bigint;
  readonly scoped: bigint;
  readonly restrictFlags: number;
  readonly pathRules: readonly PathRule[];
  readonly portRules: ReadonlyArray<{ readonly port: number; readonly access: bigint }>;
  /** What the kernel could not enforce and was left out, one sentence each. */
  readonly dropped: readonly string[];
  /** What stays unrestricted because the target ABI does not cover it (informational). */
  readonly notCovered: readonly string[];
}

export const BIND_TCP = 1n;
export const CONNECT_TCP = 2n;

export function targetAbiFor(abi: 'auto' | number, kernelAbi: number): number {
  return abi === 'auto' ? Math.max(BASELINE_ABI, Math.min(kernelAbi, KNOWN_ABI)) : abi;
}

/** Rights a rule may carry on a file vs a directory, within the handled set (EINVAL otherwise). */
export function ruleAccess(access: bigint, isDirectory: boolean, handledFs: bigint): bigint {
  return access & handledFs & (isDirectory ? ~0n : FILE_RIGHTS);
}

export function negotiate(req: SandboxRequest, kernelAbi: number): Result<SandboxPlan> {
  if (req.abi !== 'auto' && (!Number.isInteger(req.abi) || req.abi < 1 || req.abi > KNOWN_ABI)) {
    return fail(new WardError('EINVAL', `the Landlock ABI to require must be 1-${KNOWN_ABI} or auto, not ${String(req.abi)}`));
  }
  const target = targetAbiFor(req.abi, kernelAbi);
  const missing: string[] = []; // weakens the sandbox if dropped
  const dropped: string[] = [];
  const notCovered: string[] = [];

  // --allow-unix-sockets: connecting to pathname unix sockets is not handled (ABI 9 would deny every one without a rule).
  const resolveUnix = bits(FS_RIGHTS, ['resolve_unix']);
  const wantFs = req.fs.restrict ? upToAbi(FS_RIGHTS, target) & (req.fs.allowUnixSockets ? ~resolveUnix : ~0n) : 0n;
  // --allow-udp: UDP is not handled at all (ABI 10 would otherwise deny every UDP port).
  const udp = bits(NET_RIGHTS, ['bind_udp', 'connect_send_udp']);
  const wantNet = req.net.restrict ? upToAbi(NET_RIGHTS, target) & (req.net.allowUdp ? ~udp : ~0n) : 0n;
  let wantScopes = 0n;
  if (req.scopes.abstractUnix) wantScopes |= 1n;
  if (req.scopes.signal) wantScopes |= 2n;
  wantScopes &= upToAbi(SCOPES, target);

  const ports = req.net.restrict ? [...req.net.bindTcp.map((port) => ({ port, access: BIND_TCP })), ...req.net.connectTcp.map((port) => ({ port, access: CONNECT_TCP }))] : [];
  if (ports.length > 0 && target < TCP_ABI) {
    return fail(new WardError('EINVAL', `TCP port rules need Landlock ABI ${TCP_ABI}, but ABI ${target} was required; drop --abi or raise it to ${TCP_ABI}`));
  }

  const haveFs = upToAbi(FS_RIGHTS, kernelAbi);
  const haveNet = upToAbi(NET_RIGHTS, kernelAbi);
  const haveScopes = upToAbi(SCOPES, kernelAbi);
  for (const r of FS_RIGHTS) {
    if (!(wantFs & r.bit) || haveFs & r.bit) continue;
    // Without `refer` the kernel (ABI 1) denies every cross-directory link and rename: stricter,
    // so leaving it out never weakens the sandbox.
    if (r.name === 'refer') dropped.push(`filesystem right refer (ABI ${r.abi}): links and renames across directories are always denied instead`);
    else missing.push(`filesystem right ${r.name} (ABI ${r.abi})`);
  }
  for (const r of NET_RIGHTS) if (wantNet & r.bit && !(haveNet & r.bit)) missing.push(`network right ${r.name} (ABI ${r.abi})`);
  for (const r of SCOPES) if (wantScopes & r.bit && !(haveScopes & r.bit)) missing.push(`scope ${r.name} (ABI ${r.abi})`);

  let restrictFlags = 0;
  for (const f of req.log) {
    const flag = RESTRICT_FLAGS[f];
    if (flag.abi <= kernelAbi) restrictFlags |= flag.bit;
    else dropped.push(`logging flag ${f} (ABI ${flag.abi}): audit logging stays at the kernel's default`);
  }

  if (req.fs.restrict) for (const r of FS_RIGHTS) if (r.abi > target && !(req.fs.allowUnixSockets && r.bit & resolveUnix)) notCovered.push(`filesystem ${r.name} (needs ABI ${r.abi})`);
  if (req.net.restrict) for (const r of NET_RIGHTS) if (r.abi > target && !(req.net.allowUdp && r.bit & udp)) notCovered.push(`network ${r.name} (needs ABI ${r.abi})`);
  if (target < SCOPE_ABI) {
    if (req.scopes.signal) notCovered.push(`signals to processes outside the sandbox (needs ABI ${SCOPE_ABI})`);
    if (req.scopes.abstractUnix) notCovered.push(`abstract unix sockets outside the sandbox (needs ABI ${SCOPE_ABI})`);
  }

  if (kernelAbi === 0 && (wantFs || wantNet || wantScopes)) missing.unshift('Landlock itself (the kernel has none, or it is disabled)');

  if (missing.length > 0) {
    if (req.compat === 'strict') {
      return fail(
        new WardError(
          'ENOTSUP',
          `this kernel has Landlock ABI ${kernelAbi} but the sandbox needs ABI ${target} for: ${missing.join(', ')}. ` +
            'Nothing was run. Use --best-effort to run with what the kernel can enforce, or allow what is missing (e.g. --allow-signals-out, --unrestricted-net)',
        ),
      );
    }
    if (req.compat === 'soft' || kernelAbi === 0) {
      return ok({
        kernelAbi,
        targetAbi: target,
        status: 'not',
        handledFs: 0n,
        handledNet: 0n,
        scoped: 0n,
        restrictFlags: 0,
        pathRules: [],
        portRules: [],
        dropped: [`the whole sandbox, because the kernel lacks: ${missing.join(', ')}`],
        notCovered,
      });
    }
    dropped.unshift(...missing.map((m) => `${m}: not restricted`));
  }

  const handledFs = wantFs & haveFs;
  const handledNet = wantNet & haveNet;
  const scoped = wantScopes & haveScopes;
  const anything = handledFs !== 0n || handledNet !== 0n || scoped !== 0n;
  const weakened = missing.length > 0;
  return ok({
    kernelAbi,
    targetAbi: target,
    status: !anything ? 'not' : weakened ? 'partially' : 'fully',
    handledFs,
    handledNet,
    scoped,
    restrictFlags,
    pathRules: handledFs ? req.fs.rules.filter((r) => (r.access & handledFs) !== 0n) : [],
    portRules: handledNet ? ports : [],
    dropped,
    notCovered,
  });
}

/** The plan in words, for --explain. */
export function explainPlan(plan: SandboxPlan, resolved?: ReadonlyArray<{ rule: PathRule; access: bigint; kind: string }>): string {
  const lines = [
    `Landlock: kernel ABI ${plan.kernelAbi}, sandbox built for ABI ${plan.targetAbi}: ${plan.status === 'fully' ? 'fully enforced' : plan.status === 'partially' ? 'partially enforced' : 'NOT enforced'}`,
    `filesystem: ${plan.handledFs ? `restricted (handled: ${namesOf(FS_RIGHTS, plan.handledFs).join(' ')})` : 'unrestricted'}`,
  ];
  for (const r of resolved ?? plan.pathRules.map((rule) => ({ rule, access: rule.access & plan.handledFs, kind: '' }))) {
    lines.push(`  allow ${r.rule.path}${r.kind ? ` (${r.kind})` : ''}: ${namesOf(FS_RIGHTS, r.access).join(' ')}   [${r.rule.origin}]`);
  }
  lines.push(`network: ${plan.handledNet ? `restricted (handled: ${namesOf(NET_RIGHTS, plan.handledNet).join(' ')})` : 'unrestricted'}`);
  for (const p of plan.portRules) lines.push(`  allow ${p.access === BIND_TCP ? 'bind' : 'connect'} tcp port ${p.port}`);
  lines.push(`scopes: ${plan.scoped ? namesOf(SCOPES, plan.scoped).map((s) => `${s} confined to the sandbox`).join(', ') : 'none (signals and abstract unix sockets may reach outside)'}`);
  if (plan.restrictFlags) lines.push(`restrict_self flags: 0x${plan.restrictFlags.toString(16)}`);
  for (const d of plan.dropped) lines.push(`dropped: ${d}`);
  for (const n of plan.notCovered) lines.push(`not covered at this ABI: ${n}`);
  return lines.join('\n');
}
