// Sandbox profiles: a JSON document with the same vocabulary as `ward run`'s flags, validated
// with errors that name the field. Profiles and flags merge into one SandboxRequest.

import { WardError, fail, ok, type Result } from '../errors.ts';
import { KNOWN_ABI, ACCESS_GROUPS, RESOLVE_UNIX, RESTRICT_FLAGS, type AccessGroup, type LogFlag } from './rights.ts';
import { bool, checkObject, listOf, oneOf, parseJsonText, type FieldCheck } from '../util/json.ts';
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
/** An environment entry: NAME (pass through) or NAME=value. */
export const ENV_ENTRY = /^[^=\0]+(=[^\0]*)?$/;

const path: FieldCheck = (v) => (typeof v === 'string' && v !== '' ? undefined : 'must be a non-empty path string');
const paths = listOf(path, 'paths');
const port: FieldCheck = (v) => (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535 ? undefined : 'must be a port number 0-65535');
const ports = listOf(port, 'port numbers');
const envEntry: FieldCheck = (v) => (typeof v === 'string' && ENV_ENTRY.test(v) ? undefined : 'must be "NAME" (pass it through) or "NAME=value"');
const LOG_FLAGS = Object.keys(RESTRICT_FLAGS).filter((f) => f !== 'tsync');
const abi: FieldCheck = (v) => (v === 'auto' || (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= KNOWN_ABI) ? undefined : `must be "auto" or an ABI number 1-${KNOWN_ABI}`);

// Each key is a `ward run` flag's name; the value checks what the flag takes.
const FIELDS: Readonly<Record<keyof SandboxProfile, FieldCheck>> = {
  ro: paths,
  rox: paths,
  rw: paths,
  rwx: paths,
  unix: paths,
  'bind-tcp': ports,
  'connect-tcp': ports,
  ...(Object.fromEntries(BOOLEANS.map((b) => [b, bool])) as Record<(typeof BOOLEANS)[number], FieldCheck>),
  compat: oneOf(...(['strict', 'best-effort', 'soft'] satisfies Compat[])),
  abi,
  env: listOf(envEntry, '"NAME" or "NAME=value" strings'),
  log: listOf(oneOf(...LOG_FLAGS), 'logging flags'),
};

/** Validates a parsed JSON value as a profile; `source` names it in messages. */
export function validateProfile(doc: unknown, source = 'profile'): Result<SandboxProfile> {
  const r = checkObject(doc, FIELDS, source, '{"ro":["/usr"],"connect-tcp":[443]}');
  if (!r.ok) return r;
  const p = r.value as SandboxProfile;
  if (p['keep-env'] && p['clear-env']) return fail(new WardError('EINVAL', `${source}: fields "keep-env" and "clear-env" exclude each other`));
  return ok(p);
}

export function parseProfileText(text: string, source: string): Result<SandboxProfile> {
  const doc = parseJsonText(text, source);
  return doc.ok ? validateProfile(doc.value, source) : doc;
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
