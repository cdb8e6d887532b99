// Builtins ward must adjust before the app can use them (worker_threads, v8, sqlite) are adjusted
// when they are first handed out — through require/import (ward's load hook, which sees every
// final load) or process.getBuiltinModule (guarded in ./hooks.ts) — rather than loaded by the
// preload: worker_threads alone pulls in Node's streams, and most apps never load these.
// The adjustment runs before the module reaches the app, so no unadjusted copy is ever handed out.

const { syncBuiltinESMExports } = process.getBuiltinModule('node:module');

type Patch = (exports: Record<string, unknown>) => void;

const patches = new Map<string, Patch[]>();
const done = new Set<string>();
const getBuiltinModule = process.getBuiltinModule;
/** A builtin by name, without the autoload check the app's process.getBuiltinModule goes through. */
export function getBuiltin<T = Record<string, unknown>>(id: string): T {
  return Reflect.apply(getBuiltinModule, process, [id]) as T;
}

/** Runs `patch` on the builtin's exports when it is first handed out (at once if `now`). */
export function whenLoaded(name: string, patch: Patch, now = false): void {
  const list = patches.get(name) ?? [];
  list.push(patch);
  patches.set(name, list);
  if (now || done.has(name)) {
    done.delete(name);
    builtinHandedOut(name);
  }
}

/** Whether this builtin has been handed out (its patches ran). */
export function handedOut(name: string): boolean {
  return done.has(name);
}

export function builtinHandedOut(id: string): void {
  const name = id.replace(/^node:/, '');
  if (done.has(name) || !patches.has(name)) return;
  done.add(name);
  const exports = getBuiltin(`node:${name}`) as Record<string, unknown>;
  for (const p of patches.get(name)!) p(exports);
  syncBuiltinESMExports();
}

let mainThread: boolean | undefined;

/**
 * Main thread or not, decided during the preload (before app code can touch process). Loading
 * worker_threads costs the main thread Node's streams, so a cheap sign is taken when it is
 * unambiguous — the main thread's own chdir, and no worker machinery loaded yet — and
 * worker_threads' own answer otherwise.
 */
export function isMainThread(): boolean {
  if (mainThread === undefined) {
    const list = (process as unknown as { moduleLoadList?: string[] }).moduleLoadList ?? [];
    const cheap = process.chdir.name === 'wrappedChdir' && !list.includes('NativeModule internal/worker/io');
    mainThread = cheap || getBuiltin<{ isMainThread: boolean }>('node:worker_threads').isMainThread;
  }
  return mainThread;
}
