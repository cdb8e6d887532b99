// ModAutoRestrict (seeds/004) for Node's module loading. Level 0: classic. Level 1: after the
// lock point, only modules on an allow-list may be loaded for the first time. Level 2: after the
// lock point nothing new loads — no file, package, builtin, addon or wasm. A level only goes up;
// it is inherited by worker threads and by child Node processes started with ward's preload
// (through the environment); a global default comes from /etc/ward/node.json. Like the proposal,
// the per-process setting is checked first, then the global one.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WardNodeError } from './errors.ts';

export type AutoloadLevel = 0 | 1 | 2;

export interface AutoloadAllow {
  /** Builtins by name, with or without "node:". */
  builtins?: string[];
  /** Packages by name (as in node_modules/<name>). */
  packages?: string[];
  /** Files under these path prefixes. */
  paths?: string[];
}

interface Setting {
  level: AutoloadLevel;
  allow: Required<AutoloadAllow>;
  locked: boolean;
}

export const ENV_LEVEL = 'WARD_NODE_AUTOLOAD';
export const GLOBAL_CONFIG = '/etc/ward/node.json';

const empty = (): Required<AutoloadAllow> => ({ builtins: [], packages: [], paths: [] });
const perProcess: Setting = { level: 0, allow: empty(), locked: false };
let global: Setting = { level: 0, allow: empty(), locked: false };
const loaded = new Set<string>();

function normalizeAllow(a: AutoloadAllow | undefined): Required<AutoloadAllow> {
  return { builtins: (a?.builtins ?? []).map((b) => b.replace(/^node:/, '')), packages: a?.packages ?? [], paths: a?.paths ?? [] };
}

function parseLevel(v: unknown, where: string): AutoloadLevel {
  if (v === 0 || v === 1 || v === 2) return v;
  throw new WardNodeError('ERR_WARD_EPERM', `${where}: the module autoload level must be 0, 1 or 2, got ${JSON.stringify(v)}`);
}

/** Reads the global default (the sysctl analog); WARD_NODE_CONFIG may name another file, which can only raise it. */
export function loadGlobalDefault(): void {
  for (const file of [GLOBAL_CONFIG, process.env.WARD_NODE_CONFIG].filter((f): f is string => !!f)) {
    if (!existsSync(file)) continue;
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { moduleAutoload?: { level?: unknown; allow?: AutoloadAllow } };
    if (!doc.moduleAutoload) continue;
    const level = parseLevel(doc.moduleAutoload.level, file);
    if (level > global.level) global = { level, allow: normalizeAllow(doc.moduleAutoload.allow), locked: false };
  }
}

/** Settings inherited from a parent (worker or process), through the environment. */
export function inheritFromEnv(): void {
  const raw = process.env[ENV_LEVEL];
  if (!raw) return;
  const doc = JSON.parse(raw) as { level: unknown; allow?: AutoloadAllow };
  perProcess.level = parseLevel(doc.level, ENV_LEVEL);
  perProcess.allow = normalizeAllow(doc.allow);
  // The parent's restriction covers what it starts: in force from the first module on
  // (a worker's or child's entry script must itself be allowed).
  perProcess.locked = perProcess.level > 0;
}

function publish(): void {
  // Workers copy process.env when they start; child processes inherit it.
  process.env[ENV_LEVEL] = JSON.stringify({ level: perProcess.level, allow: perProcess.allow });
}

/**
 * Restricts module loading for this process (and the workers and Node children it starts).
 * `lock: 'now'` (default) applies at once; 'entry' once the entry module has been evaluated.
 * Lowering the level is refused (EPERM), as in the proposal.
 */
