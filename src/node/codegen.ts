// Code compiled at run time from strings or bytes. Allowed by default (the kernel vouches for
// files, not for what trusted code computes: IPE's "known gaps"); refused under
// `ward node --deny-codegen`, where every way in found so far is closed at its origin rather than
// by wrapping a public object whose original stays reachable:
//   eval, Function & co.    → V8's --disallow-code-generation-from-strings (required at start-up)
//   node:vm                 → the native ContextifyScript behind vm.Script is guarded where
//                             Script's super() and prototype chain reach it (so the original
//                             class, Script.prototype.constructor and subclasses are guarded
//                             too); vm.compileFunction replaced (its binding is not public);
//                             --experimental-vm-modules / --experimental-shadow-realm refused
//   Module.prototype._compile → only text ward's load hook returned from a checked file, and
//                             only while Module.wrap/Module.wrapper are Node's own
// In every mode, Module.prototype._compile of a file ward's hooks did not see (a legacy
// require.extensions loader) checks that file under RESTRICT_FILE.
//   WebAssembly from bytes  → only bytes of a checked file (or Node's bundled wasm users called
//                             directly: fetch's llhttp, the TypeScript stripper); Module.prototype.constructor is
//                             the guard; compileStreaming/instantiateStreaming refused
//   source invented by a loader → ./hooks.ts
// Under DENY_INTERACTIVE (both modes): worker eval and the inspector (./inspector.ts).

const Module = process.getBuiltinModule('node:module');
const { syncBuiltinESMExports } = Module;
const { fileURLToPath } = process.getBuiltinModule('node:url');
import { denyCode, denyCodegen } from './errors.ts';
import { guardCtor } from './guard.ts';
import { getBuiltin } from './builtins.ts';
import { takeStdinWrapper } from './entry.ts';
import { checkSourceFile, isCheckedSource, isCheckedWasm, wasChecked } from './files.ts';
import { enforcement } from './state.ts';

type Ctor = new (...a: unknown[]) => object;

/** Every thread: Module.prototype._compile, by mode. */
export function guardCompile(): void {
  const M = Module as unknown as { prototype: { _compile: (content: string, filename: string, ...rest: unknown[]) => unknown }; wrap: unknown; wrapper: unknown };
  const compile = M.prototype._compile;
  const wrap = M.wrap;
  const wrapper = M.wrapper as string[];
  const [w0, w1] = [wrapper[0], wrapper[1]];
  const wrapIntact = () => {
    if (M.wrap !== wrap || M.wrapper !== wrapper) return false;
    const d0 = Object.getOwnPropertyDescriptor(wrapper, '0');
    const d1 = Object.getOwnPropertyDescriptor(wrapper, '1');
    return d0?.value === w0 && d1?.value === w1;
  };
  M.prototype._compile = function (this: unknown, content: string, filename: string, ...rest: unknown[]) {
    const e = enforcement();
    if (e.denyInteractive && typeof filename === 'string' && filename.endsWith(']-wrapper')) {
      // Node's wrappers for -e/-p ([eval]), stdin ([stdin]) and worker eval ([worker eval]).
      if (!(filename === '[stdin]-wrapper' && takeStdinWrapper())) denyCode(`code that is not a file (${filename.slice(0, -8)})`);
    } else if (e.denyCodegen) {
      if (!wrapIntact()) denyCodegen('compiling with a replaced Module.wrap / Module.wrapper');
      if (!isCheckedSource(filename, String(content))) denyCodegen(`compiling module text that was not read from a checked file (${filename})`);
    } else if ((e.restrictFile || e.audit) && typeof filename === 'string' && filename.startsWith('/') && !wasChecked(filename)) {
      // A require.extensions loader of the app's (@babel/register, pirates, ts-node's) reads the
      // file itself, so Node's load hooks — ward's check — never see it: the check applies to
      // the file the source came from, here.
      checkSourceFile('module', filename);
    }
    return Reflect.apply(compile, this, ([content, filename] as unknown[]).concat(rest));
  };
}

// ward's own frames (this file, the constructor guard) are skipped to find the real caller.
const OWN = [new URL('./', import.meta.url).href, fileURLToPath(new URL('./', import.meta.url))];
const own = (scriptName: string) => OWN.some((p) => scriptName.startsWith(p));

// The Node internals that compile WebAssembly of their own (bytes bundled with Node): undici's
// llhttp (fetch) and amaro (the TypeScript stripper). Only these, never "any node: frame": many
// Node functions call whatever function they are given with the arguments they are given
// (util.callbackify, util.deprecate, AsyncLocalStorage.run, EventEmitter.emit, process.nextTick,
// timers), and WebAssembly.compile passed to one of them would be called from node:… with the
// app's bytes.
const NODE_WASM_CALLERS = ['node:internal/deps/undici/', 'node:internal/deps/amaro/'];

/** Whether the code calling a guarded entry point is one of Node's bundled wasm users (they compile only their own bytes). */
function calledByNode(): boolean {
  const caller = getBuiltin<typeof import('node:util')>('node:util').getCallSites(10).find((s) => !own(s.scriptName));
  return !!caller && NODE_WASM_CALLERS.some((p) => caller.scriptName.startsWith(p));
}

export function closeCodegen(): void {
  const vm = getBuiltin<Record<string, unknown>>('node:vm');
  const Script = vm.Script as Ctor;
  const Native = Object.getPrototypeOf(Script) as Ctor;
  const guardedNative = new Proxy(Native, {
    construct(target, a, nt) {
      denyCodegen('compiling a string with node:vm');
      return Reflect.construct(target, a, nt) as object;
    },
  });
  // super() in class Script reads Script's [[Prototype]] at call time: the guard sits there.
  Object.setPrototypeOf(Script, guardedNative);
  Object.defineProperty(Native.prototype, 'constructor', { value: guardedNative, writable: true, configurable: true, enumerable: false });
  vm.compileFunction = function compileFunction() {
    denyCodegen('compiling a string with node:vm (compileFunction)');
  };

  const wasm = (globalThis as unknown as { WebAssembly: Record<string, unknown> }).WebAssembly;
  const WModule = wasm.Module as Ctor;
  const gate = (bytes: unknown, what: string) => {
    if (bytes instanceof WModule) return;
    if ((ArrayBuffer.isView(bytes) || bytes instanceof ArrayBuffer) && isCheckedWasm(bytes)) return;
    if (calledByNode()) return;
    denyCodegen(`${what} of bytes that do not come from a checked WebAssembly file`);
  };
  for (const name of ['compile', 'instantiate']) {
    const f = wasm[name] as (...a: unknown[]) => unknown;
    wasm[name] = function (this: unknown, ...a: unknown[]) {
      gate(a[0], `WebAssembly.${name}`);
      return Reflect.apply(f, this, a);
    };
  }
  for (const name of ['compileStreaming', 'instantiateStreaming']) {
    if (typeof wasm[name] !== 'function') continue;
    wasm[name] = function () {
      denyCodegen(`WebAssembly.${name} (a Response's bytes are not a checked file)`);
    };
  }
  guardCtor(wasm, 'Module', ([bytes]) => gate(bytes, 'new WebAssembly.Module'));
  syncBuiltinESMExports();
}
