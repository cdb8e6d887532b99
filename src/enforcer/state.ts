// The daemon's persistent policy store: IPE's rules (policy/lifecycle.ts) over files in a state
// directory. Every change is written atomically before it is acknowledged; the version floor
// survives restarts (the kernel forgets it at reboot).

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { WardError, type Result, fail, ok } from '../errors.ts';
import { parsePolicyLazy } from '../policy/parser.ts';
import { versionString, type Policy, type Version } from '../policy/model.ts';
import { activatePolicy, deletePolicy, emptyPolicySet, loadPolicy, updatePolicy, type PolicySet } from '../policy/lifecycle.ts';
import { stageFile, writeFileAtomic, type StagedFile } from '../util/atomic.ts';
import { stateDirProblems } from './state-perms.ts';

export interface PersistedFlags {
  enforce: boolean;
  auditSuccess: boolean;
}

interface StateFile {
  format: 1;
  active: string | null;
  floor: string | null;
  enforce: boolean;
  auditSuccess: boolean;
}

const hexName = (raw: string) => Buffer.from(raw, 'latin1').toString('hex');

/** sha256 of what was loaded: of the PKCS#7 blob when signed (as the kernel), else of the text.
 *  Lower-case hex, like every digest ward prints (the kernel's audit uses upper case). */
export function policyDigest(p: Policy, pkcs7?: Uint8Array): string {
  return `sha256:${createHash('sha256').update(pkcs7 ?? p.text).digest('hex')}`;
}

function parseVersion(s: string | null): Version | undefined {
  if (!s) return undefined;
  const [major, minor, rev] = s.split('.').map(Number) as [number, number, number];
  return { major, minor, rev };
}

export class PolicyState {
  readonly dir: string;
  store: PolicySet<Policy> = emptyPolicySet<Policy>();
  flags: PersistedFlags;
  /** The PKCS#7 messages of signed policies, by raw name (kept next to the text). */
  readonly signatures = new Map<string, Uint8Array>();

  private constructor(dir: string, flags: PersistedFlags) {
    this.dir = dir;
    this.flags = flags;
  }

  /** Opens (or creates) the state directory; an unreadable or invalid file is an error, never skipped. */
  static open(dir: string, defaults: PersistedFlags): Result<PolicyState> {
    const unsafe = stateDirProblems(dir);
    if (unsafe.length > 0) return fail(new WardError('EPERM', `state directory ${dir} can be changed by users other than root (${unsafe.join('; ')}): whoever can write it decides what runs; chown root and chmod go-w, or choose another --state-dir`));
    mkdirSync(join(dir, 'policies'), { recursive: true, mode: 0o700 });
    const s = new PolicyState(dir, defaults);
    let store = emptyPolicySet<Policy>();
    for (const f of readdirSync(join(dir, 'policies'))) {
      // A text staged for a load the daemon did not finish (it stopped in between): never in use.
      if (f.startsWith('.staged.')) unlinkSync(join(dir, 'policies', f));
      if (!f.endsWith('.pol')) continue;
      const path = join(dir, 'policies', f);
      // Checked, not built: the main thread needs name, version and text (the event threads parse).
      const r = parsePolicyLazy(readFileSync(path));
      if (!r.ok) return fail(new WardError(r.error.code, `stored policy ${path} is invalid (${r.error.line}:${r.error.column}: ${r.error.message}); fix or remove it`));
      const l = loadPolicy(store, r.value);
      if (!l.ok) return fail(new WardError(l.error.code, `stored policy ${path}: ${l.error.message}`));
      store = l.value;
      const sig = path.replace(/\.pol$/, '.p7s');
      if (existsSync(sig)) s.signatures.set(r.value.rawName, readFileSync(sig));
    }
    const statePath = join(dir, 'state.json');
    if (existsSync(statePath)) {
      let st: StateFile;
      try {
        st = JSON.parse(readFileSync(statePath, 'utf8')) as StateFile;
      } catch (e) {
        return fail(new WardError('EINVAL', `${statePath} is not valid JSON (${(e as Error).message}); fix or remove it`));
      }
      const active = st.active === null ? undefined : Buffer.from(st.active, 'hex').toString('latin1');
      if (active !== undefined && !store.policies.has(active)) return fail(new WardError('ENOENT', `${statePath} names an active policy that is not stored; fix or remove it`));
      store = { ...store, active, floor: parseVersion(st.floor) };
      s.flags = { enforce: st.enforce, auditSuccess: st.auditSuccess };
    }
    s.store = store;
    return ok(s);
  }

