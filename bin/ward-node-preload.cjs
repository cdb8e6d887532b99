'use strict';
// The enlightened-Node preload as `ward node` passes it (--require): loads ward's runtime as ONE
// CommonJS file — dist/node/preload.bundle.cjs in an installed package (scripts/bundle-preload.ts),
// and in a checkout the same bundle made from the TypeScript sources in src/ by
// scripts/preload-bundler.cjs (cached in .cache/preload/, keyed by the sources' hash; made in
// memory when that is not writable, or not the running user's own: see cached() there).
//
// Why CommonJS, and never Node's ESM loader: an app's asynchronous loader (--loader,
// --experimental-loader) sees every module the ESM loader resolves and loads, from the first one —
// ward's own included — and could replace ward's code. require() of CommonJS does not consult it.
//
// Why no compile cache: module.enableCompileCache() is process-wide — the app would find
// module.getCompileCacheDir() already set, its own enableCompileCache()/NODE_COMPILE_CACHE would
// not take effect, ward's code would land in the app's cache, and under --permission the set-up
// is denied. Without it a start costs ≈1–2 ms more CPU (docs/node.md, "Node's own tests").
//
// Only dist/node/preload.js (a dist/ built without the bundle) is ES modules loaded with require():
// options that switch that off are refused here in one line rather than with a stack trace.
const nodeModule = require('node:module');
const fs = require('node:fs');
const path = require('node:path');

function refuse(what) {
  process.stderr.write(`ward node: ERR_WARD_EPERM: ${what}\n`);
  process.exit(126);
}
const root = path.join(__dirname, '..');
// Under Node's permission model ward needs its FFI (an addon) and to read its own files; say so in
// one line before the first read would throw ERR_ACCESS_DENIED from here.
const permission = process.permission;
if (permission && !permission.has('addon')) refuse('ward node asks the kernel through its FFI (koffi), a native addon: add --allow-addons to --permission (ward still checks every addon the app loads)');
if (permission && !permission.has('fs.read', root)) refuse(`ward node reads its own files: add --allow-fs-read=${root} to --permission`);
const sources = path.join(root, 'src');
const fromSource = fs.existsSync(path.join(sources, 'node', 'preload.ts'));
const bundle = path.join(root, 'dist', 'node', 'preload.bundle.cjs');
const runtime = fromSource ? null : fs.existsSync(bundle) ? bundle : path.join(root, 'dist', 'node', 'preload.js');
if (runtime !== null && process.features.require_module === false && !runtime.endsWith('.cjs')) refuse('ward node loads its runtime with require() of ES modules, which --no-experimental-require-module switches off; remove that option');
if (fromSource && !process.features.typescript) refuse("ward node's runtime is TypeScript run by Node's type stripping, which --no-experimental-strip-types switches off; remove that option");

/**
 * Runs CommonJS `code` as the file `filename`, compiled by V8 directly (vm.compileFunction), not
 * by Node's CommonJS loader: that loader uses Node's compile cache when the app turned it on at
 * start (NODE_COMPILE_CACHE), and ward's code must not land in the app's cache.
 */
function run(code, filename) {
  const vm = require('node:vm');
  const m = { exports: {} };
  const fn = vm.compileFunction(code, ['exports', 'require', 'module', '__filename', '__dirname'], { filename });
  fn.call(m.exports, m.exports, nodeModule.createRequire(filename), m, filename, path.dirname(filename));
  return m.exports;
}

/** The checkout's bundle, run as if it were src/node/preload.bundle.cjs (ward's own directory). */
function loadFromSource() {
  const file = path.join(root, 'scripts', 'preload-bundler.cjs');
  const bundler = run(fs.readFileSync(file, 'utf8'), file);
  const modules = bundler.graph(path.join(sources, 'node', 'preload.ts'));
  const ts = require('typescript/package.json').version;
  const cached = path.join(root, '.cache', 'preload', `${bundler.key(modules, ts)}.cjs`);
  // Used only if this user made it and no one else may write it (see cached()): whoever may
  // write .cache/ could otherwise put code into every enlightened Node started from here.
  const code = bundler.cached(cached, () => bundler.bundle(sources, modules));
  run(code, path.join(sources, 'node', 'preload.bundle.cjs'));
}

if (fromSource) loadFromSource();
else if (runtime === bundle) run(fs.readFileSync(bundle, 'utf8'), bundle);
else {
  // --trace-require-module would report ward's own require() of its ES modules: not the app's.
  const emitWarning = process.emitWarning;
  process.emitWarning = function (warning, ...rest) {
    if (String(warning && warning.message !== undefined ? warning.message : warning).includes(runtime)) return;
    return Reflect.apply(emitWarning, process, [warning, ...rest]);
  };
  try {
    require(runtime);
  } finally {
    process.emitWarning = emitWarning;
  }
}
