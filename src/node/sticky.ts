// Enforcement is sticky: every process an enlightened Node starts gets ward's preload and this
// process's settings, whatever environment the app passes — a replaced or empty NODE_OPTIONS, a
// clean `env`, `process.execve` — because they are added where processes are made: the
// process_wrap handle's spawn (child_process.spawn/exec/execFile/fork), spawn_sync's spawn (every
// *Sync variant) and process.execve. The originals stay only in this module's closure; ward's
// modules are not importable by the app (./seal.ts). Worker threads run the preload by
// themselves (NODE_OPTIONS and the command line are per process) and take their settings from
// the parent's environment data (./inherit.ts).
//
// What stays outside: a program that is not an enlightened interpreter (a shell, `env -i`)
// started from here may start a plain `node` with a clean environment, and that `node` checks
// nothing. The exec securebits it inherits only bind interpreters that honour them; keep such
// programs out with the exec policy (docs/node.md, "What a plain node can do").

import { autoloadSetting } from './autoload.ts';
import { whenLoaded } from './builtins.ts';
import { denyCode, refuse } from './errors.ts';
import { guardCtor } from './guard.ts';
import { enlightenedEnvPairs, enlightenedEnvironment, isNodeBinary, PRELOAD, runsBeforePreload, type LaunchSettings } from './launch.ts';
import { enforcement } from './state.ts';


function settings(): LaunchSettings {
  const e = enforcement();
  return { enforce: e.enforce, audit: e.audit, denyCodegen: e.denyCodegen, denyInteractive: e.denyInteractive, autoload: autoloadSetting() };
}

function currentPairs(): string[] {
  return Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
}

const isPairs = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * The environment argument of the process_wrap handle's spawn: an options object (older Node)
 * or positional (file, args, cwd, envPairs, stdio, …) as in Node 24. An unknown shape is refused
 * rather than passed on unenlightened.
 */
function enlightenSpawnArgs(a: unknown[]): unknown[] {
  const first = a[0] as { envPairs?: unknown; file?: unknown; args?: unknown } | undefined;
  if (first && typeof first === 'object' && !Array.isArray(first)) {
    const pairs = isPairs(first.envPairs) ? first.envPairs : currentPairs();
    refuseBeforePreload(first.file, first.args, pairs);
    first.envPairs = enlightenedEnvPairs(pairs, settings());
    return a;
  }
  if (typeof a[0] === 'string' && (a[3] === undefined || isPairs(a[3]))) {
    const out = Array.from({ length: a.length }, (_, i) => a[i]);
    const pairs = isPairs(a[3]) ? a[3] : currentPairs();
    refuseBeforePreload(a[0], a[1], pairs);
    out[3] = enlightenedEnvPairs(pairs, settings());
    return out;
  }
  refuse('ERR_WARD_EPERM', 'EPERM: this Node spawns processes in a way ward does not know, so it cannot hand them its checks; refusing to start the process');
}


/**
 * Under enforcement, a Node child must not run code before ward's preload checks it (the
 * inspector waiting or listening, a snapshot being built: ./launch.ts). Its command line is
 * known only when this process starts Node itself; NODE_OPTIONS is Node's wherever it is read, so
 * it is checked for every program started (a shell would hand it on to the node it runs).
 */
function refuseBeforePreload(file: unknown, args: unknown, pairs: readonly string[]): void {
  const e = enforcement();
  if (!e.restrictFile && !e.denyInteractive && !e.denyCodegen) return;
  const nodeOptions = pairs.find((p) => p.startsWith('NODE_OPTIONS='))?.slice('NODE_OPTIONS='.length);
  const argv = typeof file === 'string' && isNodeBinary(file, process.execPath) && isPairs(args) ? args.slice(1) : [];
  const hit = runsBeforePreload(argv, nodeOptions).find((h) => h.door === 'snapshot' || e.denyInteractive);
  if (hit) refuse('ERR_WARD_EPERM', `EPERM: starting node with ${hit.flag} is refused: ${hit.why}, and the exec securebits are set (or ward node enforces); remove ${hit.flag}`);
}

export function makeSticky(processWrap: Record<string, unknown>, spawnSyncBinding: Record<string, unknown>): void {
  const Process = processWrap.Process as { prototype: { spawn: (...a: unknown[]) => number } };
  const spawn = Process.prototype.spawn;
  Process.prototype.spawn = function (this: unknown, ...a: unknown[]) {
    return Reflect.apply(spawn, this, enlightenSpawnArgs(a));
  };

  const spawnSync = spawnSyncBinding as { spawn: (...a: unknown[]) => unknown };
  const syncSpawn = spawnSync.spawn;
  spawnSync.spawn = function (...a: unknown[]) {
    return Reflect.apply(syncSpawn, spawnSync, enlightenSpawnArgs(a));
  };

  const p = process as unknown as { execve?: (file: string, args?: string[], env?: Record<string, string | undefined>) => never };
  const execve = p.execve;
  if (typeof execve === 'function') {
    p.execve = function (file: string, args?: string[], env?: Record<string, string | undefined>) {
      const base = env ?? process.env;
      refuseBeforePreload(file, args ?? [], base.NODE_OPTIONS === undefined ? [] : [`NODE_OPTIONS=${base.NODE_OPTIONS}`]);
      return Reflect.apply(execve, process, [file, args ?? [], enlightenedEnvironment(base, settings())]) as never;
    };
  }
  stickyWorkers();
}

/**
 * An `env` object given to a Worker, as a plain copy whose NODE_OPTIONS (if any) starts with
 * ward's options. Node parses NODE_OPTIONS from a Worker's explicit `env` for the thread's own
 * options, and those `--require`s run *before* the ones on the command line — so
 * `env: { NODE_OPTIONS: '--require ./x.js' }` ran x.js unchecked ahead of ward's preload.
 */
function enlightenWorkerEnv(env: object): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...env };
  const given = (env as Record<string, unknown>).NODE_OPTIONS;
  if (given !== undefined) copy.NODE_OPTIONS = enlightenedEnvironment({ NODE_OPTIONS: String(given) }, settings()).NODE_OPTIONS;
  return copy;
}

/**
 * Worker threads inherit the process's command line (where `ward node` puts the preload) unless
 * the app passes `execArgv`, and read per-thread options from an `env` it passes: ward's preload
 * is put first in any execArgv and in the NODE_OPTIONS of any `env` object the app gives
 * (SHARE_ENV and the default, a copy of process.env, are not parsed for options by Node).
 * DENY_INTERACTIVE: a worker's code must be a file (eval refused here; data:/blob: workers fail
 * in the worker's own load hook).
 */
function stickyWorkers(): void {
  whenLoaded('worker_threads', (wt) => guardCtor(wt, 'Worker', (a) => {
    const options = a[1] as { eval?: unknown; execArgv?: unknown; env?: unknown } | undefined;
    if (enforcement().denyInteractive && options?.eval) denyCode('new Worker(code, { eval: true })');
    if (!options) return;
    const next: Record<string, unknown> = { ...options };
    if (Array.isArray(options.execArgv)) {
      const mine = `--require=${PRELOAD}`;
      if (options.execArgv[0] !== mine) next.execArgv = [mine, ...(options.execArgv as unknown[])];
    }
    if (options.env !== null && typeof options.env === 'object') next.env = enlightenWorkerEnv(options.env);
    a[1] = next;
  }));
}
