// Synchronous, in-thread module hooks (module.registerHooks, Node 22.15 / 23.5): every file Node
// loads as code — require and import, CommonJS, ESM, JSON, TypeScript, addons, wasm — is opened,
// checked with AT_EXECVE_CHECK on that fd and read from it.
//
// ward's hooks stay the outermost: when the app registers hooks of its own, ward's are
// re-registered on top, so ward sees the final resolution (no loader can lead a specifier into
// ward's own modules, ./seal.ts) and the final source. Loaders keep Node's semantics: the source a
// loader returns is what runs, and the check applies to the file it came from. A source that
// differs from the checked file (a transpiler, instrumentation) or that comes from no file (a
// virtual module) is generated code: allowed and audited by default, refused under --deny-codegen.
// Hooks registered with module.register()/--experimental-loader run in Node's hooks thread,
// which is itself enlightened (it runs the preload), so the loader's own modules are checked.

import type { RegisterHooksOptions } from 'node:module';
const { closeSync, existsSync, openSync } = process.getBuiltinModule('node:fs');
const module = process.getBuiltinModule('node:module');
const { syncBuiltinESMExports } = module;
const { fileURLToPath, pathToFileURL } = process.getBuiltinModule('node:url');
import { trustedForFd, type TrustResult } from '../trust/trusted-for.ts';
import { checkModuleLoad, moduleIdOf } from './autoload.ts';
import { builtinHandedOut, whenLoaded } from './builtins.ts';
import { denyCode, denyCodegen, isMissing, refuseMissing } from './errors.ts';
import { checkedRead, enforceCheck, isWasmBytes, registerCheckedWasm, rememberSource } from './files.ts';
import { asyncLoadersMayRun, noteAsyncLoader } from './loaders.ts';
import { currentOptions } from './options.ts';
import { publicApiSource, refuseWardFile } from './seal.ts';
import { auditLine, enforcement } from './state.ts';

const ENTRY_MARK = Symbol.for('ward.node.entryLoaded');
// The formats Node's default load step of require() reads as UTF-8 text (cjs/loader's defaultLoadImpl).
const CJS_TEXT_FORMATS = new Set(['module', 'commonjs', 'json', 'module-typescript', 'commonjs-typescript', 'typescript']);
const SOURCE_FORMATS = new Set(['module', 'commonjs', 'module-typescript', 'commonjs-typescript', 'commonjs-sync', 'require-commonjs']);

export interface HookOptions {
  /** Called once the entry module has been evaluated (its last statement ran). */
  onEntryLoaded?: () => void;
}

export function checkNativeFile(kind: string, path: string): void {
  // dlopen(3) searches the library path for a name without '/' — not the file at that name
  // relative to the current directory, which is what a check by path would see.
  if (!path.includes('/')) {
    const r: TrustResult = { trusted: false, errno: 'EACCES', reason: `a bare name: dlopen would search the library path for it, so ward cannot check the file it loads; give a path (./${path}, /usr/lib/…/${path})`, mechanism: 'kernel' };
    enforceCheck(kind, path, r);
    return;
  }
  refuseWardFile(pathToFileURL(path).href, `loading ${kind}`);
  const fd = openSync(path, 'r');
  try {
    enforceCheck(kind, path, trustedForFd(fd));
  } finally {
    closeSync(fd);
  }
}

/** Native code loads by path through process.dlopen (addons) and node:sqlite's loadExtension. */
function guardNativeLoads(): void {
  const p = process as unknown as { dlopen: (module: object, filename: string, flags?: number) => void };
  const dlopen = p.dlopen;
  p.dlopen = function (module: object, filename: string, flags?: number) {
    checkModuleLoad(moduleIdOf(pathToFileURL(filename).href, 'addon'));
    // dlopen reads the file by path: checked just before (see docs/node.md for the race).
    checkNativeFile('native addon', filename);
    return flags === undefined ? Reflect.apply(dlopen, process, [module, filename]) : Reflect.apply(dlopen, process, [module, filename, flags]);
  };
  whenLoaded('sqlite', (m) => guardSqlite(m as SqliteModule));
  const getBuiltinModule = process.getBuiltinModule;
  process.getBuiltinModule = function (id: string) {
    const name = String(id).replace(/^node:/, '');
    checkModuleLoad(moduleIdOf(`node:${name}`, 'builtin'));
    const m = Reflect.apply(getBuiltinModule, process, [id]) as unknown;
    if (m !== undefined) builtinHandedOut(name);
    return m;
  } as typeof process.getBuiltinModule;
}

