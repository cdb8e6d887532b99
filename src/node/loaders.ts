// Asynchronous module loaders (module.register(), --experimental-loader / --loader) run in Node's
// hooks thread. That thread runs ward's preload, but Node loads the loaders there without
// consulting in-thread module hooks, so the loader file is checked here, in the thread that asks
// for it, before Node is told about it: under RESTRICT_FILE a loader that fails AT_EXECVE_CHECK is
// refused. What the loader's own imports load in the hooks thread is not seen by ward (docs/node.md).

const module = process.getBuiltinModule('node:module');
const { createRequire, syncBuiltinESMExports } = module;
const { fileURLToPath, pathToFileURL } = process.getBuiltinModule('node:url');
import { denyCode, denyCodegen, isMissing, refuseMissing } from './errors.ts';
import { checkedRead } from './files.ts';
import { enforcement } from './state.ts';
import { splitNodeOptions, optionName } from './options.ts';

function loaderPath(specifier: string, parent: string | URL | undefined): string | undefined {
  const base = parent ?? pathToFileURL(`${process.cwd()}/`);
  if (specifier.startsWith('file:')) return fileURLToPath(specifier);
  if (/^\.{0,2}\//.test(specifier)) return fileURLToPath(new URL(specifier, base));
  if (/^[a-z][a-z0-9+.-]*:/i.test(specifier)) return undefined; // node:, data: (refused by the hooks), …
  try {
    return createRequire(base).resolve(specifier);
  } catch {
    return undefined; // Node will fail to find it too
  }
}

function checkLoader(specifier: string, parent: string | URL | undefined): void {
  // A loader from a data:/blob: URL is code that never was a file (SECBIT_EXEC_DENY_INTERACTIVE).
  if (/^(data|blob):/i.test(specifier)) {
    if (enforcement().denyInteractive) denyCode(`a module loader from a ${specifier.slice(0, 5).toLowerCase()} URL`);
    // Loaders load in Node's hooks thread without in-thread hooks: refused here for --deny-codegen too.
    if (enforcement().denyCodegen) denyCodegen(`a module loader from a ${specifier.slice(0, 5).toLowerCase()} URL (its source is a string, not a file)`);
  }
  const path = loaderPath(specifier, parent);
  if (path === undefined) return;
  try {
    checkedRead('module loader', path);
  } catch (err) {
    // No such file: Node reports it (ERR_MODULE_NOT_FOUND) — unless enforced, where a loader
    // that could not be checked is refused (one appearing before Node loads it is unchecked).
    if (!isMissing(err)) throw err;
    if (enforcement().restrictFile) refuseMissing('module loader', path);
  }
}

let asyncLoaders = false;

/**
 * Whether this thread may have asynchronous loaders (module.register() was called, or one was
 * given at start-up): their hooks run in another thread and see the load context only as a
 * structured clone (a Buffer arrives as a plain Uint8Array), so ward hands them nothing extra.
 */
export function asyncLoadersMayRun(): boolean {
  return asyncLoaders;
}

/** An asynchronous loader was given at start-up (seen in the options of this thread). */
export function noteAsyncLoader(): void {
  asyncLoaders = true;
}

export function guardLoaders(): void {
  const register = module.register;
  module.register = function (specifier: string | URL, parentURL?: unknown, options?: unknown) {
    const parent = typeof parentURL === 'string' || parentURL instanceof URL ? parentURL : (parentURL as { parentURL?: string | URL } | undefined)?.parentURL;
    asyncLoaders = true;
    checkLoader(String(specifier), parent);
    return Reflect.apply(register, module, [specifier, parentURL, options]);
  } as typeof module.register;
  syncBuiltinESMExports();
}

/** The loaders given on the command line or in NODE_OPTIONS, checked at start-up. */
export function checkStartupLoaders(): void {
  const args = [...splitNodeOptions(process.env.NODE_OPTIONS ?? ''), ...process.execArgv];
  for (let i = 0; i < args.length; i++) {
    const name = optionName(args[i]!);
    if (name !== '--experimental-loader' && name !== '--loader') continue;
    const eq = args[i]!.indexOf('=');
    const value = eq >= 0 ? args[i]!.slice(eq + 1) : args[++i];
    asyncLoaders = true;
    if (value !== undefined) checkLoader(value, undefined);
  }
}
