'use strict';
// `ward run`'s fast entry in a checkout, as bin/ward.js loads it: the same one-file bundle the
// build makes (dist/cli/run.bundle.cjs), from the TypeScript sources in src/ by
// scripts/preload-bundler.cjs, cached in .cache/run/ while its sources (and this file) are
// unchanged; made in memory when that is not writable or not trusted (see cachedByStamp()).
// Loading its ~30 ES modules one by one cost ~0.6 ms each at every launch; one file is one read
// and one compile.
// Exports runFast (src/cli/run-fast.ts) — or nothing, when this user can neither use the cached
// bundle nor write one (another user's checkout): making it in memory means loading TypeScript
// and transpiling ~30 modules at every launch (~0.6 s), so bin/ward.js runs the ES modules then.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { createRequire } = require('node:module');
const { graph, bundle, cachedByStamp, readTrusted, BUNDLES } = require('./preload-bundler.cjs');

const root = path.join(__dirname, '..');
const sources = path.join(root, 'src');
const { name, entry, also, out } = BUNDLES.run;
const cacheFile = path.join(root, '.cache', 'run', 'bundle.cjs');

/** Whether this user may create or replace files in dir (its nearest existing ancestor). */
function writable(dir) {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      fs.accessSync(d, fs.constants.W_OK);
      return true;
    } catch (e) {
      if (e.code !== 'ENOENT' || d === path.dirname(d)) return false;
    }
  }
}

if (readTrusted(cacheFile) !== null || writable(path.dirname(cacheFile))) {
  const code = cachedByStamp(cacheFile, [__filename, require.resolve('typescript/package.json')], () => {
    const modules = graph(path.join(sources, `${entry}.ts`), also.map((m) => path.join(sources, `${m}.ts`)));
    return { code: bundle(sources, modules, undefined, name), modules };
  });
  // Run as if it were src/cli/run.bundle.cjs, where the built one sits in dist/: its modules' paths
  // (import.meta.url, koffi's resolution) are then those of the sources. vm.compileFunction, as
  // bin/ward-node-preload.cjs does, since the file's own path (.cache/run/) is not that one.
  const filename = path.join(sources, out);
  const m = { exports: {} };
  const fn = vm.compileFunction(code, ['exports', 'require', 'module', '__filename', '__dirname'], { filename });
  fn.call(m.exports, m.exports, createRequire(filename), m, filename, path.dirname(filename));
  module.exports = m.exports;
}
