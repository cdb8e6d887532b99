// Sandbox profiles: a JSON document with the same vocabulary as `ward run`'s flags, validated
// with errors that name the field. Profiles and flags merge into one SandboxRequest.

import { WardError, fail, ok, type Result } from '../errors.ts';
import { ACCESS_GROUPS, RESOLVE_UNIX, RESTRICT_FLAGS, type AccessGroup, type LogFlag } from './rights.ts';
import type { Compat, PathRule, SandboxRequest } from './negotiate.ts';

/** A profile: the flags of `ward run` as JSON keys. */
export interface SandboxProfile {
  ro?: string[];
  rox?: string[];
  rw?: string[];
  rwx?: string[];
  'bind-tcp'?: number[];
  'connect-tcp'?: number[];
  'unrestricted-fs'?: boolean;
  'unrestricted-net'?: boolean;
  'allow-signals-out'?: boolean;
  'allow-abstract-unix-out'?: boolean;
  compat?: Compat;
  abi?: number | 'auto';
  'add-libs'?: boolean;
  /** landrun's --ldd: the interpreter and libraries of CMD, not CMD itself. */
  ldd?: boolean;
  /** landrun's --add-exec: CMD itself. */
  'add-exec'?: boolean;
  'ignore-missing'?: boolean;
  /** "NAME" passes the caller's variable through, "NAME=value" sets one. */
  env?: string[];
  /** Accepted for compatibility: a clean environment is the default. */
  'clear-env'?: boolean;
  /** The whole caller environment reaches CMD (the old default). */
  'keep-env'?: boolean;
  /** CMD stays in the caller's session (TIOCSTI/TIOCLINUX are still refused by seccomp). */
  'share-session'?: boolean;
  /** As root: CMD keeps its capabilities (dropped by default). */
  'keep-caps'?: boolean;
  /** Pathname unix sockets CMD may connect to (Landlock ABI 9). */
  unix?: string[];
  /** Connecting to every pathname unix socket the file modes allow. */
  'allow-unix-sockets'?: boolean;
  /** UDP while the network is restricted. */
  'allow-udp'?: boolean;
  'allow-sysv-ipc'?: boolean;
  'allow-keyrings'?: boolean;
  log?: LogFlag[];
}

const GROUPS: readonly AccessGroup[] = ['ro', 'rox', 'rw', 'rwx'];
const BOOLEANS = ['unrestricted-fs', 'unrestricted-net', 'allow-signals-out', 'allow-abstract-unix-out', 'add-libs', 'ldd', 'add-exec', 'ignore-missing', 'clear-env', 'keep-env', 'keep-caps', 'share-session', 'allow-unix-sockets', 'allow-udp', 'allow-sysv-ipc', 'allow-keyrings'] as const;
const KNOWN = [...GROUPS, 'unix', 'bind-tcp', 'connect-tcp', ...BOOLEANS, 'compat', 'abi', 'env', 'log'];
/** An environment entry: NAME (pass through) or NAME=value. */
export const ENV_ENTRY = /^[^=\0]+(=[^\0]*)?$/;

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function closest(key: string): string | undefined {
  const k = key.toLowerCase().replace(/_/g, '-');
  let best: string | undefined;
  let bestD = 3;
  for (const x of KNOWN) {
    const d = editDistance(k, x);
    if (d < bestD) [best, bestD] = [x, d];
  }
  return best;
}

