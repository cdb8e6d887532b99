// The kernel's own IPE as ward daemon's backend (kernels built with IPE, e.g. Debian's 6.12):
// ward keeps its store, control socket and verbs, and deploys the policies to securityfs
// (securityfs.ts) — every decision is then the kernel's, at IPE's hooks, with IPE's audit
// records (AUDIT_IPE_ACCESS). The kernel takes only PKCS#7-signed policies it can verify against
// its secondary or platform keyring: a policy loaded with its signature (ward policy load
// --signed) is deployed as signed; any other is signed here with the configured key
// (pkcs7-sign.ts), whose certificate the kernel must trust.
//
// Policies persist in the kernel until reboot, and IPE cannot deactivate a policy (only activate
// another, of a version not older): the daemon stopping or dying leaves the kernel enforcing its
// last active policy. That is the only failure mode this backend has: "closed".
//
// fsverity_digest differs here from ward's other backends: the kernel's IPE reads a file's digest
// from its fs-verity data (security/ipe/eval.c, evaluate_fsv_digest: fsverity_get_digest() on the
// inode), so a file without fs-verity enabled never matches an fsverity_digest rule. ward's
// fanotify and bpf backends compute the same digest for any file. A policy that allows programs by
// digest — every `ward policy generate` policy — allows nothing here but fs-verity files: dpkg
// installs none, so Debian's own programs are denied. The backend says so at load, update and
// activation, in the daemon's log and in daemon-status; it does not refuse (fs-verity files
// may be exactly what the policy means).

import { displayText, versionString, type Policy } from '../policy/model.ts';
import { allowRulesNaming } from '../policy/property-rules.ts';
import { WardError, errorCode } from '../errors.ts';
import type { BackendEvents, BackendStatus, EnforcementBackend, EnforcementMode } from './backend.ts';
import { loadSigner, signPkcs7, type Signer } from './pkcs7-sign.ts';
import { kernelIpe } from './securityfs.ts';

// security/ipe/hooks.h: enum ipe_hook_type as the kernel's audit records name them (6.12).
const HOOKS = ['BPRM_CHECK', 'MMAP', 'MPROTECT', 'KERNEL_READ', 'KERNEL_LOAD'];

export interface IpeBackendOptions {
  /** PEM private key (RSA) and certificate ward signs unsigned policies with. */
  signingKey?: string;
  signingCert?: string;
  /** The signature a policy was loaded with (the daemon's store), by raw name. */
  signatureOf?: (rawName: string) => Uint8Array | undefined;
  /** The securityfs binding (tests in a guest use the real one; the seam keeps it replaceable). */
  kernel?: typeof kernelIpe;
}

