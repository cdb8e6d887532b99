// What an enlightened thread hands to the worker threads it starts, whatever `env` the app gives
// them: Node's per-thread "environment data" (worker_threads.setEnvironmentData), cloned into
// every new Worker. ward's key cannot be set by the app (the public setter refuses it; the data
// store itself is internal to Node), so a worker reads its parent's settings, not the app's.
// Child processes get the same settings through ./launch.ts (see ./sticky.ts).

import wt from 'node:worker_threads';
import { syncBuiltinESMExports } from 'node:module';
import { refuse } from './errors.ts';

const KEY = 'ward.node.settings';

export interface Inherited {
  enforce?: boolean;
  denyCodegen?: boolean;
  audit?: boolean;
  /** JSON of the module autoload restriction ({level, allow}). */
  autoload?: string;
}

export function readInherited(): Inherited {
  if (wt.isMainThread) return {};
  const raw = wt.getEnvironmentData(KEY);
  return typeof raw === 'string' ? (JSON.parse(raw) as Inherited) : {};
}

const setEnvironmentData = wt.setEnvironmentData;

export function publishToWorkers(s: Inherited): void {
  setEnvironmentData(KEY, JSON.stringify(s));
}

export function guardEnvironmentData(): void {
  wt.setEnvironmentData = function (key: unknown, value?: unknown) {
    if (key === KEY) refuse('ERR_WARD_EPERM', `EPERM: worker_threads.setEnvironmentData('${KEY}') is ward's; worker threads inherit ward's settings from their parent`);
    return Reflect.apply(setEnvironmentData, wt, [key, value]);
  } as typeof wt.setEnvironmentData;
  syncBuiltinESMExports();
}
