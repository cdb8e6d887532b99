// What an enlightened thread hands to the worker threads it starts, whatever `env` the app gives
// them: Node's per-thread "environment data" (worker_threads.setEnvironmentData), cloned into
// every new Worker. ward's key cannot be set by the app (the public setter refuses it; the data
// store itself is internal to Node), so a worker reads its parent's settings, not the app's.
// Child processes get the same settings through ./launch.ts (see ./sticky.ts).

import { getBuiltin, handedOut, isMainThread, whenLoaded } from './builtins.ts';
import { refuse } from './errors.ts';

const KEY = 'ward.node.settings';

export interface Inherited {
  enforce?: boolean;
  denyCodegen?: boolean;
  audit?: boolean;
  /** JSON of the module autoload restriction ({level, allow}). */
  autoload?: string;
}

type WorkerThreads = { getEnvironmentData: (k: string) => unknown; setEnvironmentData: (k: string, v?: unknown) => void };

export function readInherited(): Inherited {
  if (isMainThread()) return {};
  const raw = getBuiltin<WorkerThreads>('node:worker_threads').getEnvironmentData(KEY);
  return typeof raw === 'string' ? (JSON.parse(raw) as Inherited) : {};
}

let latest = '{}';
let setEnvironmentData: WorkerThreads['setEnvironmentData'] | undefined;

/** Workers can only be made once worker_threads is handed out: published then, and on every change. */
export function publishToWorkers(s: Inherited): void {
  latest = JSON.stringify(s);
  if (setEnvironmentData && handedOut('worker_threads')) setEnvironmentData(KEY, latest);
}

export function guardEnvironmentData(): void {
  whenLoaded('worker_threads', (wt) => {
    const set = wt.setEnvironmentData as WorkerThreads['setEnvironmentData'];
    setEnvironmentData = set;
    set(KEY, latest);
    wt.setEnvironmentData = function (key: unknown, value?: unknown) {
      if (key === KEY) refuse('ERR_WARD_EPERM', `EPERM: worker_threads.setEnvironmentData('${KEY}') is ward's; worker threads inherit ward's settings from their parent`);
      return Reflect.apply(set, wt, [key, value]);
    };
  });
}
