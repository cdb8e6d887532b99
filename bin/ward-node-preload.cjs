'use strict';
// The enlightened-Node preload as `ward node` passes it (--require): loads ward's TypeScript
// preload with Node's compile cache in ward's own .cache directory (see bin/ward.js), which cuts
// the preload's start-up cost several times. The cache then also holds the application's
// compiled modules (keyed by their source hash); it is writable only by the owner of ward's
// checkout, like ward's code itself. Unwritable → no cache, same behaviour.
const nodeModule = require('node:module');
const path = require('node:path');
try {
  if (typeof nodeModule.enableCompileCache === 'function') nodeModule.enableCompileCache(path.join(__dirname, '..', '.cache', 'compile'));
} catch {
  /* no cache */
}
require('../src/node/preload.ts');
