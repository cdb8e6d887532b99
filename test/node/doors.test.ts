// Every door for code from nowhere, tried under SECBIT_EXEC_DENY_INTERACTIVE (refused with
// ERR_WARD_CODE_DENIED) and without it (works). And every kind of file of code, not executable
// under SECBIT_EXEC_RESTRICT_FILE (refused) and executable (works).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Scratch, IS_ROOT, requires } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';
import { execveCheckSupported } from '../../src/kernel/exec-check.ts';
import { PRELOAD } from '../../src/node/launch.ts';

let s: Scratch;
let dir: string;
const ok = () => IS_ROOT && execveCheckSupported();

function file(name: string, text: string | Uint8Array, mode = 0o755): string {
  const p = join(dir, name);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

before(() => {
  if (!IS_ROOT) return;
  s = new Scratch('ward-node-doors-');
  dir = s.tmpfs('app');
});
after(() => s?.cleanup());

/** Runs `ward node ARGS` with the given exec bits; returns stdout+stderr and status. */
function wardNode(bits: string[], args: string[], env: NodeJS.ProcessEnv = {}) {
  const argv = bits.length ? [WARD_BIN, 'exec', ...bits, '--', process.execPath, WARD_BIN, 'node', ...args] : [WARD_BIN, 'node', ...args];
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', timeout: 60_000, cwd: dir, env: { ...process.env, ...env } });
  return { status: r.status, out: r.stdout + r.stderr };
}

// Code from nowhere (the kernel's DENY_INTERACTIVE): refused under the bit in both modes.
const INTERACTIVE_DOORS: Record<string, string> = {
  'Worker eval': `await new Promise((res, rej) => { const w = new (require('node:worker_threads').Worker)('1', { eval: true }); w.on('exit', res); w.on('error', rej); })`,
  'data: import': `await import('data:text/javascript,export default 1')`,
  'inspector Runtime.evaluate': `await new Promise((res, rej) => { const i = require('node:inspector'); const s = new i.Session(); s.connect(); try { s.post('Runtime.evaluate', { expression: '1' }, (e) => (e ? rej(e) : res())); } catch (e) { rej(e); } })`,
};
// Code generated from strings or bytes by checked code: allowed by default, refused with --deny-codegen.
const CODEGEN_DOORS: Record<string, string> = {
  eval: `eval('1 + 1')`,
  'new Function': `new Function('return 1')()`,
  'async function constructor': `(async () => {}).constructor('return 1')`,
  'vm.runInThisContext': `require('node:vm').runInThisContext('1')`,
  'new vm.Script': `new (require('node:vm').Script)('1')`,
  'vm.compileFunction': `require('node:vm').compileFunction('return 1')`,
  'vm via import': `await import('node:vm').then((vm) => vm.runInNewContext('1'))`,
  'Module._compile': `{ const M = require('node:module'); const m = new M('/x.js'); m._compile('module.exports = 1', '/x.js'); }`,
  'WebAssembly from bytes': `await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))`,
};

function doorScript(door: string, code: string): string {
  const name = `door-${door.replace(/[^a-z]/gi, '_')}.cjs`;
  return file(name, `(async () => { try { ${code}; console.log('DOOR OPEN'); } catch (e) { console.log('DOOR SHUT', e.code ?? e.name, e.message); process.exitCode = 3; } })();\n`);
}

for (const [door, code] of Object.entries(INTERACTIVE_DOORS)) {
  test(`door: ${door} — refused under DENY_INTERACTIVE, works without`, async (t) => {
    if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
    const script = doorScript(door, code);
    assert.match(wardNode([], [script]).out, /DOOR OPEN/);
    const shut = wardNode(['--deny-interactive'], [script]);
    assert.match(shut.out, /DOOR SHUT ERR_WARD_CODE_DENIED .* is refused: SECBIT_EXEC_DENY_INTERACTIVE is set/, shut.out);
  });
}

for (const [door, code] of Object.entries(CODEGEN_DOORS)) {
  test(`codegen door: ${door} — allowed under -fi, refused with --deny-codegen`, async (t) => {
    if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
    const script = doorScript(door, code);
    const open = wardNode(['--restrict-file', '--deny-interactive'], [script]);
    assert.match(open.out, /DOOR OPEN/, open.out);
    const shut = wardNode(['--restrict-file', '--deny-interactive'], ['--deny-codegen', script]);
    // eval and the function constructors are refused by V8 itself (--disallow-code-generation-from-strings).
    const expected = ['eval', 'new Function', 'async function constructor'].includes(door) ? /DOOR SHUT EvalError Code generation from strings disallowed for this context/ : /DOOR SHUT ERR_WARD_CODE_DENIED .* is refused: ward node runs with --deny-codegen/;
    assert.match(shut.out, expected, shut.out);
  });
}

test("door: process.binding('contextify') — refused under the exec bits", (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  const script = doorScript('binding', `process.binding('contextify')`);
  assert.match(wardNode([], [script]).out, /DOOR OPEN/);
  assert.match(wardNode(['--deny-interactive'], [script]).out, /DOOR SHUT ERR_WARD_CODE_DENIED process.binding\('contextify'\) is refused/);
});

test('door: --import of a data: URL smuggled through NODE_OPTIONS', (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  const main = file('main-plain.cjs', `console.log('main ran');\n`);
  // The enlightened process's own environment (ward's launcher is itself a Node process: its
  // NODE_OPTIONS are the caller's business, see docs/node.md).
  const enlightened = `--require=${PRELOAD} --disable-sigusr1 --import=data:text/javascript,console.log(40+2)`;
  const run = (bits: string[]) => {
    const r = spawnSync(process.execPath, [WARD_BIN, 'exec', ...bits, '--', '/usr/bin/env', `NODE_OPTIONS=${enlightened}`, process.execPath, main], { encoding: 'utf8', cwd: dir });
    return r.stdout + r.stderr;
  };
  assert.match(run(['--restrict-file']), /^42\nmain ran/);
  const out = run(['--deny-interactive']);
  assert.doesNotMatch(out, /^42/m);
  assert.doesNotMatch(out, /main ran/);
  assert.match(out, /ERR_WARD_CODE_DENIED: a module from a data: URL is refused|a module from a data: URL is refused/);
});

test('door: -p and the REPL (no script, terminal-less stdin) are refused under DENY_INTERACTIVE', (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  const p = wardNode(['--deny-interactive'], ['-p', '6*7']);
  assert.equal(p.status, 126);
  assert.match(p.out, /code given on the command line/);
  assert.match(wardNode([], ['-p', '6*7']).out, /42/);
  const devnull = spawnSync(process.execPath, [WARD_BIN, 'exec', '--deny-interactive', '--', process.execPath, WARD_BIN, 'node'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(devnull.status, 126);
  assert.match(devnull.stderr, /the interactive REPL is refused/);
});

// Files of code: each kind, not executable → refused under RESTRICT_FILE; executable → works.
function kinds(): Record<string, { files: Record<string, string | Uint8Array>; run: string[]; expect: RegExp }> {
  const koffiNode = createRequire(import.meta.url).resolve(`@koromix/koffi-linux-${process.arch}/linux_${process.arch}/koffi.node`, { paths: [createRequire(import.meta.url).resolve('koffi')] });
  return {
    'main script (CommonJS)': { files: { 'k1/main.js': `console.log('k1 ok')` }, run: ['k1/main.js'], expect: /k1 ok/ },
    'required .cjs': { files: { 'k2/main.cjs': `require('./dep.cjs'); console.log('k2 ok')`, 'k2/dep.cjs': `module.exports = 1` }, run: ['k2/main.cjs'], expect: /k2 ok/ },
    'imported .mjs': { files: { 'k3/main.mjs': `import './dep.mjs'; console.log('k3 ok')`, 'k3/dep.mjs': `export default 1` }, run: ['k3/main.mjs'], expect: /k3 ok/ },
    'imported .ts': { files: { 'k4/main.mjs': `import './dep.ts'; console.log('k4 ok')`, 'k4/dep.ts': `const x: number = 1; export default x` }, run: ['k4/main.mjs'], expect: /k4 ok/ },
    'JSON': { files: { 'k5/main.cjs': `require('./data.json'); console.log('k5 ok')`, 'k5/data.json': `{"a":1}` }, run: ['k5/main.cjs'], expect: /k5 ok/ },
    '--require preload': { files: { 'k6/main.cjs': `console.log('k6 ok')`, 'k6/pre.cjs': `globalThis.pre = 1` }, run: ['--require', './k6/pre.cjs', 'k6/main.cjs'], expect: /k6 ok/ },
    '--import preload': { files: { 'k7/main.cjs': `console.log('k7 ok')`, 'k7/pre.mjs': `globalThis.pre = 1` }, run: ['--import', './k7/pre.mjs', 'k7/main.cjs'], expect: /k7 ok/ },
    'worker script': { files: { 'k8/main.cjs': `const { Worker } = require('node:worker_threads'); new Worker(require('node:path').join(__dirname, 'w.cjs')).on('exit', (c) => console.log(c === 0 ? 'k8 ok' : 'k8 failed ' + c)).on('error', (e) => { console.log('k8 error', e.code); })`, 'k8/w.cjs': `1` }, run: ['k8/main.cjs'], expect: /k8 ok/ },
    'native addon (.node)': { files: { 'k9/main.cjs': `require('./addon.node'); console.log('k9 ok')` }, run: ['k9/main.cjs'], expect: /k9 ok/, ...{ addon: koffiNode } },
    'WebAssembly file': { files: { 'k10/main.mjs': `import './m.wasm'; console.log('k10 ok')`, 'k10/m.wasm': new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) }, run: ['--experimental-wasm-modules', 'k10/main.mjs'], expect: /k10 ok/ },
  };
}

for (const [kind, spec] of Object.entries(kinds())) {
  test(`file of code: ${kind} — refused non-executable under RESTRICT_FILE, works executable`, (t) => {
    if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
    const paths = Object.entries(spec.files).map(([rel, text]) => file(rel, text, 0o755));
    const addon = (spec as { addon?: string }).addon;
    if (addon) {
      const dest = join(dir, 'k9/addon.node');
      copyFileSync(addon, dest);
      chmodSync(dest, 0o755);
      paths.push(dest);
    }
    const works = wardNode(['--restrict-file'], spec.run);
    assert.match(works.out, spec.expect, works.out);
    // Each file of this kind, made non-executable in turn, is refused.
    for (const p of paths) {
      chmodSync(p, 0o644);
      const refused = wardNode(['--restrict-file'], spec.run);
      assert.doesNotMatch(refused.out, spec.expect, `${p} without x must not run`);
      assert.match(refused.out, /ERR_WARD_EXEC_DENIED/, refused.out);
      // Without the bit the same files run (the check still happens; --audit logs it).
      const audited = wardNode([], ['--audit', ...spec.run].filter((a) => a !== '--audit'), { WARD_NODE_AUDIT: '1' });
      assert.match(audited.out, spec.expect);
      assert.match(audited.out, /"what":"exec-check-failed"/);
      chmodSync(p, 0o755);
    }
  });
}

test('ward node --enforce works on hosts without the bits (and cannot be undone by the app)', (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  const main = file('e/main.cjs', `process.env.WARD_NODE_ENFORCE = '0'; try { require('./dep.cjs'); console.log('loaded') } catch (e) { console.log(e.code) }`);
  file('e/dep.cjs', 'module.exports = 1', 0o644);
  const r = spawnSync(process.execPath, [WARD_BIN, 'node', '--enforce', main], { encoding: 'utf8', cwd: dir });
  assert.match(r.stdout, /ERR_WARD_EXEC_DENIED/);
});