export function restrictModuleLoading(level: AutoloadLevel, options: { allow?: AutoloadAllow; lock?: 'now' | 'entry' } = {}): void {
  const l = parseLevel(level, 'restrictModuleLoading');
  if (l < perProcess.level) {
    throw new WardNodeError('ERR_WARD_EPERM', `EPERM: the module autoload level is ${perProcess.level} and can only go up, not to ${l}`);
  }
  perProcess.level = l;
  if (options.allow) {
    const a = normalizeAllow(options.allow);
    // Raising the level narrows what is allowed: an allow-list can only shrink once set.
    perProcess.allow = perProcess.locked ? intersect(perProcess.allow, a) : a;
  }
  if ((options.lock ?? 'now') === 'now') perProcess.locked = true;
  publish();
}

function intersect(a: Required<AutoloadAllow>, b: Required<AutoloadAllow>): Required<AutoloadAllow> {
  return { builtins: a.builtins.filter((x) => b.builtins.includes(x)), packages: a.packages.filter((x) => b.packages.includes(x)), paths: a.paths.filter((x) => b.paths.includes(x)) };
}

/** The lock point of --module-autoload / inherited settings: the entry module was evaluated. */
export function entryLoaded(): void {
  perProcess.locked = true;
  global.locked = true;
}

export function currentLevel(): { perProcess: AutoloadLevel; global: AutoloadLevel; locked: boolean } {
  return { perProcess: perProcess.level, global: global.level, locked: perProcess.locked };
}

export interface ModuleId {
  kind: 'builtin' | 'file' | 'addon' | 'wasm';
  /** 'fs' for builtins; the path for files. */
  name: string;
  url: string;
}

export function moduleIdOf(url: string, kind: ModuleId['kind'] = 'file'): ModuleId {
  if (url.startsWith('node:')) return { kind: 'builtin', name: url.slice(5), url };
  if (url.startsWith('file:')) return { kind, name: fileURLToPath(url), url };
  return { kind, name: url, url };
}

function packageOf(path: string): string | undefined {
  const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  return m?.[1];
}

function allowedBy(allow: Required<AutoloadAllow>, id: ModuleId): boolean {
  if (id.kind === 'builtin') return allow.builtins.includes(id.name);
  const pkg = packageOf(id.name);
  if (pkg && allow.packages.includes(pkg)) return true;
  return allow.paths.some((p) => id.name === p || id.name.startsWith(p.endsWith('/') ? p : `${p}/`));
}

function verdict(s: Setting, id: ModuleId): string | undefined {
  if (!s.locked || s.level === 0) return undefined;
  if (s.level === 2) return 'level 2: nothing new may be loaded';
  return allowedBy(s.allow, id) ? undefined : 'level 1: it is not on the allow-list';
}

/** Called before a module is loaded; throws ERR_WARD_MODULE_DENIED if it may not be. */
function alreadyInMemory(id: ModuleId): boolean {
  // A builtin some earlier code (ward's own preload, another loader) already loaded is not new.
  const list = (process as unknown as { moduleLoadList?: string[] }).moduleLoadList;
  return id.kind === 'builtin' && !!list?.includes(`NativeModule ${id.name}`);
}

export function checkModuleLoad(id: ModuleId): void {
  const key = `${id.kind}:${id.url}`;
  if (loaded.has(key) || alreadyInMemory(id)) return;
  const why = verdict(perProcess, id) ?? verdict(global, id);
  if (why) {
    const pkg = id.kind === 'builtin' ? undefined : packageOf(id.name);
    const how =
      id.kind === 'builtin'
        ? `allow it with restrictModuleLoading(1, { allow: { builtins: ['${id.name}'] } }) before the lock, or load it earlier`
        : pkg
          ? `allow it with restrictModuleLoading(1, { allow: { packages: ['${pkg}'] } }) before the lock, or load it earlier`
          : `allow it with restrictModuleLoading(1, { allow: { paths: ['${id.name}'] } }) before the lock, or load it earlier`;
    throw new WardNodeError('ERR_WARD_MODULE_DENIED', `${id.kind} ${id.name} may not be loaded: module autoloading is restricted at ${why}; ${how}`);
  }
  loaded.add(key);
}
