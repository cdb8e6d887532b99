'use strict';
// ward's preload, and `ward run`'s fast entry, each as ONE CommonJS file from its ES modules (see
// BUNDLES below): used at build time on dist/ (scripts/bundle-preload.ts →
// dist/node/preload.bundle.cjs, dist/cli/run.bundle.cjs) and, in a checkout, on the TypeScript
// sources in src/ by bin/ward-node-preload.cjs and scripts/run-bundle.cjs (cached in .cache/).
// CommonJS on purpose: in a checkout it runs inside the preload, where anything loaded through
// Node's ESM loader would also go through an app's asynchronous loader (--loader,
// --experimental-loader: Node's hooks thread sees every module the ESM loader resolves) — which
// could then replace ward's own code. require() of CommonJS never consults those loaders.
//
// No bundler is a dependency: each module of the graph (from the entry, following relative
// imports) is turned into CommonJS by TypeScript's own transpileModule (a devDependency: build
// time, or a checkout) and wrapped in a function; `import.meta.url` becomes the URL of the
// module's own file, so paths computed from it — ward's root, the preload's path, koffi's
// resolution — are the same as when the modules run unbundled. Bare specifiers stay real
// requires. A module that uses dynamic import() or top-level await is refused (the preload is
// --require'd and must load synchronously).
const fs = require('node:fs');
const path = require('node:path');

// Static imports and re-exports, and import('./x') with a literal specifier (TypeScript turns it
// into a require() inside a promise, which the bundle resolves among its own modules).
const RELATIVE = /(?:\bfrom\s*|\bimport\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\1/g;

/**
 * The module graph of `entry` (and of `also`: modules loaded by a computed specifier through
 * createRequire(import.meta.url), which no import names), dependencies first, `entry` last:
 * [{ file, text }].
 */
function graph(entry, also = []) {
  const order = [];
  const seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(RELATIVE)) visit(path.resolve(path.dirname(file), m[2]));
    order.push({ file, text });
  };
  for (const file of also) visit(path.resolve(file));
  visit(path.resolve(entry));
  return order;
}

/** A key for the graph's sources and this bundler (and the TypeScript that transpiles them). */
function key(modules, ts) {
  // node:crypto only here: loading it costs a start ~3 ms, which `ward run` does not pay.
  const h = require('node:crypto').createHash('sha256');
  h.update(fs.readFileSync(__filename));
  h.update(ts);
  for (const { file, text } of modules) h.update(`\0${file}\0${text}`);
  return h.digest('hex').slice(0, 32);
}

/**
 * The bundle's source for `modules` (from graph()) under `root` (the directory module ids are
 * relative to; the bundle is compiled as a file one directory below `root`, e.g. `root`/node/).
 * `name` says what it is in its header and errors. Throws an Error whose message names the module
 * on a module it cannot bundle.
 */
function bundle(root, modules, ts = require('typescript'), name = "ward's preload") {
  const entry = modules[modules.length - 1].file;
  const parts = [];
  for (const { file, text } of modules) {
    const id = path.relative(root, file);
    // import.meta does not exist in CommonJS: its fields become the factory's parameters, bound
    // to the module's own file. createRequire(import.meta.url) becomes a require that finds the
    // bundle's own modules first (a module loaded on use, e.g. sandbox/libs), so that they share
    // the bundle's modules (one WardError class, not two) rather than load a second copy.
    const source = text
      .replace(/\bcreateRequire\(\s*import\.meta\.url\s*\)/g, '__wardCreateRequire()')
      .replace(/\bimport\.meta\.url\b/g, '__wardImportMetaURL')
      .replace(/\bimport\.meta\.filename\b/g, '__wardImportMetaFilename')
      .replace(/\bimport\.meta\.dirname\b/g, '__wardImportMetaDirname');
    const out = ts.transpileModule(source, {
      fileName: file,
      reportDiagnostics: true,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, removeComments: true },
    });
    if (out.diagnostics && out.diagnostics.length) throw new Error(`${id}: ${ts.flattenDiagnosticMessageText(out.diagnostics[0].messageText, '\n')}`);
    // On the transpiled code: a type's `typeof import('x')` is gone, a real import() is not.
    const code = out.outputText.replace(/\/\/.*$/gm, '');
    if (/\bimport\s*\(/.test(code)) throw new Error(`${id} uses import() with a computed specifier: ${name} must load synchronously`);
    if (/\bimport\.meta\b/.test(code)) throw new Error(`${id} uses an import.meta field the bundler does not provide (url, filename, dirname)`);
    parts.push(`${JSON.stringify(id)}: function (exports, require, __wardImportMetaURL, __wardImportMetaFilename, __wardImportMetaDirname, __wardCreateRequire) {\n${out.outputText}\n}`);
  }
  return `'use strict';
// Generated by scripts/preload-bundler.cjs: ${name} as one file.
// Do not edit; the sources are in src/.
const __wardRequire = require;
const __wardPath = __wardRequire('node:path');
const __wardURL = __wardRequire('node:url');
const __wardDist = __wardPath.join(__dirname, '..');
const __wardModules = {
${parts.join(',\n')}
};
const __wardCache = new Map();
function __wardLoad(id) {
  let m = __wardCache.get(id);
  if (m) return m.exports;
  const factory = __wardModules[id];
  if (!factory) throw new Error(${JSON.stringify(`${name} bundle: no module `)} + id);
  m = { exports: {} };
  __wardCache.set(id, m);
  const file = __wardPath.join(__wardDist, id);
  const dir = __wardPath.dirname(id);
  const url = __wardURL.pathToFileURL(file).href;
  const req = (spec) => (spec.startsWith('./') || spec.startsWith('../') ? __wardLoad(__wardPath.posix.join(dir, spec)) : __wardRequire(spec));
  const createRequire = () => {
    const real = __wardRequire('node:module').createRequire(url);
    const own = (spec) => {
      const bundled = (spec.startsWith('./') || spec.startsWith('../')) && __wardPath.posix.join(dir, spec);
      return bundled && Object.hasOwn(__wardModules, bundled) ? __wardLoad(bundled) : real(spec);
    };
    return Object.assign(own, { resolve: real.resolve, cache: real.cache });
  };
  factory.call(m.exports, m.exports, req, url, file, __wardPath.dirname(file), createRequire);
  return m.exports;
}
module.exports = __wardLoad(${JSON.stringify(path.relative(root, entry))});
`;
}