/** Validates a parsed JSON value as a profile; `source` names it in messages. */
export function validateProfile(doc: unknown, source = 'profile'): Result<SandboxProfile> {
  const bad = (field: string, msg: string) => fail(new WardError('EINVAL', `${source}: field "${field}": ${msg}`));
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return fail(new WardError('EINVAL', `${source}: a profile is a JSON object such as {"ro":["/usr"],"connect-tcp":[443]}`));
  }
  const p = doc as Record<string, unknown>;
  for (const key of Object.keys(p)) {
    if (!KNOWN.includes(key)) {
      const near = closest(key);
      return bad(key, `unknown field${near ? `; did you mean "${near}"?` : ''} (known: ${KNOWN.join(', ')})`);
    }
  }
  for (const g of [...GROUPS, 'unix']) {
    const v = p[g];
    if (v === undefined) continue;
    if (!Array.isArray(v)) return bad(g, 'must be an array of paths');
    for (const [i, x] of v.entries()) if (typeof x !== 'string' || x === '') return bad(`${g}[${i}]`, `must be a non-empty path string, got ${JSON.stringify(x)}`);
  }
  for (const f of ['bind-tcp', 'connect-tcp']) {
    const v = p[f];
    if (v === undefined) continue;
    if (!Array.isArray(v)) return bad(f, 'must be an array of port numbers');
    for (const [i, x] of v.entries()) {
      if (!Number.isInteger(x) || (x as number) < 0 || (x as number) > 65535) return bad(`${f}[${i}]`, `must be a port number 0-65535, got ${JSON.stringify(x)}`);
    }
  }
  for (const b of BOOLEANS) if (p[b] !== undefined && typeof p[b] !== 'boolean') return bad(b, `must be true or false, got ${JSON.stringify(p[b])}`);
  if (p.compat !== undefined && !['strict', 'best-effort', 'soft'].includes(p.compat as string)) return bad('compat', `must be "strict", "best-effort" or "soft", got ${JSON.stringify(p.compat)}`);
  if (p.abi !== undefined && p.abi !== 'auto' && !(Number.isInteger(p.abi) && (p.abi as number) >= 1 && (p.abi as number) <= 10)) return bad('abi', `must be "auto" or an ABI number 1-10, got ${JSON.stringify(p.abi)}`);
  if (p.env !== undefined) {
    if (!Array.isArray(p.env)) return bad('env', 'must be an array of "NAME" or "NAME=value" strings');
    for (const [i, x] of p.env.entries()) if (typeof x !== 'string' || !ENV_ENTRY.test(x)) return bad(`env[${i}]`, `must be "NAME" (pass it through) or "NAME=value", got ${JSON.stringify(x)}`);
  }
  if (p.log !== undefined) {
    if (!Array.isArray(p.log)) return bad('log', 'must be an array of logging flags');
    for (const [i, x] of p.log.entries()) if (!(typeof x === 'string' && x in RESTRICT_FLAGS && x !== 'tsync')) return bad(`log[${i}]`, `must be one of log_same_exec_off, log_new_exec_on, log_subdomains_off, got ${JSON.stringify(x)}`);
  }
  if (p['keep-env'] && p['clear-env']) return bad('keep-env', '"keep-env" and "clear-env" exclude each other');
  return ok(p as SandboxProfile);
}

export function parseProfileText(text: string, source: string): Result<SandboxProfile> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return fail(new WardError('EINVAL', `${source}: not valid JSON: ${(e as Error).message}`));
  }
  return validateProfile(doc, source);
}

/** Profiles merged left to right: lists concatenate, later scalars win. */
export function mergeProfiles(...profiles: SandboxProfile[]): SandboxProfile {
  const out: SandboxProfile = {};
  for (const p of profiles) {
    for (const [k, v] of Object.entries(p) as Array<[keyof SandboxProfile, unknown]>) {
      if (v === undefined) continue;
      const prev = out[k];
      (out as Record<string, unknown>)[k] = Array.isArray(v) && Array.isArray(prev) ? [...prev, ...v] : v;
    }
  }
  return out;
}

/** Extra path rules (e.g. from --add-libs) join the profile's. */
export function profileToRequest(p: SandboxProfile, extraRules: PathRule[] = []): SandboxRequest {
  const rules: PathRule[] = [];
  for (const g of GROUPS) for (const path of p[g] ?? []) rules.push({ path, access: ACCESS_GROUPS[g], origin: `--${g}` });
  for (const path of p.unix ?? []) rules.push({ path, access: RESOLVE_UNIX, origin: '--unix' });
  rules.push(...extraRules);
  return {
    fs: { restrict: !p['unrestricted-fs'], rules, allowUnixSockets: !!p['allow-unix-sockets'] },
    net: { restrict: !p['unrestricted-net'], bindTcp: p['bind-tcp'] ?? [], connectTcp: p['connect-tcp'] ?? [], allowUdp: !!p['allow-udp'] },
    scopes: { signal: !p['allow-signals-out'], abstractUnix: !p['allow-abstract-unix-out'] },
    log: p.log ?? [],
    abi: p.abi ?? 'auto',
    compat: p.compat ?? 'strict',
  };
}

/**
 * The environment CMD gets: empty by default (as landrun does: secrets, SSH_AUTH_SOCK and
 * LD_PRELOAD stay outside), or the caller's with keep-env; then each env entry — NAME copies the
 * caller's variable (if set), NAME=value sets one.
 */
export function profileEnv(p: SandboxProfile, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = p['keep-env'] ? { ...base } : {};
  for (const kv of p.env ?? []) {
    const eq = kv.indexOf('=');
    if (eq < 0) {
      if (base[kv] !== undefined) env[kv] = base[kv];
    } else env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}