type SqliteModule = { DatabaseSync?: { prototype: Record<string, unknown> } };
function guardSqlite(m: SqliteModule): void {
  const proto = m.DatabaseSync?.prototype;
  if (!proto || typeof proto.loadExtension !== 'function') return;
  const load = proto.loadExtension as (...a: unknown[]) => unknown;
  proto.loadExtension = function (this: unknown, path: unknown, ...rest: unknown[]) {
    const p = String(path);
    checkNativeFile('SQLite extension', p);
    // SQLite loads "PATH.so" when PATH itself fails to load (sqlite3LoadExtension's azEndings):
    // a checked PATH that is not a library would otherwise lead to an unchecked PATH.so.
    if (p.includes('/') && existsSync(`${p}.so`)) checkNativeFile('SQLite extension', `${p}.so`);
    return Reflect.apply(load, this, ([path] as unknown[]).concat(rest));
  };
}

function sameBytes(source: unknown, bytes: Buffer): boolean {
  if (source === undefined || source === null) return true;
  if (typeof source === 'string') return source === bytes.toString('utf8');
  if (ArrayBuffer.isView(source)) return Buffer.from(source.buffer, source.byteOffset, source.byteLength).equals(bytes);
  if (source instanceof ArrayBuffer) return Buffer.from(source).equals(bytes);
  return false;
}

/** Node's error for a data: URL of a MIME type it does not run (the type, as Node names it, then the URL). */
function unknownFormat(url: string): Error {
  const mime = /^data:([^/]+\/[^;,]+)(?:[^,]*?)(;base64)?,/.exec(url)?.[1] ?? 'null';
  return Object.assign(new RangeError(`Unknown module format: ${mime} for URL ${url}`), { code: 'ERR_UNKNOWN_MODULE_FORMAT' });
}

function generated(url: string, why: string): void {
  if (enforcement().denyCodegen) denyCodegen(`${why} (${url})`);
  if (enforcement().audit) auditLine('generated-source', { url, why });
}

// The bytes ward checked for a file: URL whose load is under way (outer hook → inner hook).
const checkedBytes = new Map<string, Buffer>();

