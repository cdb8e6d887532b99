// Code from nowhere: under SECBIT_EXEC_DENY_INTERACTIVE, every way to run code that does not come
// from a checked file is refused. Doors Node offers and how each is closed:
//   -e/--eval, -p/--print (also via NODE_OPTIONS)  → process._eval is set: refused at start-up
//   the REPL, code piped on stdin                  → no entry script: stdin must be a regular file
//                                                    whose fd passes AT_EXECVE_CHECK
//   eval, new Function, (async) function ctors     → V8's --disallow-code-generation-from-strings
//                                                    (ward node sets it; required, else refused)
//   node:vm (Script, compileFunction, run*)        → refused
//   new Worker(code, { eval: true }), data:/blob:  → refused
//   data:/blob: module URLs                        → refused in the load hook
//   Module.prototype._compile of other text        → refused (only text the hook read from a
//                                                    checked file compiles)
//   process.binding('contextify')                  → refused
//   node:inspector Runtime.evaluate & co.          → refused; an active --inspect is refused
//   WebAssembly from bytes                         → only bytes of a checked .wasm file
// Doors that cannot be closed from user space: native addons (checked as files, but once loaded
// they can do anything), --expose-internals / --allow-natives-syntax (refused at start-up),
// and anything with ptrace or /proc/PID/mem access to the process.

import { createHash } from 'node:crypto';
import { fstatSync } from 'node:fs';
import Module, { syncBuiltinESMExports } from 'node:module';
import { createRequire } from 'node:module';
import { trustedForFd } from '../trust/trusted-for.ts';
import { WardNodeError } from './errors.ts';
import { checkedRead } from './files.ts';
import { enforcement } from './state.ts';

const require = createRequire(import.meta.url);

export function denyCode(door: string, fix = 'put the code in a file that passes AT_EXECVE_CHECK and run that file'): never {
  throw new WardNodeError('ERR_WARD_CODE_DENIED', `${door} is refused: SECBIT_EXEC_DENY_INTERACTIVE is set, so only code from checked files may run; ${fix}`);
}

/** Texts the load hook read from checked files, by filename: the only ones _compile accepts. */
export const checkedSources = new Map<string, string>();
// Node runs a script read from stdin through a small wrapper compiled with Module._compile under
// the name "[stdin]-wrapper": allowed once, and only when stdin passed the check.
let stdinWrapperAllowed = false;
const checkedWasm = new Set<string>();

const sha = (b: ArrayBufferView | ArrayBuffer) => createHash('sha256').update(ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b)).digest('hex');

export function registerCheckedWasm(bytes: Uint8Array): void {
  checkedWasm.add(sha(bytes));
}

function codeGenerationAllowed(): boolean {
  try {
    (0, eval)('0');
    return true;
  } catch {
    return false;
  }
}

/** Start-up checks of the main thread: how was code given to this process? */
export function checkEntry(): void {
  const args = process.execArgv.join(' ') + ' ' + (process.env.NODE_OPTIONS ?? '');
  for (const flag of ['--expose-internals', '--allow-natives-syntax', '--inspect', '--inspect-brk', '--inspect-wait']) {
    if (args.includes(flag)) denyCode(`the flag ${flag}`, 'remove it');
  }
  if (codeGenerationAllowed()) {
    denyCode('eval / new Function (code generation from strings is enabled)', 'start Node through `ward node`, which adds --disallow-code-generation-from-strings');
  }
  const p = process as unknown as { _eval?: string };
  if (p._eval !== undefined) denyCode('code given on the command line (-e, --eval, -p, --print, or through NODE_OPTIONS)');
  const entry = process.argv[1];
  if (entry === undefined || entry === '-') {
    const st = fstatSync(0);
    if (!st.isFile()) denyCode(st.isFIFO() || st.isSocket() ? 'code piped on standard input' : 'the interactive REPL');
    const r = trustedForFd(0);
    if (!r.trusted) denyCode(`code from standard input (${r.errno}: ${r.reason})`);
    stdinWrapperAllowed = true;
  }
}

function refuse(target: Record<string, unknown>, names: string[], door: string): void {
  for (const name of names) {
    if (typeof target[name] !== 'function') continue;
    const original = target[name] as (...a: unknown[]) => unknown;
    const wrapped = function (this: unknown, ...a: unknown[]): unknown {
      if (enforcement().denyInteractive) denyCode(`${door} (${name})`);
      return Reflect.apply(original, this, a);
    };
    Object.defineProperty(wrapped, 'name', { value: name });
    target[name] = wrapped;
  }
}

