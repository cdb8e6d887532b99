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
import { enlightenedEnvPairs, enlightenedEnvironment, type LaunchSettings } from './launch.ts';
import { enforcement } from './state.ts';

function settings(): LaunchSettings {
  const e = enforcement();
  return { enforce: e.enforce, audit: e.audit, denyCodegen: e.denyCodegen, denyInteractive: e.denyInteractive, autoload: autoloadSetting() };
}

function currentPairs(): string[] {
  return Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
}

type Binding = (name: string) => Record<string, unknown>;

export function makeSticky(binding: Binding): void {
  const Process = binding('process_wrap').Process as { prototype: { spawn: (o: { envPairs?: string[] }) => number } };
  const spawn = Process.prototype.spawn;
  Process.prototype.spawn = function (this: unknown, options: { envPairs?: string[] }) {
    if (options && typeof options === 'object') options.envPairs = enlightenedEnvPairs(options.envPairs ?? currentPairs(), settings());
    return Reflect.apply(spawn, this, [options]);
  };

  const spawnSync = binding('spawn_sync') as { spawn: (o: { envPairs?: string[] }) => unknown };
  const syncSpawn = spawnSync.spawn;
  spawnSync.spawn = function (options: { envPairs?: string[] }) {
    if (options && typeof options === 'object') options.envPairs = enlightenedEnvPairs(options.envPairs ?? currentPairs(), settings());
    return Reflect.apply(syncSpawn, spawnSync, [options]);
  };

  const p = process as unknown as { execve?: (file: string, args?: string[], env?: Record<string, string | undefined>) => never };
  const execve = p.execve;
  if (typeof execve === 'function') {
    p.execve = function (file: string, args?: string[], env?: Record<string, string | undefined>) {
      return Reflect.apply(execve, process, [file, args ?? [], enlightenedEnvironment(env ?? process.env, settings())]) as never;
    };
  }
}