export function installHooks(options: HookOptions = {}): void {
  guardNativeLoads();
  let appHooks = 0;
  const opts = currentOptions();
  if (opts.has('--experimental-loader') || opts.has('--loader')) noteAsyncLoader();
  let entryURL: string | undefined;
  if (options.onEntryLoaded) {
    const g = globalThis as unknown as Record<symbol, (() => void) | undefined>;
    g[ENTRY_MARK] = () => {
      g[ENTRY_MARK] = undefined;
      options.onEntryLoaded!();
    };
  }
  const hooks: RegisterHooksOptions = {
    resolve(specifier, context, nextResolve) {
      const r = nextResolve(specifier, context);
      refuseWardFile(r.url);
      if (entryURL === undefined && context.parentURL == null && r.url.startsWith('file:')) entryURL = r.url;
      return r;
    },
    load(url, context, nextLoad) {
      if (url.startsWith('data:') || url.startsWith('blob:')) {
        if (enforcement().denyInteractive) denyCode(`a module from a ${url.slice(0, 5)} URL`);
        // Node's default load answers a MIME type it does not run with format null and leaves the
        // error to its translators; once any load hook is registered, Node's own validation of
        // that answer rejects it first (ERR_INVALID_RETURN_PROPERTY_VALUE, "format … got null").
        // The app gets the error Node gives without hooks.
        let r;
        try {
          r = nextLoad(url, context);
          if (r.format == null) throw unknownFormat(url);
        } catch (err) {
          if ((err as { code?: string }).code === 'ERR_INVALID_RETURN_PROPERTY_VALUE' && /"format".*got null/.test(String((err as Error).message))) throw unknownFormat(url);
          throw err;
        }
        // Its source is a string the app made: code generation (JSON is data, not code).
        if (r.format !== 'json') generated(url.slice(0, 40), `a module from a ${url.slice(0, 5)} URL (its source is a string, not a file)`);
        return r;
      }
      if (url.startsWith('node:')) {
        checkModuleLoad(moduleIdOf(url, 'builtin'));
        const r = nextLoad(url, context);
        if (r.format === 'builtin') builtinHandedOut(url);
        return r;
      }
      if (!url.startsWith('file:')) {
        const r = nextLoad(url, context);
        if (r.format !== 'builtin') generated(url, 'source that a module loader made up (no file)');
        return r;
      }
      refuseWardFile(url);
      const api = publicApiSource(url);
      if (api !== undefined) return { format: 'module', source: api, shortCircuit: true };
      const path = fileURLToPath(url);
      const isAddon = path.endsWith('.node');
      checkModuleLoad(moduleIdOf(url, path.endsWith('.wasm') ? 'wasm' : isAddon ? 'addon' : 'file'));
      if (isAddon) {
        checkNativeFile('native addon', path);
        return nextLoad(url, context);
      }
      let bytes: Buffer;
      try {
        bytes = checkedRead('module', path);
      } catch (err) {
        if (!isMissing(err)) throw err;
        // No file at the URL a loader resolved to: Node's own error for a missing module, or a
        // virtual module whose source the loader supplies — which no check can vouch for.
        const r = nextLoad(url, context);
        if (r.format === 'builtin') return r;
        if (enforcement().restrictFile) refuseMissing('module', path);
        generated(url, 'source that a module loader made up (no file)');
        return r;
      }
      // The checked bytes are the only read of the file when the next step is Node's own (no
      // hooks of the app's below ours). require()'s chain (no import attributes: the CommonJS
      // loader) would read the file again as UTF-8 and return the format it was given: done here
      // from the checked bytes. import()'s default load step uses `context.source` instead of
      // reading — handed down only without asynchronous loaders, which would see it cloned.
      const own = appHooks === 0;
      const cjsDefault = own && context.importAttributes === undefined && (context.format == null || CJS_TEXT_FORMATS.has(context.format));
      let r;
      if (cjsDefault) r = { format: context.format, source: bytes.toString('utf8') };
      else {
        checkedBytes.set(url, bytes);
        try {
          r = nextLoad(url, own && !asyncLoadersMayRun() ? ({ ...context, source: bytes } as Parameters<typeof nextLoad>[1]) : context);
        } finally {
          checkedBytes.delete(url);
        }
      }
      if (r.format === 'builtin' || r.format === 'addon') return r;
      if (enforcement().denyCodegen && (r.format === 'wasm' || isWasmBytes(bytes))) registerCheckedWasm(bytes);
      let source: string | Buffer;
      if (cjsDefault || r.source === bytes) source = r.source as string | Buffer;
      else if (sameBytes(r.source, bytes)) source = typeof r.source === 'string' ? bytes.toString('utf8') : bytes;
      else {
        generated(url, 'source returned by a module loader that differs from the checked file');
        source = r.source as string | Buffer;
      }
      if (url === entryURL && options.onEntryLoaded && (r.format == null || SOURCE_FORMATS.has(r.format))) {
        // The lock point "once the entry module has been evaluated": a last statement.
        source = `${source.toString()}\n;globalThis[Symbol.for('ward.node.entryLoaded')]?.();\n`;
      }
      // Only needed to tell checked text from other text in Module._compile (--deny-codegen).
      if (enforcement().denyCodegen && r.format !== 'json' && r.format !== 'wasm') rememberSource(path, source.toString());
      return { ...r, source, shortCircuit: true };
    },
  };
  // Innermost, next to Node's default loader, which reads the file again by its path: what it
  // read is replaced by the bytes ward checked (read from the checked fd), so a file renamed over
  // between the two reads never runs (a race won 91 times in 3,000 imports before). Loaders of
  // the app's sit between the two hooks and see the checked bytes.
  const inner: RegisterHooksOptions = {
    load(url, context, nextLoad) {
      const r = nextLoad(url, context);
      // Asynchronous loaders (module.register, --experimental-loader) sit below in-thread hooks:
      // what nextLoad returns may then be a loader's source, which must run as returned.
      if (asyncLoadersMayRun() || r.source === undefined || r.source === null || r.format === 'builtin' || r.format === 'addon' || !url.startsWith('file:')) return r;
      // A file the outer hook did not check (an app's loader asked Node for another file than
      // the one being loaded): the check applies to the file the source comes from.
      const bytes = checkedBytes.get(url) ?? checkedRead('module', fileURLToPath(url));
      return { ...r, source: typeof r.source === 'string' ? bytes.toString('utf8') : bytes };
    },
  };
  const register = module.registerHooks;
  register(inner);
  let ours = register(hooks);
  module.registerHooks = function (theirHooks: RegisterHooksOptions) {
    const theirs = register(theirHooks);
    // Any registration counts, for good (Node reads a hooks object's `load` at each load, and a
    // deregistered one keeps counting): errs only towards running Node's own chain.
    appHooks++;
    ours.deregister();
    ours = register(hooks);
    return theirs;
  };
  syncBuiltinESMExports();
}
