// ward's own modules are loaded before the application's and hold the enlightened runtime's
// state and its FFI (koffi). Once the preload has run they are sealed: removed from require.cache
// (Module._cache), and no later resolution may reach a file of ward's installation or of koffi —
// whether by path, by package name, through createRequire with a forged parent or a loader of
// the app's (ward's resolve hook sees every final result, ./hooks.ts). The one exception is the
// public API, ./index.ts (dist/node/index.js in the package), which exports no state and no
// originals. In the package the preload is one bundled file (scripts/bundle-preload.ts), so the
// public API's file was never loaded: an app that imports it gets a module whose exports are the
// running preload's own (publicApiSource, served by ward's load hook), never a second copy of
// ward's state.

const Module = process.getBuiltinModule('node:module');
const { dirname, join, sep } = process.getBuiltinModule('node:path');
const { fileURLToPath } = process.getBuiltinModule('node:url');
import { ffi, koffiMain as koffiEntryPoint } from '../kernel/ffi.ts';
import { refuse } from './errors.ts';
import { PRELOAD, WARD_ROOT } from './launch.ts';

const PUBLIC_API = fileURLToPath(new URL('./index.ts', import.meta.url));
const PUBLIC_API_URL = new URL('./index.ts', import.meta.url).href;
const API_KEY = Symbol.for('ward.node.api');
// ward's code (src/, bin/, and dist/ — the package's, or a checkout's build) and its FFI (koffi
// and its prebuilt binaries); not the rest of the checkout, where an app or a test fixture may live.
const roots: string[] = [join(WARD_ROOT, 'src') + sep, join(WARD_ROOT, 'bin') + sep, join(WARD_ROOT, 'dist') + sep];
let sealed = false;

/**
 * The source ward's load hook gives the public API's file when it is loaded after the seal (the
 * bundled preload never loaded it): its exports are the running preload's, read from a property
 * of globalThis that cannot be replaced or deleted. Undefined for any other URL.
 */
export function publicApiSource(url: string): string | undefined {
  if (url !== PUBLIC_API_URL || !sealed) return undefined;
  const names = Object.keys((globalThis as unknown as Record<symbol, object>)[API_KEY] ?? {});
  return `const api = globalThis[Symbol.for('ward.node.api')];\nexport const { ${names.join(', ')} } = api;\n`;
}

export function sealWard(publicApi: Record<string, unknown>): void {
  Object.defineProperty(globalThis, API_KEY, { value: Object.freeze({ ...publicApi }), enumerable: false, writable: false, configurable: false });
  // The FFI loads lazily: load it now, so it is inside the seal rather than loaded by the first check after it.
  ffi();
  try {
    // koffi may be hoisted next to ward (installed as a dependency) rather than inside it.
    // The koffi the FFI resolved (from ../kernel/ffi.ts, in the same package: the same answer).
    const koffiMain = koffiEntryPoint();
    const marker = `${sep}node_modules${sep}koffi${sep}`;
    const i = koffiMain.lastIndexOf(marker);
    if (i >= 0) roots.push(koffiMain.slice(0, i + marker.length), koffiMain.slice(0, i) + `${sep}node_modules${sep}@koromix${sep}`);
    else roots.push(dirname(koffiMain) + sep);
  } catch {
    /* no koffi: nothing more to seal */
  }
  const cache = (Module as unknown as { _cache: Record<string, unknown> })._cache;
  // The preload's own entry stays: it exports nothing, and a second --require of it (command line
  // and NODE_OPTIONS both name it) must find it loaded.
  for (const key of Object.keys(cache)) if (isWardPath(key) && key !== PRELOAD) delete cache[key];
  sealed = true;
}

function isWardPath(path: string): boolean {
  return roots.some((r) => path.startsWith(r));
}

/** Throws if, after the seal, `url` names one of ward's files other than its public API. */
export function refuseWardFile(url: string, what = 'importing'): void {
  if (!sealed || !url.startsWith('file:')) return;
  const path = fileURLToPath(url);
  if (path === PUBLIC_API || path === PRELOAD || !isWardPath(path)) return;
  refuse('ERR_WARD_EPERM', `EPERM: ${what} ${path} is refused: ward's own modules and FFI are not the application's to load; use the public API (ward/node)`);
}
