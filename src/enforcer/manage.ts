// The management verbs behind the control socket, with IPE's securityfs rules (the store's
// rules live in policy/store.ts, persistence in state.ts), signature checks, and the boot
// policy. No sockets and no kernel here: what changes the enforcement goes out through the
// Effects callbacks, so every verb is unit-tested on a temporary state directory.

import { readFileSync } from 'node:fs';
import { WardError, errorCode } from '../errors.ts';
import { parsePolicyLazy, ruleCount } from '../policy/parser.ts';
import { compareVersions, displayText, rawText, versionString, type Policy } from '../policy/model.ts';
import { activatePolicy, deletePolicy, loadPolicy, updatePolicy } from '../policy/lifecycle.ts';
import { activationRecord, auditSuccessRecord, enforceRecord, loadRecord, type Actor, type AuditRecord } from './audit.ts';
import type { EnforcementMode } from './backend.ts';
import { policyBytes, type ControlRequest, type ControlResponse, type PolicyBytes } from './protocol.ts';
import { readCertificates, verifySignedPolicy } from './signature.ts';
import { PolicyState, policyDigest } from './state.ts';
import type { StagedFile } from '../util/atomic.ts';

export interface ManagerOptions {
  trustedCerts: readonly string[];
  requireSigned: boolean;
}

/** What a verb changes outside the store. */
export interface Effects {
  /** The active policy changed (or was updated in place): enforce it from now on. */
  activePolicy(policy: Policy | undefined): Promise<void>;
  mode(mode: EnforcementMode): Promise<void>;
  audit(record: AuditRecord): void;
  /** The daemon's status (the backend's counters etc.) for the `status` verb. */
  status(): Record<string, unknown>;
  /** Optional: the backend takes the policy first (the kernel's IPE); throws to refuse, may warn. */
  admit?(policy: Policy, pkcs7: Uint8Array | undefined, how: 'load' | 'update' | 'activate'): Promise<readonly string[] | void>;
  /** Optional: the backend lets the policy go first (delete); throws to refuse. */
  retire?(rawName: string): Promise<void>;
}

const toRaw = rawText;
const fail = (e: WardError): ControlResponse => ({ ok: false, errno: e.code, message: e.message });

// Changes to a store run one at a time. Each is checked against the store, admitted by the
// backend, then written, with awaits between (the signature check, the kernel, the fsync of the
// staged text): interleaved, two requests both pass the check before either is written, and the
// backend (the kernel's IPE) can end up holding a text the store then refuses — the kernel
// enforcing what ward does not show. Keyed by the state, not the Manager: a reload builds a
// new Manager over the same store while requests may still be running on the old one.
const queues = new WeakMap<PolicyState, Promise<unknown>>();

export class Manager {
  readonly state: PolicyState;
  readonly #trusted: ReturnType<typeof readCertificates>;
  readonly #options: ManagerOptions;
  readonly #effects: Effects;

  constructor(state: PolicyState, options: ManagerOptions, effects: Effects) {
    this.state = state;
    this.#options = options;
    this.#trusted = readCertificates(options.trustedCerts);
    this.#effects = effects;
  }

  get mode(): EnforcementMode {
    return { enforce: this.state.flags.enforce, auditSuccess: this.state.flags.auditSuccess };
  }

