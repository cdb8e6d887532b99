// ModAutoRestrict (seeds/004) for Node's module loading. Level 0: classic. Level 1: after the
// lock point, only modules on an allow-list may be loaded for the first time. Level 2: after the
// lock point nothing new loads — no file, package, builtin, addon or wasm. A level only goes up;
// it is inherited by worker threads and by child Node processes started with ward's preload
// (through ward's environment data and launch environment, whatever env the app passes); a global
// default comes from /etc/ward/node.json. Like the proposal, the per-process setting is checked
// first, then the global one.

const { fileURLToPath } = process.getBuiltinModule('node:url');
import { nodeConfig } from './config.ts';
import { refuse } from './errors.ts';
import { publishToWorkers, readInherited } from './inherit.ts';
import { ENV } from './launch.ts';
import { enforcement } from './state.ts';

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

const empty = (): Required<AutoloadAllow> => ({ builtins: [], packages: [], paths: [] });
const perProcess: Setting = { level: 0, allow: empty(), locked: false };
let global: Setting = { level: 0, allow: empty(), locked: false };
const loaded = new Set<string>();
// Builtins Node had loaded when the restriction locked, copied then: process.moduleLoadList is
// the app's to push onto, so it is never consulted afterwards.
let inMemoryAtLock: Set<string> | undefined;

function normalizeAllow(a: AutoloadAllow | undefined): Required<AutoloadAllow> {
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return { builtins: list(a?.builtins).map((b) => b.replace(/^node:/, '')), packages: list(a?.packages), paths: list(a?.paths) };
}

function parseLevel(v: unknown, where: string): AutoloadLevel {
  if (v === 0 || v === 1 || v === 2) return v;
  refuse('ERR_WARD_EPERM', `${where}: the module autoload level must be 0, 1 or 2, got ${JSON.stringify(v)}`);
}

/** Reads the global default (the sysctl analog) from /etc/ward/node.json (./config.ts). */
export function loadGlobalDefault(): void {
  const m = nodeConfig().moduleAutoload;
  if (!m) return;
  const level = parseLevel(m.level, m.file);
  if (level > global.level) global = { level, allow: normalizeAllow(m.allow), locked: false };
}

function snapshotInMemory(): void {
  const list = (process as unknown as { moduleLoadList?: string[] }).moduleLoadList ?? [];
  inMemoryAtLock ??= new Set(list.filter((x) => x.startsWith('NativeModule ')).map((x) => x.slice(13)));
}

/** Raises this thread's setting to an inherited one ({level, allow} JSON); never lowers it. */
function raiseTo(raw: string | undefined, where: string): void {
  if (!raw) return;
  let doc: { level?: unknown; allow?: AutoloadAllow };
  try {
    doc = JSON.parse(raw) as typeof doc;
  } catch {
    refuse('ERR_WARD_EPERM', `${where}: not a JSON {level, allow} object`);
  }
  const level = parseLevel(doc.level, where);
  if (level < perProcess.level) return;
  const allow = normalizeAllow(doc.allow);
  perProcess.allow = level === perProcess.level && perProcess.locked ? intersect(perProcess.allow, allow) : allow;
  perProcess.level = level;
  // The parent's restriction covers what it starts: in force from the first module on
  // (a worker's or child's entry script must itself be allowed).
  if (level > 0) {
    perProcess.locked = true;
    snapshotInMemory();
  }
}

/** Settings inherited from the parent thread (environment data) or process (environment). */
export function inheritSettings(): void {
  raiseTo(process.env[ENV.autoload], ENV.autoload);
  raiseTo(readInherited().autoload, 'the parent thread');
  publish();
}

/** The restriction as children and workers inherit it. */
export function autoloadSetting(): string | undefined {
  return perProcess.level > 0 ? JSON.stringify({ level: perProcess.level, allow: perProcess.allow }) : undefined;
}

/** Hands this thread's settings to the workers it starts (child processes: ./sticky.ts). */
export function publish(): void {
  const e = enforcement();
  publishToWorkers({ enforce: e.enforce, denyCodegen: e.denyCodegen, audit: e.audit, autoload: autoloadSetting() });
}

/**
 * Restricts module loading for this process (and the workers and Node children it starts).
 * `lock: 'now'` (default) applies at once; 'entry' once the entry module has been evaluated.
 * Lowering the level is refused (EPERM), as in the proposal.
 */
export function restrictModuleLoading(level: AutoloadLevel, options: { allow?: AutoloadAllow; lock?: 'now' | 'entry' } = {}): void {
  const l = parseLevel(level, 'restrictModuleLoading');
  if (l < perProcess.level) {
    refuse('ERR_WARD_EPERM', `EPERM: the module autoload level is ${perProcess.level} and can only go up, not to ${l}`);
  }
  perProcess.level = l;
  if (options.allow) {
    const a = normalizeAllow(options.allow);
    // Raising the level narrows what is allowed: an allow-list can only shrink once set.
    perProcess.allow = perProcess.locked ? intersect(perProcess.allow, a) : a;
  }
  if ((options.lock ?? 'now') === 'now') lock();
  publish();
}

function intersect(a: Required<AutoloadAllow>, b: Required<AutoloadAllow>): Required<AutoloadAllow> {
  return { builtins: a.builtins.filter((x) => b.builtins.includes(x)), packages: a.packages.filter((x) => b.packages.includes(x)), paths: a.paths.filter((x) => b.paths.includes(x)) };
}

function lock(): void {
  if (perProcess.level > 0) snapshotInMemory();
  perProcess.locked = true;
}

/** The lock point of --module-autoload / the global default: the entry module was evaluated. */
export function entryLoaded(): void {
  lock();
  if (global.level > 0) snapshotInMemory();
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

function alreadyInMemory(id: ModuleId): boolean {
  // A builtin Node had already loaded when the restriction locked (for ward's preload, another
  // loader, Node itself) is not new.
  return id.kind === 'builtin' && !!inMemoryAtLock?.has(id.name);
}

/** Called before a module is loaded; throws ERR_WARD_MODULE_DENIED if it may not be. */
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
    refuse('ERR_WARD_MODULE_DENIED', `${id.kind} ${id.name} may not be loaded: module autoloading is restricted at ${why}; ${how}`);
  }
  loaded.add(key);
}
