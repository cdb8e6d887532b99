'use strict';
// The enlightened-Node preload as `ward node` passes it (--require): loads ward's preload (the
// TypeScript sources in a checkout, the built dist/ in an installed package) with Node's compile
// cache in WARD_COMPILE_CACHE or ward's own .cache directory (see bin/ward.js), which cuts the
// preload's start-up cost several times. The cache then also holds the application's compiled
// modules (keyed by their source hash); it is writable only by the owner of ward's files, like
// ward's code itself. Unwritable → no cache, same behaviour.
const nodeModule = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
try {
  if (typeof nodeModule.enableCompileCache === 'function') nodeModule.enableCompileCache(process.env.WARD_COMPILE_CACHE || path.join(__dirname, '..', '.cache', 'compile'));
} catch {
  /* no cache */
}
const source = path.join(__dirname, '..', 'src', 'node', 'preload.ts');
require(fs.existsSync(source) ? source : path.join(__dirname, '..', 'dist', 'node', 'preload.js'));