/** Closes the doors that exist in every thread. */
export function closeDoors(): void {
  const vm = require('node:vm') as Record<string, unknown>;
  refuse(vm, ['runInThisContext', 'runInContext', 'runInNewContext', 'compileFunction'], 'compiling a string with node:vm');
  for (const ctor of ['Script', 'SourceTextModule']) {
    const C = vm[ctor] as (new (...a: unknown[]) => object) | undefined;
    if (typeof C !== 'function') continue;
    vm[ctor] = new Proxy(C, {
      construct(target, a, nt) {
        if (enforcement().denyInteractive) denyCode(`compiling a string with node:vm (new vm.${ctor})`);
        return Reflect.construct(target, a, nt) as object;
      },
    });
  }

  const wt = require('node:worker_threads') as { Worker: new (f: unknown, o?: { eval?: boolean }) => object };
  const Worker = wt.Worker;
  wt.Worker = new Proxy(Worker, {
    construct(target, a, nt) {
      const [filename, options] = a as [unknown, { eval?: boolean } | undefined];
      if (enforcement().denyInteractive) {
        if (options?.eval) denyCode('new Worker(code, { eval: true })');
        const s = String(filename);
        if (s.startsWith('data:') || s.startsWith('blob:')) denyCode(`a worker from a ${s.slice(0, 5)} URL`);
      }
      return Reflect.construct(target, a, nt) as object;
    },
  });

  const M = Module as unknown as { prototype: { _compile: (content: string, filename: string, ...rest: unknown[]) => unknown } };
  const compile = M.prototype._compile;
  M.prototype._compile = function (this: unknown, content: string, filename: string, ...rest: unknown[]) {
    if (enforcement().denyInteractive) {
      if (filename === '[stdin]-wrapper' && stdinWrapperAllowed) {
        stdinWrapperAllowed = false;
        return Reflect.apply(compile, this, [content, filename, ...rest]);
      }
      const expected = checkedSources.get(filename);
      const strip = (s: string) => (s.charCodeAt(0) === 0xfeff ? s.slice(1) : s);
      if (expected === undefined || strip(expected) !== strip(content)) denyCode(`compiling module text that was not read from a checked file (${filename})`);
    }
    return Reflect.apply(compile, this, [content, filename, ...rest]);
  };

  const proc = process as unknown as { binding?: (name: string) => unknown };
  if (typeof proc.binding === 'function') {
    const binding = proc.binding;
    proc.binding = function (name: string) {
      if (enforcement().denyInteractive && (name === 'contextify' || name === 'natives')) denyCode(`process.binding('${name}')`);
      return Reflect.apply(binding, process, [name]);
    };
  }

  const inspector = require('node:inspector') as { Session?: { prototype: { post: (m: string, ...a: unknown[]) => unknown } } };
  if (inspector.Session) {
    const post = inspector.Session.prototype.post;
    inspector.Session.prototype.post = function (this: unknown, method: string, ...a: unknown[]) {
      if (enforcement().denyInteractive && ['Runtime.evaluate', 'Runtime.compileScript', 'Runtime.callFunctionOn', 'Debugger.evaluateOnCallFrame', 'Debugger.setScriptSource'].includes(method)) {
        denyCode(`the inspector's ${method}`);
      }
      return Reflect.apply(post, this, [method, ...a]);
    };
  }

  // WebAssembly: only bytes of a .wasm file that passed the check compile.
  const wasm = (globalThis as unknown as { WebAssembly: Record<string, unknown> }).WebAssembly;
  const WModule = wasm.Module as new (...a: unknown[]) => object;
  const gate = (bytes: unknown, what: string) => {
    if (!enforcement().denyInteractive) return;
    if (bytes instanceof WModule) return;
    if (!(ArrayBuffer.isView(bytes) || bytes instanceof ArrayBuffer) || !checkedWasm.has(sha(bytes as ArrayBuffer))) {
      denyCode(`${what} of bytes that do not come from a checked .wasm file`, 'read the module with fs.readFileSync from a file that passes AT_EXECVE_CHECK');
    }
  };
  for (const name of ['compile', 'instantiate', 'validate']) {
    const f = wasm[name] as (...a: unknown[]) => unknown;
    wasm[name] = function (this: unknown, ...a: unknown[]) {
      gate(a[0], `WebAssembly.${name}`);
      return Reflect.apply(f, this, a);
    };
  }
  wasm.Module = new Proxy(WModule, {
    construct(target, a, nt) {
      gate(a[0], 'new WebAssembly.Module');
      return Reflect.construct(target, a, nt) as object;
    },
  });

  // .wasm read from disk is checked like any file of code, and remembered for the gate above.
  const fsMod = require('node:fs') as { readFileSync: (p: unknown, o?: unknown) => unknown };
  const readFileSyncOriginal = fsMod.readFileSync;
  fsMod.readFileSync = function (this: unknown, path: unknown, options?: unknown) {
    if (typeof path === 'string' && path.endsWith('.wasm') && options === undefined) {
      const bytes = checkedRead('WebAssembly file', path);
      registerCheckedWasm(bytes);
      return bytes;
    }
    return Reflect.apply(readFileSyncOriginal, this, [path, options]);
  };
  syncBuiltinESMExports();
}
