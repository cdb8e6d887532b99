// `ward node ARGS`: the launcher side of the contract in ./launch.ts (kept apart so the preload,
// which imports ./launch.ts in every enlightened thread, does not load the exec machinery).

import { decodeExecBits, getSecurebits } from '../kernel/securebits.ts';
import { replaceProcess } from '../kernel/process.ts';
import { WardError } from '../errors.ts';
import { ENV, enlightenedEnvironment, runsBeforePreload, wardNodeOptions } from './launch.ts';

export interface LaunchOptions {
  audit?: boolean;
  enforce?: boolean;
  denyCodegen?: boolean;
  moduleAutoload?: number;
}

/**
 * `ward node ARGS`: becomes Node (execve) with the preload first, so exit status and signals are
 * Node's. Returns only by throwing (the execve errno as a KernelError).
 */
export function launchNode(args: readonly string[], o: LaunchOptions, env: NodeJS.ProcessEnv = process.env): never {
  const bits = decodeExecBits(getSecurebits());
  // WARD_NODE_ENFORCE=1 / WARD_NODE_DENY_CODEGEN=1 in the caller's environment add as much as the options do.
  const enforce = !!o.enforce || env[ENV.enforce] === '1';
  const denyCodegen = !!o.denyCodegen || env[ENV.denyCodegen] === '1';
  // Node modes that run code before the preload could check it are refused while enforcing,
  // whether asked for on the command line or through NODE_OPTIONS (code from the environment).
  const hit = runsBeforePreload(args, env.NODE_OPTIONS).find((h) => h.door === 'snapshot' ? bits.restrictFile || bits.denyInteractive || enforce || denyCodegen : bits.denyInteractive || enforce);
  if (hit) throw new WardError('EPERM', `EPERM: ${hit.flag} is refused: ${hit.why}, and the exec securebits are set (or --enforce); remove ${hit.flag}`);
  const e = enlightenedEnvironment(env, { enforce, audit: o.audit, denyCodegen, denyInteractive: bits.denyInteractive, autoloadAtEntry: o.moduleAutoload });
  // On the command line too: worker threads inherit it (they read NODE_OPTIONS from an `env` the
  // app gives them), and NODE_OPTIONS keeps the preload ahead of any --require the caller put there.
  const settings = { enforce, audit: o.audit, denyCodegen, denyInteractive: bits.denyInteractive };
  replaceProcess(process.execPath, [process.execPath, ...wardNodeOptions(settings), ...args], e);
}