const parseVer = (v: string) => v.split('.').map(Number) as [number, number, number];
const older = (a: string, b: string) => {
  const [x, y] = [parseVer(a), parseVer(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! < y[i]!;
  return false;
};

/**
 * What the kernel's IPE does with a policy's ALLOW rules on fsverity_digest (see the file header),
 * or undefined when it has none. Also used for `ward policy … --kernel`.
 */
export function kernelVerityWarning(displayName: string, text: Uint8Array | string): string | undefined {
  const n = allowRulesNaming(text, 'fsverity_digest');
  if (n === 0) return undefined;
  return `policy "${displayName}" allows by fsverity_digest (${n} ALLOW rule${n === 1 ? '' : 's'}), which the kernel's IPE matches only on files with fs-verity enabled (fsverity enable): any other file — everything dpkg installs — is not allowed by those rules, so a \`ward policy generate\` policy denies the very programs it names here (ward's fanotify and bpf backends compute the digest of any file; see docs/daemon.md)`;
}

const warnings = new WeakMap<Policy, string | null>();
/** kernelVerityWarning of a policy, once per policy (a 100,000-rule text takes a while to scan). */
function verityWarning(p: Policy): string | undefined {
  let w = warnings.get(p);
  if (w === undefined) warnings.set(p, (w = kernelVerityWarning(p.name, p.text) ?? null));
  return w ?? undefined;
}

export class IpeBackend implements EnforcementBackend {
  readonly name = 'ipe' as const;
  readonly #k: typeof kernelIpe;
  readonly #opts: IpeBackendOptions;
  #signer: Signer | undefined;
  #events: BackendEvents | undefined;
  #policy: Policy | undefined;
  #mode: EnforcementMode = { enforce: true, auditSuccess: false };

  constructor(options: IpeBackendOptions = {}) {
    this.#opts = options;
    this.#k = options.kernel ?? kernelIpe;
    if ((options.signingKey === undefined) !== (options.signingCert === undefined)) {
      throw new WardError('EINVAL', 'ipeSigningKey and ipeSigningCert go together: the kernel needs the certificate of the key that signs');
    }
    if (options.signingKey && options.signingCert) this.#signer = loadSigner(options.signingKey, options.signingCert);
  }

  /** The blob the kernel takes: the policy's own signature, else one made with the configured key. */
  #blob(p: Policy, pkcs7?: Uint8Array): Uint8Array {
    const given = pkcs7 ?? this.#opts.signatureOf?.(p.rawName);
    if (given) return given;
    if (!this.#signer) {
      throw new WardError('ENOKEY', `policy "${displayText(p.rawName)}" is not signed and no signing key is configured: the kernel's IPE takes only signed policies (set ipeSigningKey and ipeSigningCert, or load it with --signed)`);
    }
    return signPkcs7(p.text, this.#signer);
  }

  #call<T>(what: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      const code = errorCode(e);
      throw new WardError(code, `the kernel's IPE refused to ${what}: ${code}${code === 'ENOKEY' ? ' (the signing certificate is not in the kernel\'s secondary or platform keyring)' : code === 'EKEYREJECTED' ? ' (bad signature)' : ''}`);
    }
  }

  /** The kernel holds exactly this text under the policy's name (new_policy, or update). */
  #deploy(p: Policy, pkcs7?: Uint8Array): void {
    const there = this.#k.list().find((x) => x.rawName === p.rawName);
    if (there && Buffer.compare(this.#k.show(p.rawName), Buffer.from(p.text)) === 0) return;
    const blob = this.#blob(p, pkcs7);
    if (there) this.#call(`update "${displayText(p.rawName)}" to ${versionString(p.version)}`, () => this.#k.update(p.rawName, blob));
    else this.#call(`load "${displayText(p.rawName)}"`, () => this.#k.load(blob));
  }

  /**
   * Before the store takes a policy: deployed to the kernel, and for activation, activatable
   * there. Answers with what the requester should know (the fsverity_digest warning).
   */
  async admit(p: Policy, pkcs7: Uint8Array | undefined, how: 'load' | 'update' | 'activate'): Promise<readonly string[]> {
    if (how === 'activate') {
      // IPE refuses to activate a version older than the active policy's (security/ipe/policy.c,
      // ipe_set_active_pol) — whoever activated it. Say so before ward's store moves.
      const active = this.#k.list().find((x) => x.active);
      if (active && active.rawName !== p.rawName && older(versionString(p.version), active.version)) {
        throw new WardError('EINVAL', `the kernel's active IPE policy "${displayText(active.rawName)}" has version ${active.version}: IPE refuses to activate the older ${versionString(p.version)}`);
      }
    }
    this.#deploy(p, pkcs7);
    const w = verityWarning(p);
    return w ? [w] : [];
  }

  async retire(rawName: string): Promise<void> {
    if (!this.#k.list().some((x) => x.rawName === rawName)) return;
    this.#call(`delete "${displayText(rawName)}"`, () => this.#k.delete(rawName));
  }

  #activate(p: Policy | undefined): void {
    if (!p) {
      const left = this.#k.list().find((x) => x.active);
      // IPE has no "deactivate": a policy activated earlier keeps enforcing. Say it, never hide it.
      if (left) this.#events?.log(`no active policy in ward's store, but the kernel's IPE keeps enforcing "${displayText(left.rawName)}" ${left.version} (IPE cannot deactivate a policy; activate another to replace it)`);
      return;
    }
    this.#deploy(p);
    if (!this.#k.list().find((x) => x.rawName === p.rawName)?.active) this.#call(`activate "${displayText(p.rawName)}"`, () => this.#k.activate(p.rawName));
    const w = verityWarning(p);
    if (w) this.#events?.log(`warning: ${w}`);
  }

  async start(policy: Policy | undefined, mode: EnforcementMode, events: BackendEvents): Promise<void> {
    if (!this.#k.present()) throw new WardError('ENOENT', 'the kernel\'s IPE is not available (no /sys/kernel/security/ipe: the kernel lacks IPE, or securityfs is not mounted)');
    this.#events = events;
    this.#policy = policy;
    this.#activate(policy);
    await this.setMode(mode);
  }

  async swapPolicy(policy: Policy | undefined): Promise<void> {
    // One write to `active` swaps the kernel's policy pointer (RCU): no instant with half a policy.
    this.#activate(policy);
    this.#policy = policy;
  }

  async setMode(mode: EnforcementMode): Promise<void> {
    this.#call(`set enforce=${mode.enforce ? 1 : 0}`, () => this.#k.enforce(mode.enforce));
    this.#call(`set success_audit=${mode.auditSuccess ? 1 : 0}`, () => this.#k.auditSuccess(mode.auditSuccess));
    this.#mode = mode;
  }

  status(): BackendStatus {
    let active: { name: string; rawName: string; version: string } | undefined;
    let enforcing = false;
    let readable = false;
    try {
      active = this.#k.list().find((x) => x.active);
      enforcing = this.#k.enforcing();
      readable = true;
    } catch {
      /* securityfs unreadable: reported as not deciding */
    }
    const summary = active
      ? `the kernel's IPE ${enforcing ? 'enforces' : 'audits (permissive)'} "${active.name}" ${active.version} at its hooks`
      : 'the kernel\'s IPE has no active policy (everything is allowed)';
    // What the kernel does is the truth, whatever ward's store says: anyone with root can write
    // securityfs behind the daemon (enforce=0, another policy activated). Status says so.
    const drift: string[] = [];
    if (readable && this.#mode.enforce && !enforcing) drift.push('the kernel\'s IPE is permissive (enforce=0, set outside ward): it denies nothing; `ward enforce on` sets it back');
    // Names compared as bytes: `name` is for display (invalid UTF-8 replaced), `rawName` the bytes.
    if (readable && (active?.rawName ?? null) !== (this.#policy?.rawName ?? null)) {
      drift.push(`the kernel's active IPE policy is ${active ? `"${displayText(active.rawName)}" ${active.version}` : 'none'}, not ward's ${this.#policy ? `"${displayText(this.#policy.rawName)}"` : '(none)'}: the kernel enforces its own`);
    } else if (readable && active && this.#policy && active.version !== versionString(this.#policy.version)) {
      // Same name, another version: updated in securityfs behind ward (ward's store has not moved).
      drift.push(`the kernel's active IPE policy "${displayText(active.rawName)}" is at version ${active.version}, not ward's ${versionString(this.#policy.version)}: the kernel enforces a text ward does not hold`);
    }
    return {
      backend: 'ipe',
      // The kernel decides at its hooks whether or not a policy is active (none: all allowed).
      deciding: readable,
      enforcing: readable && (!this.#mode.enforce || enforcing),
      hooks: HOOKS,
      gaps: [...drift, ...(this.#policy && verityWarning(this.#policy) ? [verityWarning(this.#policy)!] : []), 'decisions are audited by the kernel (AUDIT_IPE_ACCESS records, in the kernel log without auditd), not in ward\'s audit log'],
      failureMode: 'closed',
      details: { summary, kernelActive: active ?? null, kernelEnforce: enforcing, signing: this.#signer ? 'configured key' : 'pre-signed policies only', policy: this.#policy ? this.#policy.name : null, mode: this.#mode },
    };
  }

  async stop(): Promise<void> {
    // Deliberately nothing: the kernel keeps enforcing the active policy (documented in
    // docs/daemon.md). Turning enforce off here would open the host at every daemon restart.
    const a = this.#k.present() ? this.#k.list().find((x) => x.active) : undefined;
    this.#events?.log(a ? `the kernel's IPE keeps enforcing "${displayText(a.rawName)}" ${a.version} after the daemon stops` : 'the kernel\'s IPE has no active policy');
  }
}
