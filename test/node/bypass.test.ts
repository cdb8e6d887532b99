// Regression tests for the bypass classes of issue 10 (items 7–11): each attack, as the review
// tried it, from a checked app run as `nobody` under `ward exec --restrict-file
// --deny-interactive -- ward node` (and `--deny-codegen` for the code-generation doors). The
// "payload" is the text of a mode-0644 file (or a 0644 shared object): an attack wins if it prints
// PWNED. WARD_NODE_TEST_BIN may point at another ward checkout to show the attacks winning there.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Scratch, IS_ROOT, NOBODY, NOGROUP, requires, placeFile } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';
import { execveCheckSupported } from '../../src/kernel/exec-check.ts';

const BIN = process.env.WARD_NODE_TEST_BIN ?? WARD_BIN;
const WARD_ROOT = join(dirname(BIN), '..');
let s: Scratch;
let dir: string;
const ok = () => IS_ROOT && execveCheckSupported();
const WASM = '[0,97,115,109,1,0,0,0]';

const file = (rel: string, text: string | Uint8Array, mode = 0o755): string => placeFile(dir, rel, text, mode);

before(() => {
  if (!ok()) return;
  s = new Scratch('ward-node-bypass-');
  dir = s.tmpfs('app');
  file('payload.js', `console.log('PWNED')\n`, 0o644);
  file('payload.mjs', `console.log('PWNED')\n`, 0o644);
  file('dep.cjs', `module.exports = 1;\n`);
  file('dep2.cjs', `module.exports = 2;\n`);
  file('dep.mjs', `export default 1;\n`);
  file('late.js', `module.exports = 'late';\n`);
  file('late-worker.js', `console.log('worker: PWNED');\n`);
  file('loader-0644.mjs', `console.log('PWNED'); export async function load(u, c, n) { return n(u, c); }\n`, 0o644);
  file('loader-invents.mjs', `import { readFileSync } from 'node:fs';\nexport async function load(u, c, n) { if (u.endsWith('/dep.mjs')) return { format: 'module', source: readFileSync(${JSON.stringify(join(dir, 'payload.mjs'))}, 'utf8'), shortCircuit: true }; return n(u, c); }\n`);
  const koffi = createRequire(import.meta.url).resolve(`@koromix/koffi-linux-${process.arch}/linux_${process.arch}/koffi.node`, { paths: [createRequire(import.meta.url).resolve('koffi')] });
  copyFileSync(koffi, join(dir, 'ext-0644.so'));
  chmodSync(join(dir, 'ext-0644.so'), 0o644);
});
after(() => s?.cleanup());

const PAYLOAD = () => JSON.stringify(join(dir, 'payload.js'));
const SRC = () => `require('node:fs').readFileSync(${PAYLOAD()}, 'utf8')`;

const CODEGEN = /ward node runs with --deny-codegen/;
// Before --deny-codegen existed, DENY_INTERACTIVE alone refused code generation: set
// WARD_NODE_TEST_NO_CODEGEN_FLAG=1 with an older WARD_NODE_TEST_BIN to try the same attacks there.
const DROP = process.env.WARD_NODE_TEST_NO_CODEGEN_FLAG === '1';

interface Attack {
  /** Body of an async CommonJS main (require, __dirname available). */
  code: () => string;
  /** ward node options before the app. */
  flags?: string[];
  /** Exec bits (default both). */
  bits?: string[];
  /** Expected refusal in the output. */
  refused: RegExp;
  ext?: 'cjs' | 'js';
}

