// `node --require ward/bin/ward-node-preload.cjs` (what `ward node` does, and what every process
// an enlightened one starts gets, ./sticky.ts): the enlightened runtime. Loaded before any
// application code; installs the checks for files of code, closes the doors for code from
// nowhere, makes enforcement sticky and seals ward's own modules. No top-level await: it must
// be loadable with --require.

import { getBuiltin, isMainThread } from './builtins.ts';
import { entryLoaded, inheritSettings, loadGlobalDefault, publish, restrictModuleLoading, type AutoloadLevel } from './autoload.ts';
import { closeCodegen, guardCompile } from './codegen.ts';
import { checkEntry, checkFlags } from './entry.ts';
import { guardV8Flags } from './flags.ts';
import { installHooks } from './hooks.ts';
import { guardEnvironmentData } from './inherit.ts';
import { closeInspector } from './inspector.ts';
import { ENV } from './launch.ts';
import { checkStartupLoaders, guardLoaders } from './loaders.ts';
import { currentOptions } from './options.ts';
import { sealWard } from './seal.ts';
import { auditSummaryAtExit, enforcement } from './state.ts';
import { makeSticky } from './sticky.ts';
import * as publicApi from './index.ts';

// Legacy bindings the app may ask for by name under enforcement: none of these compiles code,
// starts processes unhooked, drives the inspector or changes V8's flags.
const SAFE_BINDINGS = new Set(['async_wrap', 'buffer', 'cares_wrap', 'config', 'constants', 'crypto', 'fs', 'fs_event_wrap', 'http_parser', 'icu', 'js_stream', 'os', 'pipe_wrap', 'process_wrap', 'signal_wrap', 'spawn_sync', 'stream_wrap', 'tcp_wrap', 'tls_wrap', 'tty_wrap', 'udp_wrap', 'url', 'util', 'uv', 'zlib']);

function fatal(e: unknown): never {
  const err = e as { code?: string; message?: string };
  // Synchronously to fd 2: a refusal in a worker or in Node's hooks thread must not be lost
  // with the thread (process.stderr there is a stream to the main thread).
  getBuiltin<typeof import('node:fs')>('node:fs').writeSync(2, `ward node: ${err.code ?? 'ERR'}: ${err.message ?? String(e)}\n`);
  process.exit(126);
}

// Under Node's permission model (--permission) process.binding is denied to everyone, ward
// included; what ward would reach through it is then closed by the permission model itself
// (child processes without --allow-child-process; the inspector), or ward refuses to start.
const permission = (process as unknown as { permission?: { has: (scope: string) => boolean } }).permission;

function startupRefusal(what: string): never {
  throw Object.assign(new Error(what), { code: 'ERR_WARD_EPERM' });
}

try {
  const p = process as unknown as { binding: (name: string) => Record<string, unknown> };
  const rawBinding = p.binding.bind(process);
  // Under --pending-deprecation process.binding warns (DEP0111) once per process: ward's own
  // calls must neither print it nor use up the app's, which is given at the app's first call.
  let dep0111: unknown[] | undefined;
  const binding = (name: string): Record<string, unknown> | undefined => {
    const emitWarning = process.emitWarning;
    process.emitWarning = function (...args: unknown[]) {
      if (args.includes('DEP0111')) dep0111 = args;
      else Reflect.apply(emitWarning, process, args);
    } as typeof process.emitWarning;
    try {
      return rawBinding(name);
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_ACCESS_DENIED' && permission) return undefined;
      throw err;
    } finally {
      process.emitWarning = emitWarning;
    }
  };
  if (currentOptions().flag('--addons') === false) startupRefusal('ward node asks the kernel through its FFI (koffi), a native addon that --no-addons switches off; remove --no-addons (ward still checks every addon the app loads)');
  if (permission && !permission.has('addon')) startupRefusal("ward node asks the kernel through its FFI (koffi), a native addon: add --allow-addons to --permission (ward still checks every addon the app loads)");
  const e = enforcement();
  loadGlobalDefault();
  inheritSettings();
  const atEntry = process.env[ENV.autoloadAtEntry];
  if (atEntry !== undefined && isMainThread()) {
    // `ward node --module-autoload=N`: applies once the entry module has been evaluated.
    delete process.env[ENV.autoloadAtEntry];
    restrictModuleLoading(Number(atEntry) as AutoloadLevel, { lock: 'entry' });
  }
  const spawners = [binding('process_wrap'), binding('spawn_sync')];
  if (spawners[0] && spawners[1]) makeSticky(spawners[0], spawners[1]);
  else if (permission?.has('child')) startupRefusal('ward node cannot hand its checks to child processes under --permission with --allow-child-process (process.binding is denied); drop --allow-child-process');
  guardEnvironmentData();
  if (e.audit && isMainThread()) auditSummaryAtExit();
  // --deny-codegen alone (no bits) needs the same: internals, V8 flags and bindings reach the compilers.
  if (e.restrictFile || e.denyInteractive || e.denyCodegen) {
    checkFlags(e);
    guardV8Flags();
    p.binding = function (name: string) {
      if (!SAFE_BINDINGS.has(String(name))) denyBinding(String(name));
      return rawBinding(name);
    };
  }
  if (e.denyInteractive) {
    const inspector = binding('inspector') ?? {};
    if (isMainThread()) checkEntry(inspector);
    closeInspector(inspector);
  }
  if (dep0111) {
    const appBinding = p.binding;
    p.binding = function (name: string) {
      if (dep0111) Reflect.apply(process.emitWarning, process, dep0111.splice(0));
      dep0111 = undefined;
      return Reflect.apply(appBinding, process, [name]);
    };
  }
  guardCompile();
  if (e.denyCodegen) closeCodegen();
  // Every thread, Node's hooks thread included (it loads a Worker's --experimental-loader before
  // that Worker's own preload runs: the loader ran unchecked when only the main thread looked).
  checkStartupLoaders();
  guardLoaders();
  installHooks({ onEntryLoaded: entryLoaded });
  publish();
  sealWard(publicApi);
} catch (e) {
  fatal(e);
}

function denyBinding(name: string): never {
  throw Object.assign(new Error(`process.binding('${name}') is refused: the exec securebits are set and this binding reaches past ward's checks`), { code: 'ERR_WARD_CODE_DENIED' });
}
