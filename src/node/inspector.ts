// The inspector evaluates arbitrary text (Runtime.evaluate, Debugger.setBreakpointByUrl
// conditions, Runtime.callFunctionOn…), so under SECBIT_EXEC_DENY_INTERACTIVE it must not be
// reachable at all, whichever way it is reached: node:inspector's Session, inspector.open(),
// process.binding('inspector')'s Connection.dispatch, a Worker's connectToMainThread, or SIGUSR1.
// It is closed at its origin: the inspector binding's entry points (the object node:inspector
// reads them from when it first loads, and the one process.binding returns) are replaced before
// any application code runs; SIGUSR1 is refused by --disable-sigusr1, which ward node passes and
// the preload requires (./entry.ts); an inspector already listening (--inspect in any spelling)
// is refused at start-up.

import { denyCode } from './errors.ts';

const ENTRY_POINTS = ['open', 'Connection', 'MainThreadConnection', 'WorkerConnection', 'waitForDebugger', 'callAndPauseOnStart'];

export function inspectorActive(binding: Record<string, unknown>): boolean {
  const url = binding.url as (() => string | undefined) | undefined;
  return typeof url === 'function' && url() !== undefined;
}

export function closeInspector(binding: Record<string, unknown>): void {
  for (const name of ENTRY_POINTS) {
    if (!(name in binding)) continue;
    const refused = function () {
      denyCode(`the inspector (${name})`, 'debug without SECBIT_EXEC_DENY_INTERACTIVE');
    };
    Object.defineProperty(refused, 'name', { value: name });
    binding[name] = refused;
  }
}