const A: Record<string, Attack> = {
  // 7. Enforcement shed by workers and children.
  'worker given env {} (ward --enforce, no bits)': { bits: [], flags: ['--enforce'], code: () => `await new Promise((res) => new (require('node:worker_threads').Worker)(${PAYLOAD()}, { env: {} }).on('error', (e) => { console.log(e.code, e.message); res(); }).on('exit', res));`, refused: /ERR_WARD_EXEC_DENIED/ },
  'child node with NODE_OPTIONS replaced': { code: () => `require('node:child_process').spawnSync(process.execPath, [${PAYLOAD()}], { env: { NODE_OPTIONS: '--no-warnings' }, stdio: 'inherit' });`, refused: /ERR_WARD_EXEC_DENIED/ },
  'child node -e with an empty env': { code: () => `require('node:child_process').spawnSync(process.execPath, ['-e', "console.log('PWNED')"], { env: {}, stdio: 'inherit' });`, refused: /code given on the command line/ },
  'async spawn of node with an empty env': { code: () => `await new Promise((res) => require('node:child_process').spawn(process.execPath, ['-p', "'PWNED'"], { env: {}, stdio: 'inherit' }).on('exit', res));`, refused: /code given on the command line/ },
  'fork with execArgv [] and env {}': { code: () => `await new Promise((res) => require('node:child_process').fork(${PAYLOAD()}, [], { execArgv: [], env: {} }).on('exit', res));`, refused: /ERR_WARD_EXEC_DENIED/ },
  'process.execve with a clean env': { code: () => `process.execve(process.execPath, [process.execPath, '-e', "console.log('PWNED')"], {});`, refused: /code given on the command line/ },
  'shell child inherits the preload': { code: () => `require('node:child_process').execSync('"' + process.execPath + '" ' + ${PAYLOAD()}, { env: { PATH: '/usr/bin:/bin' }, stdio: 'inherit' });`, refused: /ERR_WARD_EXEC_DENIED/ },
  // 8. Originals behind wrappers (code-generation doors: --deny-codegen).
  'vm.Script.prototype.constructor': { flags: ['--deny-codegen'], code: () => `new (require('node:vm').Script.prototype.constructor)(${SRC()}).runInThisContext();`, refused: CODEGEN },
  'vm.Script subclass': { flags: ['--deny-codegen'], code: () => `class X extends require('node:vm').Script {} new X(${SRC()}).runInThisContext();`, refused: CODEGEN },
  'ContextifyScript through the prototype chain': { flags: ['--deny-codegen'], code: () => `const C = Object.getPrototypeOf(require('node:vm').Script.prototype).constructor; const s = new C(${SRC()}, 'x.js'); console.log('compiled: PWNED');`, refused: CODEGEN },
  'Object.getPrototypeOf(vm.Script)': { flags: ['--deny-codegen'], code: () => `const C = Object.getPrototypeOf(require('node:vm').Script); new C(${SRC()}, 'x.js'); console.log('compiled: PWNED');`, refused: CODEGEN },
  'WebAssembly.Module.prototype.constructor': { flags: ['--deny-codegen'], code: () => `new WebAssembly.Module.prototype.constructor(new Uint8Array(${WASM})); console.log('wasm: PWNED');`, refused: CODEGEN },
  'instantiateStreaming(new Response(bytes))': { flags: ['--deny-codegen'], code: () => `await WebAssembly.instantiateStreaming(new Response(new Uint8Array(${WASM}), { headers: { 'content-type': 'application/wasm' } })); console.log('wasm: PWNED');`, refused: CODEGEN },
  'Module.wrap': { flags: ['--deny-codegen'], code: () => `const M = require('node:module'); const src = ${SRC()}; M.wrap = (s) => '(function (exports, require, module, __filename, __dirname) { ' + src + ' })'; require('./dep.cjs');`, refused: CODEGEN },
  'Module.wrapper': { flags: ['--deny-codegen'], code: () => `const M = require('node:module'); M.wrapper[0] = M.wrapper[0] + ${SRC()} + ';'; require('./dep2.cjs');`, refused: CODEGEN },
  "registerHooks invents a checked file's source": { flags: ['--deny-codegen'], code: () => `require('node:module').registerHooks({ load(u, c, n) { return u.endsWith('/dep.mjs') ? { format: 'module', source: require('node:fs').readFileSync(${JSON.stringify(join(dir ?? '', 'payload.mjs'))}, 'utf8'), shortCircuit: true } : n(u, c); } }); await import('./dep.mjs');`, refused: CODEGEN },
  'registerHooks short-circuits an unchecked file': { code: () => `require('node:module').registerHooks({ load(u, c, n) { return u.endsWith('/payload.mjs') ? { format: 'module', source: require('node:fs').readFileSync(new URL(u), 'utf8'), shortCircuit: true } : n(u, c); } }); await import('./payload.mjs');`, refused: /ERR_WARD_EXEC_DENIED/ },
  'registerHooks resolves into ward': { code: () => `const { pathToFileURL } = require('node:url'); require('node:module').registerHooks({ resolve(s, c, n) { return s === 'x' ? { url: pathToFileURL(${JSON.stringify(join(WARD_ROOT, 'src/node/files.ts'))}).href, shortCircuit: true } : n(s, c); } }); const m = await import('x'); console.log(typeof m.rememberSource === 'function' ? 'state: PWNED' : 'no state');`, refused: /ERR_WARD_EPERM/ },
  'module.register() of a 0644 loader': { code: () => `require('node:module').register('./loader-0644.mjs', require('node:url').pathToFileURL(__filename)); await import('./dep.mjs');`, refused: /ERR_WARD_EXEC_DENIED/ },
  '--experimental-loader of a 0644 loader': { flags: ['--no-warnings', '--experimental-loader', './loader-0644.mjs'], code: () => `await import('./dep.mjs');`, refused: /ERR_WARD_EXEC_DENIED/ },
  'module.register() of a data: loader': { code: () => `require('node:module').register('data:text/javascript,console.log("PWNED")'); await import('./dep.mjs');`, refused: /a module loader from a data: URL is refused/ },
  '--experimental-loader of a data: loader': { flags: ['--no-warnings', '--experimental-loader', 'data:text/javascript,console.log("PWNED")'], code: () => `await import('./dep.mjs');`, refused: /a module loader from a data: URL is refused/ },
  "process.binding('contextify') with --deny-codegen and no bits": { bits: [], flags: ['--deny-codegen'], code: () => `const C = process.binding('contextify').ContextifyScript; new C(${SRC()}, 'x.js'); console.log('compiled: PWNED');`, refused: /process.binding\('contextify'\) is refused/ },
  'an async loader invents source': { flags: ['--deny-codegen'], code: () => `require('node:module').register('./loader-invents.mjs', require('node:url').pathToFileURL(__filename)); await import('./dep.mjs');`, refused: CODEGEN },
  "ward's module state by import": { code: () => `const m = await import(${JSON.stringify(join(WARD_ROOT, 'src/node/files.ts'))}); m.rememberSource('x', 'y'); console.log('state: PWNED');`, refused: /ERR_WARD_EPERM/ },
  "ward's autoload state by require": { code: () => `const m = require(${JSON.stringify(join(WARD_ROOT, 'src/node/autoload.ts'))}); console.log('state: PWNED', Object.keys(m));`, refused: /ERR_WARD_EPERM/ },
  'koffi through require.cache': { code: () => `const k = Object.keys(require.cache).find((f) => /node_modules\\/(koffi|@koromix)\\//.test(f)); if (k) console.log('koffi: PWNED'); const r = require('node:module').createRequire(${JSON.stringify(join(WARD_ROOT, 'src/kernel/ffi.ts'))}); r('koffi'); console.log('koffi: PWNED');`, refused: /ERR_WARD_EPERM/ },
  'node:sqlite loadExtension of a 0644 .so': { code: () => `const { DatabaseSync } = require('node:sqlite'); const db = new DatabaseSync(':memory:', { allowExtension: true }); try { db.loadExtension(${JSON.stringify(join(dir ?? '', 'ext-0644.so'))}); } catch (e) { if (e.code !== 'ERR_WARD_EXEC_DENIED') console.log('extension loaded (dlopen ran): PWNED', e.message); throw e; }`, refused: /ERR_WARD_EXEC_DENIED/ },
  // 9. The inspector.
  'inspector.open()': { code: () => `require('node:inspector').open(0); console.log('inspector: PWNED');`, refused: /the inspector \(open\) is refused/ },
  'inspector Session (setBreakpointByUrl)': { code: () => `const s = new (require('node:inspector').Session)(); s.connect(); s.post('Debugger.enable'); console.log('session: PWNED');`, refused: /the inspector \(Connection\) is refused/ },
  "process.binding('inspector')": { code: () => `const b = process.binding('inspector'); new b.Connection(() => {}); console.log('inspector: PWNED');`, refused: /process.binding\('inspector'\) is refused/ },
  'SIGUSR1 starts the inspector': { code: () => `process.kill(process.pid, 'SIGUSR1'); await new Promise((r) => setTimeout(r, 300)); if (require('node:inspector').url()) console.log('inspector: PWNED'); else console.log('ERR_WARD no inspector');`, refused: /ERR_WARD no inspector/ },
  '--inspect=0 at start': { flags: ['--inspect=0'], code: () => `console.log('inspector: PWNED');`, refused: /an inspector listening .* is refused|--inspect is refused: the inspector listens/ },
  // 10. Flags.
  'v8.setFlagsFromString weakens eval for new workers': { flags: ['--deny-codegen'], code: () => `require('node:v8').setFlagsFromString('--no-disallow-code-generation-from-strings'); console.log('flag: PWNED');`, refused: /EPERM: v8.setFlagsFromString/ },
  'v8.setFlagsFromString spelled --nodisallow_code_generation_from_strings': { flags: ['--deny-codegen'], code: () => `require('node:v8').setFlagsFromString('--nodisallow_code_generation_from_strings'); console.log('flag: PWNED');`, refused: /EPERM: v8.setFlagsFromString/ },
  '--expose_internals': { flags: ['--expose_internals'], code: () => `console.log('internals: PWNED');`, refused: /--expose-internals is refused/ },
  '--allow_natives_syntax': { flags: ['--allow_natives_syntax'], code: () => `console.log('natives: PWNED');`, refused: /--allow-natives-syntax is refused/ },
  // 11. Module autoload.
  '.js CommonJS entry locks at --module-autoload=2': { ext: 'js', flags: ['--module-autoload=2'], code: () => `setTimeout(() => { try { require('./late.js'); console.log('late: PWNED'); } catch (e) { console.log(e.code); } }, 10);`, refused: /ERR_WARD_MODULE_DENIED/ },
  'process.getBuiltinModule after the lock': { flags: ['--module-autoload=2'], code: () => `setTimeout(() => { try { process.getBuiltinModule('node:child_process'); console.log('builtin: PWNED'); } catch (e) { console.log(e.code); } }, 10);`, refused: /ERR_WARD_MODULE_DENIED/ },
  'pushing onto process.moduleLoadList': { flags: ['--module-autoload=2'], code: () => `setTimeout(() => { process.moduleLoadList.push('NativeModule dgram'); try { require('node:dgram'); console.log('builtin: PWNED'); } catch (e) { console.log(e.code); } }, 10);`, refused: /ERR_WARD_MODULE_DENIED/ },
  'a Worker whose env omits the level': { flags: ['--module-autoload=2'], code: () => `setTimeout(() => new (require('node:worker_threads').Worker)(require('node:path').join(__dirname, 'late-worker.js'), { env: {} }).on('error', (e) => console.log(e.code)), 10);`, refused: /ERR_WARD_MODULE_DENIED/ },
};

for (const [name, a] of Object.entries(A)) {
  test(`bypass: ${name}`, (t) => {
    if (!requires(t, ok(), 'root (tmpfs, nobody) and AT_EXECVE_CHECK')) return;
    const main = file(`a-${name.replace(/[^a-z0-9]/gi, '_')}.${a.ext ?? 'cjs'}`, `(async () => {\n${a.code()}\n})().catch((e) => { console.log(e.code, e.message); process.exitCode = 3; });\n`);
    const bits = a.bits ?? ['--restrict-file', '--deny-interactive'];
    const node = [process.execPath, BIN, 'node', ...(a.flags ?? []).filter((f) => !DROP || f !== '--deny-codegen'), main];
    const argv = bits.length ? [BIN, 'exec', ...bits, '--', ...node] : node.slice(1);
    const r = spawnSync(process.execPath, argv, { encoding: 'utf8', cwd: dir, timeout: 60_000, uid: NOBODY, gid: NOGROUP, env: { PATH: '/usr/bin:/bin', HOME: '/' } });
    const out = `${r.stdout}${r.stderr}`;
    assert.doesNotMatch(out, /PWNED/, out);
    assert.match(out, a.refused, out);
  });
}
