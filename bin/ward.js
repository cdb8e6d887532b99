#!/usr/bin/env node
// ward's entry point. In a checkout (src/ present) it runs the TypeScript sources with Node's type
// stripping; an installed package (npm tarball, .deb) has only the JavaScript built into dist/.
// This file must parse and run on any Node still in use, so that an old one gets one line saying
// which version ward needs instead of a stack trace: nothing else is loaded before that check.
import module from 'node:module';

const NEED = '22.15'; // keep in step with package.json "engines"
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const [needMajor, needMinor] = NEED.split('.').map(Number);
if (major < needMajor || (major === needMajor && minor < needMinor)) {
  process.stderr.write(`ward: needs Node.js ${NEED} or later (22 LTS or 24 LTS); ${process.execPath} is Node.js ${process.versions.node}\n`);
  process.exit(1);
}

// ward daemon runs as root: SIGUSR1 must never open Node's inspector (code execution for whoever
// reaches 127.0.0.1:9229). The launchers start its Node with --disable-sigusr1; started as
// `node bin/ward.js daemon` it has only the listener service.ts installs once running, and Node's
// handler opened the inspector while the daemon loaded its modules and read its configuration. A
// listener here replaces Node's handler from ward's first line (Node's own start-up, before it,
// is covered only by the flag).
if (process.argv[2] === 'daemon') process.on('SIGUSR1', () => {});

// import.meta.dirname, not node:url's fileURLToPath: loading node:url costs every launch ~3 ms.
const here = import.meta.dirname;
// node:fs through process.getBuiltinModule (Node ≥ 22.3): an ESM import of node:fs builds its
// namespace, whose fs.promises getter loads streams and readline (~4 ms of every launch).
const source = process.getBuiltinModule('node:fs').existsSync(`${here}/../src/cli/main.ts`);
if (source && !process.features.typescript) {
  process.stderr.write(`ward: running from the TypeScript sources needs Node.js 22.18 or later (type stripping); ${process.execPath} is Node.js ${process.versions.node}. Run "npm ci" and use the repository's own Node (node_modules/.bin/node), or install the built package\n`);
  process.exit(1);
}

// Cache compiled code (V8's code cache, keyed by source hash) in WARD_COMPILE_CACHE or next to
// ward's own files (only their owner can write there, and they can change ward's code anyway):
// start-up drops from ~120 ms to ~40 ms from the sources, which every `ward run` and `ward exec`
// pays. The Debian package points it at /var/cache/ward. Unwritable → no cache, same behaviour.
try {
  module.enableCompileCache?.(process.env.WARD_COMPILE_CACHE || `${here}/../.cache/compile`);
} catch {
  /* no cache */
}

const argv = process.argv.slice(2);
// `ward run` first tries its fast entry (src/cli/run-fast.ts: no commander, no other command
// group); undefined means "not a form it parses", and the full CLI handles it. The entry is
// loaded as one CommonJS bundle of its modules (scripts/preload-bundler.cjs): the built
// dist/cli/run.bundle.cjs, or in a checkout scripts/run-bundle.cjs's (cached in .cache/run/).
// A dist/ built without it (plain tsc) runs the ES modules: the same code, slower to load.
async function fastEntry() {
  const require = module.createRequire(import.meta.url);
  if (source) {
    // Nothing exported: this user can neither use nor write the cached bundle (run-bundle.cjs).
    const bundled = require('../scripts/run-bundle.cjs');
    return bundled.runFast ? bundled : import('../src/cli/run-fast.ts');
  }
  if (process.getBuiltinModule('node:fs').existsSync(`${here}/../dist/cli/run.bundle.cjs`)) return require('../dist/cli/run.bundle.cjs');
  return import('../dist/cli/run-fast.js');
}
const fast = argv[0] === 'run' ? await (await fastEntry()).runFast(argv) : undefined;
if (fast !== undefined) process.exitCode = fast;
else {
  const { main } = await import(source ? '../src/cli/main.ts' : '../dist/cli/main.js');
  process.exitCode = await main(argv);
}
