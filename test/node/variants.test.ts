// Regression tests for the second round of the review (issue 10, "new variants of each class"),
// as the first round's test/node/bypass.test.ts: each attack from a checked app run as `nobody`
// under `ward exec --restrict-file --deny-interactive -- ward node` (or with --deny-codegen
// alone where that mode is the door). The payload is the text of a mode-0644 file, a snapshot
// blob or bytes: an attack wins if it prints PWNED. WARD_NODE_TEST_BIN may point at another
// ward checkout to show the attacks winning there.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Scratch, IS_ROOT, NOBODY, NOGROUP, requires, placeFile } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';
import { execveCheckSupported } from '../../src/kernel/exec-check.ts';

const BIN = process.env.WARD_NODE_TEST_BIN ?? WARD_BIN;
let s: Scratch;
let dir: string;
const ok = () => IS_ROOT && execveCheckSupported();
const WASM = 'new Uint8Array([0,97,115,109,1,0,0,0])';

const file = (rel: string, text: string | Uint8Array, mode = 0o755): string => placeFile(dir, rel, text, mode);

before(() => {
  if (!ok()) return;
  s = new Scratch('ward-node-variants-');
  dir = s.tmpfs('app');
  file('payload.js', `console.log('PWNED')\n`, 0o644);
  file('dep.cjs', `module.exports = 1;\n`);
  file('dep.js', `module.exports = 1;\n`);
  file('dep.mjs', `export default 1;\n`);
  file('payload.mjs', `console.log('PWNED')\n`, 0o644);
  // A loader whose side effect (a file) is visible however its thread's output is handled.
  mkdirSync(join(dir, 'w'), { mode: 0o777 });
  chmodSync(join(dir, 'w'), 0o777);
  file('loader-mark.mjs', `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(join(dir, 'w', 'LOADER_RAN'))}, 'x'); export async function load(u, c, n) { return n(u, c); }\n`, 0o644);
  // A user-land snapshot whose main function is the payload, built by a plain node (as an
  // attacker would, anywhere) and left 0644.
  const main = file('snapmain.js', `require('node:v8').startupSnapshot.setDeserializeMainFunction(() => console.log('snapshot main: PWNED'));\n`);
  const r = spawnSync(process.execPath, ['--snapshot-blob', join(dir, 'evil.blob'), '--build-snapshot', main], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  chmodSync(join(dir, 'evil.blob'), 0o644);
  // A checked file that is not a library, next to a 0644 shared object of the same name + ".so".
  file('ext', 'not a library\n');
  const koffi = createRequire(import.meta.url).resolve(`@koromix/koffi-linux-${process.arch}/linux_${process.arch}/koffi.node`, { paths: [createRequire(import.meta.url).resolve('koffi')] });
  copyFileSync(koffi, join(dir, 'ext.so'));
  chmodSync(join(dir, 'ext.so'), 0o644);
  copyFileSync(koffi, join(dir, 'bare.so'));
  chmodSync(join(dir, 'bare.so'), 0o755);
});
after(() => s?.cleanup());

const P = () => JSON.stringify(join(dir, 'payload.js'));
const D = () => JSON.stringify(join(dir, 'dep.cjs'));
const BLOB = () => JSON.stringify(join(dir, 'evil.blob'));
const CODEGEN = /ward node runs with --deny-codegen/;
const child = (args: string, opts = "{ stdio: 'inherit' }") => `const r = require('node:child_process').spawnSync(process.execPath, ${args}, ${opts}); if (r.error && r.error.code !== 'ETIMEDOUT') throw r.error;`;

interface Attack {
  code: () => string;
  flags?: string[];
  bits?: string[];
  refused: RegExp;
  /** Added to the environment of ward (as a caller would). */
  env?: Record<string, string>;
  /** Node options before the app that need the scratch directory. */
  pre?: () => string[];
}

const A: Record<string, Attack> = {
  // Enforcement shed by workers: NODE_OPTIONS of a Worker's env runs its --require ahead of ward's preload.
  "a Worker's env NODE_OPTIONS --require": { code: () => `await new Promise((res) => new (require('node:worker_threads').Worker)(${D()}, { env: { NODE_OPTIONS: '--require ' + ${P()} } }).on('error', (e) => { console.log(e.code, e.message); res(); }).on('exit', res));`, refused: /ERR_WARD_EXEC_DENIED/ },
  // WebAssembly from bytes through a Node function that calls what it is given (the caller is node:…).
  'WebAssembly.compile through util.callbackify': { flags: ['--deny-codegen'], code: () => `await new Promise((res) => require('node:util').callbackify(WebAssembly.compile)(${WASM}, (e, m) => { console.log(e ? e.code + ' ' + e.message : 'wasm: PWNED'); res(); }));`, refused: CODEGEN },
  'WebAssembly.compile through util.deprecate': { flags: ['--deny-codegen'], code: () => `const m = await require('node:util').deprecate(WebAssembly.compile, 'x')(${WASM}); console.log(m instanceof WebAssembly.Module ? 'wasm: PWNED' : 'no module');`, refused: CODEGEN },
  'WebAssembly.compile through AsyncLocalStorage.run': { flags: ['--deny-codegen'], code: () => `const m = await new (require('node:async_hooks').AsyncLocalStorage)().run(1, WebAssembly.compile, ${WASM}); console.log(m instanceof WebAssembly.Module ? 'wasm: PWNED' : 'no module');`, refused: CODEGEN },
  // --deny-codegen alone (no bits): a data: module is code from a string.
  'import() of a data: URL under --deny-codegen alone': { bits: [], flags: ['--deny-codegen'], code: () => `await import('data:text/javascript,console.log("PW"+"NED")');`, refused: CODEGEN },
  'a Worker on a data: URL under --deny-codegen alone': { bits: [], flags: ['--deny-codegen'], code: () => `await new Promise((res) => new (require('node:worker_threads').Worker)(new URL('data:text/javascript,console.log("PW"+"NED")')).on('error', (e) => { console.log(e.code, e.message); res(); }).on('exit', res));`, refused: CODEGEN },
  'module.register() of a data: loader under --deny-codegen alone': { bits: [], flags: ['--deny-codegen'], code: () => `require('node:module').register('data:text/javascript,console.log("PW"+"NED")'); await import(${D()});`, refused: CODEGEN },
  "registerHooks asks Node for another (0644) file than the one loaded": { code: () => `const { pathToFileURL } = require('node:url'); require('node:module').registerHooks({ load(u, c, n) { return u.endsWith('/dep.mjs') ? n(pathToFileURL(${JSON.stringify(join(dir ?? '', 'payload.mjs'))}).href, c) : n(u, c); } }); await import(${JSON.stringify(join(dir ?? '', 'dep.mjs'))});`, refused: /ERR_WARD_EXEC_DENIED module .*payload\.mjs may not be executed/ },
  // (The worker's preload refuses and exits the worker with 126; its stderr is lost with it.)
  "a Worker's execArgv --experimental-loader of a 0644 loader": { code: () => `const mark = ${JSON.stringify(join(dir ?? '', 'w', 'LOADER_RAN'))}; await new Promise((res) => new (require('node:worker_threads').Worker)(${JSON.stringify(join(dir ?? '', 'dep.mjs'))}, { execArgv: ['--no-warnings', '--experimental-loader', ${JSON.stringify(join(dir ?? '', 'loader-mark.mjs'))}] }).on('error', (e) => { console.log(e.code, e.message); res(); }).on('exit', (c) => { console.log('worker exit', c); res(); })); await import(${JSON.stringify(join(dir ?? '', 'dep.mjs'))}); if (require('node:fs').existsSync(mark)) console.log('loader ran: PWNED');`, refused: /worker exit 126/ },
  // A legacy require.extensions loader (the pattern of @babel/register, pirates, ts-node) reads
  // the file itself: Node's load hooks, where ward checks, never see it.
  "require.extensions['.js'] replaced by a compiling loader": { code: () => `const M = require('node:module'); const fs = require('node:fs'); M._extensions['.js'] = function (m, f) { m._compile(fs.readFileSync(f, 'utf8'), f); }; console.log('checked dep through the loader:', require(${JSON.stringify(join(dir ?? '', 'dep.js'))})); require(${P()});`, refused: /checked dep through the loader: 1[\s\S]*ERR_WARD_EXEC_DENIED module .*payload\.js may not be executed/ },
  // Native code: the check on one path, the load from another.
  'node:sqlite loadExtension(PATH): SQLite falls back to a 0644 PATH.so': { code: () => `const { DatabaseSync } = require('node:sqlite'); const db = new DatabaseSync(':memory:', { allowExtension: true }); try { db.loadExtension(${JSON.stringify(join(dir ?? '', 'ext'))}); } catch (e) { if (e.code !== 'ERR_WARD_EXEC_DENIED') console.log('PATH.so dlopened: PWNED', e.message); throw e; }`, refused: /ERR_WARD_EXEC_DENIED SQLite extension .*ext\.so may not be executed/ },
  'loadExtension of a bare name (dlopen searches the library path, not the directory checked)': { code: () => `const { DatabaseSync } = require('node:sqlite'); const db = new DatabaseSync(':memory:', { allowExtension: true }); db.loadExtension('bare.so');`, refused: /a bare name: dlopen would search the library path/ },
  // Node modes that run code ward's preload does not see first: refused wherever an enlightened
  // process starts node (spawn, spawnSync, a shell's NODE_OPTIONS, process.execve) and by ward node.
  'a child node --build-snapshot of a 0644 file': { code: () => child(`['--build-snapshot', '--snapshot-blob', ${JSON.stringify('/tmp/ward-variants-x.blob')}, ${P()}]`), refused: /--build-snapshot is refused/ },
  'a child node --snapshot-blob (0644) with a checked script': { code: () => child(`['--snapshot-blob', ${BLOB()}, ${D()}]`), refused: /--snapshot-blob is refused/ },
  'a child node --snapshot-blob (0644) reading a checked stdin': { code: () => child(`['--snapshot-blob', ${BLOB()}]`, `{ stdio: [require('node:fs').openSync(${D()}), 'inherit', 'inherit'] }`), refused: /--snapshot-blob is refused/ },
  'a child node --inspect-brk (waits before the preload)': { code: () => child(`['--inspect-brk=127.0.0.1:0', ${D()}]`, "{ stdio: 'inherit', timeout: 5000 }") + ` console.log(r.signal ? 'child waited with its inspector open: PWNED' : 'exit ' + r.status);`, refused: /--inspect-brk is refused/ },
  'a child node with NODE_OPTIONS=--inspect-wait': { code: () => child(`[${D()}]`, "{ stdio: 'inherit', timeout: 5000, env: { NODE_OPTIONS: '--inspect-wait=127.0.0.1:0' } }") + ` console.log(r.signal ? 'child waited with its inspector open: PWNED' : 'exit ' + r.status);`, refused: /--inspect-wait is refused/ },
  'a shell child handed NODE_OPTIONS=--inspect-brk': { code: () => `require('node:child_process').execSync('node ' + ${D()}, { stdio: 'inherit', timeout: 5000, env: { PATH: require('node:path').dirname(process.execPath) + ':/usr/bin:/bin', NODE_OPTIONS: '--inspect-brk=127.0.0.1:0' } }); console.log('exit 0');`, refused: /--inspect-brk is refused/ },
  'process.execve of node --inspect-wait': { code: () => `process.execve(process.execPath, [process.execPath, '--inspect-wait=127.0.0.1:0', ${D()}]);`, refused: /--inspect-wait is refused/ },
  'ward node --inspect-brk (the inspector waits before the preload)': { flags: ['--inspect-brk=127.0.0.1:0'], code: () => `console.log('inspector: PWNED');`, refused: /--inspect-brk is refused/ },
  'ward node --snapshot-blob (0644)': { flags: [], pre: () => ['--snapshot-blob', join(dir, 'evil.blob')], code: () => `console.log('checked main');`, refused: /--snapshot-blob is refused/ },
};

for (const [name, a] of Object.entries(A)) {
  test(`variant: ${name}`, (t) => {
    if (!requires(t, ok(), 'root (tmpfs, nobody) and AT_EXECVE_CHECK')) return;
    const main = file(`a-${name.replace(/[^a-z0-9]/gi, '_')}.cjs`, `(async () => {\n${a.code()}\n})().catch((e) => { console.log(e.code, e.message); process.exitCode = 3; });\n`);
    const bits = a.bits ?? ['--restrict-file', '--deny-interactive'];
    const node = [process.execPath, BIN, 'node', ...(a.flags ?? []), ...(a.pre?.() ?? []), main];
    const argv = bits.length ? [BIN, 'exec', ...bits, '--', ...node] : node.slice(1);
    const r = spawnSync(process.execPath, argv, { encoding: 'utf8', cwd: dir, timeout: 60_000, uid: NOBODY, gid: NOGROUP, env: { PATH: '/usr/bin:/bin', HOME: '/', ...a.env } });
    const out = `${r.stdout}${r.stderr}`;
    assert.doesNotMatch(out, /PWNED/, out);
    assert.match(out, a.refused, out);
  });
}

// The check on one read, the run from another: Node's default loader reads a module again by its
// path after ward checked and read it from an fd; a file renamed over in between ran unchecked
// (91 wins in 3,000 ESM imports, 76 in 2,000 CommonJS requires, before the fix).
for (const kind of ['mjs', 'cjs'] as const) {
  test(`variant: a ${kind} module renamed over between ward's read and Node's (race, ${kind === 'mjs' ? 3000 : 2000} loads)`, async (t) => {
    if (!requires(t, ok(), 'root (tmpfs, nobody) and AT_EXECVE_CHECK')) return;
    const text = (v: string) => (kind === 'mjs' ? `export const v = '${v}';\n` : `module.exports = { v: '${v}' };\n`);
    file(`race-${kind}/good.${kind}`, text('good'));
    file(`race-${kind}/evil.${kind}`, text('PWNED'), 0o644);
    file(`race-${kind}/victim.${kind}`, text('good'));
    const swapper = spawn('perl', ['-e', `chdir '${join(dir, `race-${kind}`)}' or die; while (1) { link 'good.${kind}', 'a'; rename 'a', 'victim.${kind}'; link 'evil.${kind}', 'b'; rename 'b', 'victim.${kind}'; }`], { stdio: 'ignore' });
    try {
      const load = kind === 'mjs' ? `(await import('./race-mjs/victim.mjs?' + i)).v` : `(delete require.cache[p], require(p)).v`;
      const main = file(`race-${kind}.cjs`, `(async () => { const p = require('node:path').join(__dirname, 'race-cjs/victim.cjs'); const n = { won: 0, good: 0, refused: 0 }; for (let i = 0; i < ${kind === 'mjs' ? 3000 : 2000}; i++) { try { const v = ${load}; if (v === 'good') n.good++; else n.won++; } catch (e) { if (e.code !== 'ERR_WARD_EXEC_DENIED') throw e; n.refused++; } } console.log(JSON.stringify(n)); })();\n`);
      const r = spawnSync(process.execPath, [BIN, 'exec', '--restrict-file', '--deny-interactive', '--', process.execPath, BIN, 'node', main], { encoding: 'utf8', cwd: dir, timeout: 120_000, uid: NOBODY, gid: NOGROUP, env: { PATH: '/usr/bin:/bin', HOME: '/' } });
      const n = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { won: number; good: number; refused: number };
      // The race was on (some loads met the 0644 file at the check) and never won.
      assert.ok(n.refused > 0 && n.good > 0, `${r.stdout}${r.stderr}`);
      assert.equal(n.won, 0, `the unchecked file ran ${n.won} times: ${r.stdout}`);
    } finally {
      swapper.kill('SIGKILL');
    }
  });
}