  /**
   * The order for every change: the store's own rules checked (pure, nothing written), then the
   * backend (which may refuse with the kernel's errno), then the store written. So the store never
   * holds what the backend refused, and the backend is asked only what the store would accept.
   */
  async #backend(f: (() => Promise<void>) | undefined): Promise<ControlResponse | undefined> {
    if (!f) return undefined;
    try {
      await f();
      return undefined;
    } catch (e) {
      return { ok: false, errno: errorCode(e), message: (e as Error).message };
    }
  }

  /** The backend's refusal, or its warnings for the answer (`warnings`, only when there are any). */
  async #admit(p: Policy, pkcs7: Uint8Array | undefined, how: 'load' | 'update' | 'activate'): Promise<{ refused?: ControlResponse; warnings: { warnings?: string[] } }> {
    const admit = this.#effects.admit;
    let said: readonly string[] = [];
    const refused = await this.#backend(admit ? async () => void (said = (await admit(p, pkcs7, how)) ?? []) : undefined);
    return refused ? { refused, warnings: {} } : { warnings: said.length > 0 ? { warnings: [...said] } : {} };
  }

  #digest(p: Policy): string {
    return policyDigest(p, this.state.signatures.get(p.rawName));
  }

  /**
   * The boot policy: loaded if new (or a newer version), activated when nothing else is active.
   * Returns a line for the log when it was not activated because another policy is active.
   */
  applyBootPolicy(file: string, by: Actor): Promise<string | undefined> {
    return this.#serial(() => this.#applyBootPolicy(file, by));
  }

  async #applyBootPolicy(file: string, by: Actor): Promise<string | undefined> {
    let text: Buffer;
    try {
      text = readFileSync(file);
    } catch (e) {
      const code = errorCode(e);
      throw new WardError(code === 'ENOENT' ? 'ENOENT' : 'EIO', `boot policy ${file}: ${code} (install one, or remove bootPolicy from the configuration)`);
    }
    const r = parsePolicyLazy(text);
    if (!r.ok) throw new WardError(r.error.code, `boot policy ${file}:${r.error.line}:${r.error.column}: ${r.error.message}`);
    const p = r.value;
    const stored = this.state.store.policies.get(p.rawName);
    if (!stored || compareVersions(stored.version, p.version) < 0) {
      // Its warnings reach the log when the backend activates it (a boot policy has no requester).
      const { refused } = await this.#admit(p, undefined, stored ? 'update' : 'load');
      if (refused && !refused.ok) throw new WardError(refused.errno as WardError['code'], `boot policy ${file}: ${refused.message}`);
      const l = stored ? this.state.update(p.rawName, p) : this.state.load(p);
      if (!l.ok) throw l.error;
      this.#effects.audit(loadRecord(p, policyDigest(p), by));
      if (stored && this.state.store.active === p.rawName) {
        await this.#effects.activePolicy(p);
        this.#effects.audit(activationRecord({ policy: stored, digest: policyDigest(stored) }, { policy: p, digest: this.#digest(p) }, by));
      }
    }
    if (this.state.store.active === undefined) {
      const a = this.state.activate(p.rawName);
      if (!a.ok) throw new WardError(a.error.code, `boot policy ${file}: ${a.error.message}`);
      await this.#effects.activePolicy(this.state.active);
      this.#effects.audit(activationRecord(undefined, { policy: this.state.active!, digest: this.#digest(this.state.active!) }, by));
    } else if (this.state.store.active !== p.rawName) {
      return `boot policy "${displayText(p.name)}" not activated: "${displayText(this.state.store.active)}" is active (change it with ward policy activate)`;
    }
    return undefined;
  }

  /** A policy as sent: its text, and its PKCS#7 signature (content attached) when signed. */
  async #incoming(text: Uint8Array, sentPkcs7: PolicyBytes | undefined, by: Actor): Promise<{ policy: Policy; pkcs7?: Uint8Array } | ControlResponse> {
    let pkcs7: Uint8Array | undefined;
    if (sentPkcs7 !== undefined) {
      pkcs7 = policyBytes(sentPkcs7);
      const v = await verifySignedPolicy(pkcs7, this.#trusted);
      if (!v.ok) {
        this.#effects.audit(loadRecord(undefined, null, by, v.error.errno ?? 74));
        return fail(v.error);
      }
      if (Buffer.compare(Buffer.from(v.value.content), text) !== 0) {
        return { ok: false, errno: 'EINVAL', message: 'the signed content differs from the policy file given with it' };
      }
    } else if (this.#options.requireSigned) {
      this.#effects.audit(loadRecord(undefined, null, by, 74));
      return { ok: false, errno: 'EBADMSG', message: 'this daemon accepts only signed policies (requireSigned): sign it, e.g. openssl smime -sign -in P -signer CERT -inkey KEY -noattr -nodetach -nosmimecap -binary -outform der -out P.p7s, and load with --signed P.p7s' };
    }
    // Checked now, rules built only if the main thread asks (its event threads parse the text).
    const r = parsePolicyLazy(text);
    if (r.ok) return { policy: r.value, pkcs7 };
    this.#effects.audit(loadRecord(undefined, null, by, 74));
    return { ok: false, errno: r.error.code, message: r.error.message, line: r.error.line, column: r.error.column, token: r.error.token };
  }

  /**
   * A verb that stores a policy text: the text is written (and fsynced) under a temporary name
   * while `verb` parses and checks it — for a 100,000-rule policy the write and the parse each
   * take hundreds of ms — and put in place by the state's load/update. Whatever `verb` returns
   * or throws without having committed it, the temporary file is removed before the answer.
   */
  async #staged(sent: PolicyBytes, verb: (text: Uint8Array, staged: Promise<StagedFile>) => Promise<ControlResponse>): Promise<ControlResponse> {
    const text = policyBytes(sent);
    const staged = this.state.stage(text);
    // Handled from the start: a write that fails while verb is still parsing must not become an
    // unhandled rejection (which ends the daemon); verb sees the failure when it awaits staged.
    staged.catch(() => undefined);
    try {
      return await verb(text, staged);
    } finally {
      // A failed write is reported where verb awaited it (or was not needed: verb failed first).
      await staged.then((s) => s.discard(), () => undefined);
    }
  }

  /** Runs `f` after every change already queued on this store has finished. */
  #serial<T>(f: () => Promise<T>): Promise<T> {
    const next = (queues.get(this.state) ?? Promise.resolve()).then(f, f);
    queues.set(this.state, next.catch(() => undefined));
    return next;
  }

  /** Executes one management request (the control socket's verbs); changes one at a time. */
  handle(req: ControlRequest, by: Actor): Promise<ControlResponse> {
    if (req.verb === 'list' || req.verb === 'show' || req.verb === 'status') return this.#handle(req, by);
    return this.#serial(() => this.#handle(req, by));
  }

  async #handle(req: ControlRequest, by: Actor): Promise<ControlResponse> {
    switch (req.verb) {
      case 'load':
        return this.#staged(req.text, async (text, staged) => {
          const inc = await this.#incoming(text, req.pkcs7, by);
          if ('ok' in inc) return inc;
          const p = inc.policy;
          // The store's rules first (nothing written), then the backend (the kernel's IPE may
          // refuse), and only then the store: ward never records what the kernel refused.
          const pre = loadPolicy(this.state.store, p);
          if (!pre.ok) return fail(pre.error);
          const { refused, warnings } = await this.#admit(p, inc.pkcs7, 'load');
          if (refused) return refused;
          const file = await staged;
          const r = this.state.load(p, inc.pkcs7, file);
          if (!r.ok) return fail(r.error);
          this.#effects.audit(loadRecord(p, policyDigest(p, inc.pkcs7), by));
          return { ok: true, name: p.name, version: versionString(p.version), signed: inc.pkcs7 !== undefined, ...warnings };
        });
      case 'activate': {
        const pre = activatePolicy(this.state.store, toRaw(req.name));
        if (!pre.ok) return fail(pre.error);
        const next = this.state.store.policies.get(toRaw(req.name))!;
        const { refused, warnings } = await this.#admit(next, this.state.signatures.get(next.rawName), 'activate');
        if (refused) return refused;
        const r = this.state.activate(toRaw(req.name));
        if (!r.ok) return fail(r.error);
        const a = this.state.active!;
        if (r.value.previous !== a) {
          await this.#effects.activePolicy(a);
          const old = r.value.previous;
          this.#effects.audit(activationRecord(old ? { policy: old, digest: this.#digest(old) } : undefined, { policy: a, digest: this.#digest(a) }, by));
        }
        return { ok: true, name: a.name, version: versionString(a.version), ...warnings };
      }
      case 'update':
        return this.#staged(req.text, async (text, staged) => {
          const inc = await this.#incoming(text, req.pkcs7, by);
          if ('ok' in inc) return inc;
          const p = inc.policy;
          const pre = updatePolicy(this.state.store, toRaw(req.name), p);
          if (!pre.ok) return fail(pre.error);
          const { refused, warnings } = await this.#admit(p, inc.pkcs7, 'update');
          if (refused) return refused;
          const file = await staged; // before reading the store: nothing else runs between here and the update
          const oldDigest = this.state.store.policies.has(toRaw(req.name)) ? this.#digest(this.state.store.policies.get(toRaw(req.name))!) : null;
          const r = this.state.update(toRaw(req.name), p, inc.pkcs7, file);
          if (!r.ok) return fail(r.error);
          this.#effects.audit(loadRecord(p, policyDigest(p, inc.pkcs7), by));
          if (r.value.wasActive) {
            await this.#effects.activePolicy(p);
            this.#effects.audit(activationRecord({ policy: r.value.previous, digest: oldDigest! }, { policy: p, digest: this.#digest(p) }, by));
          }
          return { ok: true, name: p.name, version: versionString(p.version), active: r.value.wasActive, ...warnings };
        });
      case 'delete': {
        const pre = deletePolicy(this.state.store, toRaw(req.name));
        if (!pre.ok) return fail(pre.error);
        const retire = this.#effects.retire;
        const refused = await this.#backend(retire ? () => retire(toRaw(req.name)) : undefined);
        if (refused) return refused;
        const r = this.state.delete(toRaw(req.name));
        return r.ok ? { ok: true } : fail(r.error);
      }
      case 'list':
        return {
          ok: true,
          policies: [...this.state.store.policies.values()].map((p) => ({ name: p.name, version: versionString(p.version), active: this.state.store.active === p.rawName, rules: ruleCount(p) })),
        };
      case 'show': {
        const p = this.state.store.policies.get(toRaw(req.name));
        if (!p) return { ok: false, errno: 'ENOENT', message: `no policy named ${JSON.stringify(req.name)} is loaded` };
        return { ok: true, name: p.name, version: versionString(p.version), active: this.state.store.active === p.rawName, signed: this.state.signatures.has(p.rawName), digest: this.#digest(p), text: Buffer.from(p.text).toString('base64') };
      }
      case 'enforce':
      case 'audit-success': {
        const old = this.mode;
        this.state.setFlags(req.verb === 'enforce' ? { enforce: req.on } : { auditSuccess: req.on });
        await this.#effects.mode(this.mode);
        this.#effects.audit(req.verb === 'enforce' ? enforceRecord(req.on, old.enforce, by) : auditSuccessRecord(req.on, by));
        return { ok: true, [req.verb === 'enforce' ? 'enforce' : 'auditSuccess']: req.on };
      }
      case 'status':
        return { ok: true, ...this.#effects.status() };
    }
  }
}