/**
 * The contents of `file` if the running user owns it and no one else may write it, else null.
 * Checked on the open descriptor, so a file swapped in after the check is not the one read:
 * anyone who may write .cache/ — another user of a shared checkout, a group — could otherwise
 * put their code into ward.
 */
function readTrusted(file) {
  let fd = -1;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    const st = fs.fstatSync(fd);
    return st.isFile() && st.uid === process.getuid() && (st.mode & 0o022) === 0 ? fs.readFileSync(fd, 'utf8') : null;
  } catch {
    return null; // absent, or a symlink
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}

/** Writes `code` to `file` whole, then renames it: a concurrent start never reads half a file. */
function writeCache(file, code) {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, code, { mode: 0o644, flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch {
    /* unwritable: made in memory at each start */
  }
}

/**
 * The bundle cached in `file` (keyed by its name: key()) if trusted (readTrusted), else make()
 * written there — or only returned, where `file` is unwritable or untrusted and not replaceable.
 */
function cached(file, make) {
  const hit = readTrusted(file);
  if (hit !== null) return hit;
  const code = make();
  writeCache(file, code);
  return code;
}

// A file's identity and last change: a write changes ctime (which no one can set back), a
// replacement the inode.
const stamp = (file) => {
  const st = fs.statSync(file, { bigint: true });
  return `${st.dev}:${st.ino}:${st.size}:${st.ctimeNs}:${st.mtimeNs}`;
};

/**
 * Like cached(), but with no hash of the sources at each start (reading ~30 files and hashing them
 * cost `ward run` ~7 ms): the cached file's first line lists its inputs with their stamp(), and
 * it is used while every one is unchanged. make() returns { code, modules } (modules: graph()'s);
 * its inputs are those modules, this bundler and `extra` (e.g. TypeScript's package.json).
 */
function cachedByStamp(file, extra, make) {
  const hit = readTrusted(file);
  if (hit !== null && hit.startsWith('// inputs ')) {
    const eol = hit.indexOf('\n');
    try {
      const inputs = JSON.parse(hit.slice(10, eol));
      if (inputs.every(([f, s]) => stamp(f) === s)) return hit.slice(eol + 1);
    } catch {
      /* an input is gone, or the line is not ours: made again */
    }
  }
  const { code, modules } = make();
  // Stamped after the read: an input changed meanwhile (its text no longer the one bundled) is
  // not cached, so the cache never pairs old code with a new stamp.
  const files = [__filename, ...extra, ...modules.map((m) => m.file)];
  const inputs = files.map((f) => [f, stamp(f)]);
  if (modules.every(({ file: f, text }) => fs.readFileSync(f, 'utf8') === text)) writeCache(file, `// inputs ${JSON.stringify(inputs)}\n${code}`);
  return code;
}

/**
 * The bundles ward ships, by what loads them: entry and `also` (see graph()) relative to the
 * source root without extension (.ts in src/, .js in dist/), and the bundle's path there.
 */
const BUNDLES = {
  // --require'd by bin/ward-node-preload.cjs.
  preload: { name: "ward's preload", entry: 'node/preload', also: [], out: 'node/preload.bundle.cjs' },
  // Loaded by bin/ward.js for `ward run` (scripts/run-bundle.cjs in a checkout). sandbox/libs is
  // required on use (--add-libs, --ldd) by a computed specifier.
  run: { name: "ward run's fast entry", entry: 'cli/run-fast', also: ['sandbox/libs'], out: 'cli/run.bundle.cjs' },
};

module.exports = { graph, key, bundle, cached, cachedByStamp, readTrusted, BUNDLES };
