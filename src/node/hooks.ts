// Synchronous, in-thread module hooks (module.registerHooks, Node 22.15 / 23.5): every file Node
// loads as code — require and import, CommonJS, ESM, JSON, TypeScript, addons, wasm — is opened,
// checked with AT_EXECVE_CHECK on that fd, read from it, and those bytes are what Node runs.

import { closeSync, openSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { trustedForFd } from '../trust/trusted-for.ts';
import { checkModuleLoad, moduleIdOf } from './autoload.ts';
import { checkedSources, denyCode, registerCheckedWasm } from './doors.ts';
import { checkedRead, enforceCheck } from './files.ts';
import { enforcement } from './state.ts';

const ENTRY_MARK = Symbol.for('ward.node.entryLoaded');
const SOURCE_FORMATS = new Set(['module', 'commonjs', 'module-typescript', 'commonjs-typescript']);

export interface HookOptions {
  /** Called once the entry module has been evaluated (its last statement ran). */
  onEntryLoaded?: () => void;
}

function checkAddon(path: string): void {
  const fd = openSync(path, 'r');
  try {
    enforceCheck('native addon', path, trustedForFd(fd));
  } finally {
    closeSync(fd);
  }
}

/** Native addons load through process.dlopen (by path, outside the module hooks). */
function wrapDlopen(): void {
  const p = process as unknown as { dlopen: (module: object, filename: string, flags?: number) => void };
  const dlopen = p.dlopen;
  p.dlopen = function (module: object, filename: string, flags?: number) {
    checkModuleLoad(moduleIdOf(pathToFileURL(filename).href, 'addon'));
    // dlopen reads the file by path: checked just before (see docs/node.md for the race).
    checkAddon(filename);
    return flags === undefined ? Reflect.apply(dlopen, process, [module, filename]) : Reflect.apply(dlopen, process, [module, filename, flags]);
  };
}

export function installHooks(options: HookOptions = {}): void {
  wrapDlopen();
  let entryURL: string | undefined;
  if (options.onEntryLoaded) {
    const g = globalThis as unknown as Record<symbol, (() => void) | undefined>;
    g[ENTRY_MARK] = () => {
      g[ENTRY_MARK] = undefined;
      options.onEntryLoaded!();
    };
  }
  module.registerHooks({
    resolve(specifier, context, nextResolve) {
      const r = nextResolve(specifier, context);
      if (entryURL === undefined && context.parentURL === undefined && r.url.startsWith('file:')) entryURL = r.url;
      return r;
    },
    load(url, context, nextLoad) {
      if (url.startsWith('data:') || url.startsWith('blob:')) {
        if (enforcement().denyInteractive) denyCode(`a module from a ${url.slice(0, 5)} URL`);
        return nextLoad(url, context);
      }
      if (url.startsWith('node:')) {
        checkModuleLoad(moduleIdOf(url, 'builtin'));
        return nextLoad(url, context);
      }
      if (!url.startsWith('file:')) return nextLoad(url, context);
      const path = fileURLToPath(url);
      const isWasm = path.endsWith('.wasm');
      const isAddon = path.endsWith('.node');
      checkModuleLoad(moduleIdOf(url, isWasm ? 'wasm' : isAddon ? 'addon' : 'file'));
      if (isAddon) {
        checkAddon(path);
        return nextLoad(url, context);
      }
      const bytes = checkedRead(isWasm ? 'WebAssembly module' : 'module', path);
      if (isWasm) registerCheckedWasm(bytes);
      const r = nextLoad(url, context);
      if (r.format === 'builtin' || r.format === 'addon') return r;
      let source: string | Buffer = typeof r.source === 'string' ? bytes.toString('utf8') : bytes;
      if (url === entryURL && options.onEntryLoaded && SOURCE_FORMATS.has(r.format ?? '')) {
        // The lock point "once the entry module has been evaluated": a last statement.
        source = `${source.toString()}\n;globalThis[Symbol.for('ward.node.entryLoaded')]?.();\n`;
      }
      // Only needed to tell checked text from other text in Module._compile (DENY_INTERACTIVE).
      if (enforcement().denyInteractive && (r.format === 'commonjs' || r.format === 'commonjs-typescript' || r.format === undefined)) {
        checkedSources.set(path, source.toString());
      }
      return { ...r, source, shortCircuit: true };
    },
  });
}
