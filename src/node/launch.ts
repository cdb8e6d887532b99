// The contract between whoever starts an enlightened Node (the `ward node` launcher, and every
// enlightened process when it starts another process or thread) and ward's preload: where the
// preload is, which variables and flags carry the settings. One home, so the launcher and the
// sticky enforcement in ./sticky.ts cannot drift apart.
//
// The settings only add restrictions: a child is started with at least its parent's. Enforcement
// itself comes from the kernel's exec securebits, which children inherit whatever their
// environment says; the variables here carry what the bits cannot (ward's own --enforce for hosts
// without the bits, --deny-codegen, the module autoload level, audit logging).

const { fileURLToPath } = process.getBuiltinModule('node:url');
import { optionName, splitNodeOptions } from './options.ts';

export const PRELOAD = fileURLToPath(new URL('../../bin/ward-node-preload.cjs', import.meta.url));
/** ward's installation: its own files and dependencies (koffi) are never the app's to import. */
export const WARD_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const ENV = {
  /** "1": enforce as if both exec securebits were set (hosts without them). */
  enforce: 'WARD_NODE_ENFORCE',
  /** "1": log failed checks that are not enforced. */
  audit: 'WARD_NODE_AUDIT',
  /** "1": refuse code generation from strings and bytes (eval, Function, node:vm, wasm bytes). */
  denyCodegen: 'WARD_NODE_DENY_CODEGEN',
  /** JSON {level, allow}: the module autoload restriction, in force from the first module. */
  autoload: 'WARD_NODE_AUTOLOAD',
  /** A level applied once the entry module has been evaluated (`ward node --module-autoload`). */
  autoloadAtEntry: 'WARD_NODE_AUTOLOAD_AT_ENTRY',
  /** Another configuration file, which can only raise /etc/ward/node.json's settings. */
  config: 'WARD_NODE_CONFIG',
} as const;

/** V8's own switch for eval/Function; ward's preload refuses to start in --deny-codegen without it. */
export const FLAG_NO_CODEGEN = '--disallow-code-generation-from-strings';
/** SIGUSR1 would start the inspector at run time (any process of the same user can send it). */
export const FLAG_NO_SIGUSR1 = '--disable-sigusr1';

export interface LaunchSettings {
  enforce?: boolean;
  audit?: boolean;
  denyCodegen?: boolean;
  /** Refuse the inspector's start signal (set whenever DENY_INTERACTIVE is, or may be, in force). */
  denyInteractive?: boolean;
  /** The parent's module autoload restriction, inherited locked. */
  autoload?: string;
  autoloadAtEntry?: number;
}

function quote(v: string): string {
  return /[\s"\\]/.test(v) ? `"${v.replace(/(["\\])/g, '\\$1')}"` : v;
}

/** The options ward puts first on the command line and in NODE_OPTIONS (unquoted). */
export function wardNodeOptions(s: LaunchSettings): string[] {
  const parts = [`--require=${PRELOAD}`];
  if (s.denyCodegen) parts.push(FLAG_NO_CODEGEN);
  if (s.denyInteractive || s.enforce) parts.push(FLAG_NO_SIGUSR1);
  return parts;
}

/**
 * The environment of an enlightened Node (or of any process an enlightened one starts): ward's
 * options first in NODE_OPTIONS — whatever `base` says, so a replaced or emptied NODE_OPTIONS
 * still starts with the preload — and ward's variables set from `s`, never from `base`.
 */
export function enlightenedEnvironment(base: Readonly<Record<string, string | undefined>>, s: LaunchSettings): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  const ours = wardNodeOptions(s).map(quote);
  const theirs = splitNodeOptions(env.NODE_OPTIONS ?? '');
  const already = wardNodeOptions(s).every((o, i) => theirs[i] === o);
  env.NODE_OPTIONS = already ? env.NODE_OPTIONS! : [...ours, env.NODE_OPTIONS ?? ''].join(' ').trim();
  const set = (k: string, on: boolean | undefined, v = '1') => {
    if (on) env[k] = v;
  };
  set(ENV.enforce, s.enforce);
  set(ENV.audit, s.audit);
  set(ENV.denyCodegen, s.denyCodegen);
  if (s.autoload !== undefined) env[ENV.autoload] = s.autoload;
  if (s.autoloadAtEntry !== undefined) env[ENV.autoloadAtEntry] = String(s.autoloadAtEntry);
  return env;
}

/** Same, as the "K=V" pairs the process-spawning bindings take. */
export function enlightenedEnvPairs(pairs: readonly string[], s: LaunchSettings): string[] {
  const base: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i > 0) base[p.slice(0, i)] = p.slice(i + 1);
  }
  return Object.entries(enlightenedEnvironment(base, s)).map(([k, v]) => `${k}=${v}`);
}

// Node options under which Node runs code before ward's preload (or never runs it), tested on
// Node 24: the inspector listens — and with -brk/-wait waits for a debugger, indefinitely —
// before the `--require`s are loaded, so anyone who can reach its port evaluates text there; a
// snapshot is built from its entry file without loading any `--require`; a snapshot blob's
// deserialize callbacks run before them, and its main function instead of the checked script.
// Whole, normalised names (./options.ts).
const INSPECTOR = "the inspector listens (with -brk/-wait: waits for a debugger) before ward's preload runs, and evaluates any text sent to it";
const SNAPSHOT = "Node builds a snapshot by running the entry file without loading ward's preload, and runs a snapshot's deserialize callbacks before it (a blob is code no check sees)";
const BEFORE_PRELOAD = new Map<string, { door: 'inspector' | 'snapshot'; why: string }>([
  ['--inspect', { door: 'inspector', why: INSPECTOR }],
  ['--inspect-brk', { door: 'inspector', why: INSPECTOR }],
  ['--inspect-wait', { door: 'inspector', why: INSPECTOR }],
  ['--inspect-brk-node', { door: 'inspector', why: INSPECTOR }],
  ['--build-snapshot', { door: 'snapshot', why: SNAPSHOT }],
  ['--build-snapshot-config', { door: 'snapshot', why: SNAPSHOT }],
  ['--snapshot-blob', { door: 'snapshot', why: SNAPSHOT }],
]);

export interface BeforePreload {
  flag: string;
  /** The inspector is a DENY_INTERACTIVE door; building a snapshot skips every check. */
  door: 'inspector' | 'snapshot';
  why: string;
}

/**
 * Every option in NODE_OPTIONS or `args` under which Node runs code ward's preload cannot check
 * first. `args` are scanned whole (an option's value cannot be told from the script by a parser
 * that does not know every option), so a script argument spelled like one of these options is
 * refused too: refusing beats guessing.
 */
export function runsBeforePreload(args: readonly string[], nodeOptions: string | undefined): BeforePreload[] {
  const out: BeforePreload[] = [];
  for (const a of [...splitNodeOptions(nodeOptions ?? ''), ...args]) {
    if (!a.startsWith('--')) continue;
    const name = optionName(a);
    const hit = BEFORE_PRELOAD.get(name);
    if (hit) out.push({ flag: name, ...hit });
  }
  return out;
}

/** Whether `file` (as given to a spawn) is a Node binary: this process's, or one named node. */
export function isNodeBinary(file: string, execPath: string): boolean {
  const base = file.slice(file.lastIndexOf('/') + 1);
  return file === execPath || /^node(js)?[0-9.]*$/.test(base);
}