  get active(): Policy | undefined {
    return this.store.active === undefined ? undefined : this.store.policies.get(this.store.active);
  }

  #persistState(): void {
    const st: StateFile = {
      format: 1,
      active: this.store.active === undefined ? null : hexName(this.store.active),
      floor: this.store.floor ? versionString(this.store.floor) : null,
      enforce: this.flags.enforce,
      auditSuccess: this.flags.auditSuccess,
    };
    writeFileAtomic(join(this.dir, 'state.json'), Buffer.from(JSON.stringify(st, null, 2) + '\n'), 0o600);
  }

  #policyPath(raw: string): string {
    return join(this.dir, 'policies', `${hexName(raw)}.pol`);
  }

  #writeSignature(raw: string, pkcs7: Uint8Array | undefined): void {
    const path = this.#policyPath(raw).replace(/\.pol$/, '.p7s');
    if (pkcs7) {
      writeFileAtomic(path, pkcs7, 0o600);
      this.signatures.set(raw, pkcs7);
    } else {
      if (existsSync(path)) unlinkSync(path);
      this.signatures.delete(raw);
    }
  }

  /**
   * Starts writing a policy text durably (under a temporary name) before it is parsed, so the
   * write and fsync of a large policy overlap the parse; load/update with the StagedFile put it
   * in place (the caller discards it when the request fails). `text` must be the exact bytes
   * the Policy is then parsed from.
   */
  stage(text: Uint8Array): Promise<StagedFile> {
    return stageFile(join(this.dir, 'policies'), text, 0o600);
  }

  #writePolicy(raw: string, p: Policy, staged: StagedFile | undefined): void {
    if (staged) staged.commit(this.#policyPath(raw));
    else writeFileAtomic(this.#policyPath(raw), p.text, 0o600);
  }

  load(p: Policy, pkcs7?: Uint8Array, staged?: StagedFile): Result<void> {
    const r = loadPolicy(this.store, p);
    if (!r.ok) return r;
    this.#writeSignature(p.rawName, pkcs7);
    this.#writePolicy(p.rawName, p, staged);
    this.store = r.value;
    return ok(undefined);
  }

  activate(raw: string): Result<{ previous: Policy | undefined }> {
    const previous = this.active;
    const r = activatePolicy(this.store, raw);
    if (!r.ok) return r;
    const before = this.store;
    this.store = r.value;
    try {
      this.#persistState();
    } catch (e) {
      this.store = before;
      throw e;
    }
    return ok({ previous });
  }

  update(raw: string, p: Policy, pkcs7?: Uint8Array, staged?: StagedFile): Result<{ wasActive: boolean; previous: Policy }> {
    const previous = this.store.policies.get(raw);
    const r = updatePolicy(this.store, raw, p);
    if (!r.ok) return r;
    this.#writeSignature(raw, pkcs7);
    this.#writePolicy(raw, p, staged);
    this.store = r.value;
    this.#persistState();
    return ok({ wasActive: this.store.active === raw, previous: previous! });
  }

  delete(raw: string): Result<void> {
    const r = deletePolicy(this.store, raw);
    if (!r.ok) return r;
    unlinkSync(this.#policyPath(raw));
    this.#writeSignature(raw, undefined);
    this.store = r.value;
    this.#persistState();
    return ok(undefined);
  }

  setFlags(flags: Partial<PersistedFlags>): void {
    const before = this.flags;
    this.flags = { ...this.flags, ...flags };
    try {
      this.#persistState();
    } catch (e) {
      this.flags = before;
      throw e;
    }
  }
}
