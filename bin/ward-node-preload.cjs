'use strict';
// The enlightened-Node preload as `ward node` passes it (--require): loads ward's preload (the
// TypeScript sources in a checkout, the built dist/ in an installed package) with Node's compile
// cache in WARD_COMPILE_CACHE or ward's own .cache directory (see bin/ward.js), which cuts the
// preload's start-up cost several times. The cache then also holds the application's compiled
// modules (keyed by their source hash); it is writable only by the owner of ward's files, like
// ward's code itself. Unwritable → no cache, same behaviour.
//
// ward's runtime is ES modules loaded with require() (and, in a checkout, TypeScript): Node
// options that switch those off cannot be honoured, and are refused here in one line rather than
// with a stack trace.
const nodeModule = require('node:module');
const fs = require('node:fs');
const path = require('node:path');

function refuse(what) {
  process.stderr.write(`ward node: ERR_WARD_EPERM: ${what}\n`);
  process.exit(126);
}
const source = path.join(__dirname, '..', 'src', 'node', 'preload.ts');
const fromSource = fs.existsSync(source);
// The package's preload is one bundled CommonJS file (scripts/bundle-preload.ts: one read and one
// compile instead of ~30 ES modules resolved and linked at every start); dist/node/preload.js is
// the same code unbundled, for a dist/ built without the bundle.
const bundle = path.join(__dirname, '..', 'dist', 'node', 'preload.bundle.cjs');
const runtime = fromSource ? source : fs.existsSync(bundle) ? bundle : path.join(__dirname, '..', 'dist', 'node', 'preload.js');
if (process.features.require_module === false && !runtime.endsWith('.cjs')) refuse('ward node loads its runtime with require() of ES modules, which --no-experimental-require-module switches off; remove that option');
if (fromSource && !process.features.typescript) refuse("ward node's runtime is TypeScript run by Node's type stripping, which --no-experimental-strip-types switches off; remove that option");

try {
  if (typeof nodeModule.enableCompileCache === 'function') nodeModule.enableCompileCache(process.env.WARD_COMPILE_CACHE || path.join(__dirname, '..', '.cache', 'compile'));
} catch {
  /* no cache */
}
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
