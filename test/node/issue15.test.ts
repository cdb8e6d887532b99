// The ward node bugs found by trying real projects (issue 15), each under `ward exec
// --restrict-file --deny-interactive -- ward node` as nobody: require(esm), a loader's source,
// TypeScript with a warm compile cache, `node --test`, options ward cannot run under,
// extension-less wasm, --trace-require-module.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Scratch, IS_ROOT, NOBODY, NOGROUP, requires, placeFile } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';
import { execveCheckSupported } from '../../src/kernel/exec-check.ts';

let s: Scratch;
let dir: string;
const ok = () => IS_ROOT && execveCheckSupported();

const file = (rel: string, text: string | Uint8Array, mode = 0o755): string => placeFile(dir, rel, text, mode);

before(() => {
  if (!ok()) return;
  s = new Scratch('ward-node-i15-');
  dir = s.tmpfs('app');
  chmodSync(dir, 0o777);
  file('esm.mjs', 'export const x = 42;\n');
  file('req.cjs', 'console.log("req-esm", require("./esm.mjs").x);\n');
  file('tl.mjs', 'export async function load(u, c, n) { const r = await n(u, c); return u.endsWith("/t.mjs") ? { ...r, source: String(r.source).replace("41", "42") } : r; }\n');
  file('t.mjs', 'console.log("transformed", 41);\n');
  file('regmain.mjs', 'import { register } from "node:module"; register("./tl.mjs", import.meta.url); await import("./t.mjs");\n');
  file('app.ts', 'const x: number = 7; console.log("ts", x);\n');
  file('t/a.test.mjs', 'import test from "node:test"; test("a", () => {});\n');
  file('wmod', new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  file('wm.mjs', 'import "./wmod"; console.log("wasm-noext ok");\n');
});
after(() => s?.cleanup());

function fi(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [WARD_BIN, 'exec', '--restrict-file', '--deny-interactive', '--', process.execPath, WARD_BIN, 'node', ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000, uid: NOBODY, gid: NOGROUP, env: { PATH: '/usr/bin:/bin', HOME: '/', ...env } });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test('require() of an ES module works under -fi, also with --deny-codegen', (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  for (const extra of [[], ['--deny-codegen']]) {
    const r = fi([...extra, 'req.cjs']);
    assert.equal(r.out, 'req-esm 42\n', r.err);
  }
});

test("an async loader's source is what runs (the check applies to the file); --deny-codegen refuses it", (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  assert.equal(fi(['regmain.mjs']).out, 'transformed 42\n');
  const strict = fi(['--deny-codegen', 'regmain.mjs']);
  assert.doesNotMatch(strict.out, /transformed/);
  assert.match(strict.err, /source returned by a module loader that differs from the checked file .* is refused: ward node runs with --deny-codegen/);
  chmodSync(join(dir, 't.mjs'), 0o644);
  assert.match(fi(['regmain.mjs']).err, /ERR_WARD_EXEC_DENIED|t\.mjs may not be executed/);
  chmodSync(join(dir, 't.mjs'), 0o755);
});

test("Node's TypeScript runs with a cold and a warm compile cache, also with --deny-codegen", (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  const cache = join(dir, 'cc');
  mkdirSync(cache, { recursive: true, mode: 0o777 });
  chmodSync(cache, 0o777);
  for (const extra of [[], ['--deny-codegen']]) {
    for (const run of ['cold', 'warm']) {
      const r = fi([...extra, 'app.ts'], { NODE_COMPILE_CACHE: cache });
      assert.equal(r.out, 'ts 7\n', `${extra.join(' ')} ${run}: ${r.err}`);
    }
  }
});

test('node --test runs with files, without files, and with --inspect-port (not --inspect)', (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  for (const args of [['--test', 't/a.test.mjs'], ['--test'], ['--test', '--inspect-port=0', 't/a.test.mjs']]) {
    const r = fi(args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.out}${r.err}`);
    assert.match(r.out, /pass 1/);
  }
});

test('options ward cannot run under are refused in one line; --permission --allow-addons runs', (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  for (const opt of ['--no-addons', '--no-experimental-strip-types', '--permission']) {
    const r = fi([opt, '--allow-fs-read=*', 'req.cjs'].filter((a) => a !== '--allow-fs-read=*' || opt === '--permission'));
    assert.equal(r.status, 126, `${opt}: ${r.err}`);
    assert.match(r.err, /^ward node: ERR_WARD_EPERM: [^\n]+\n$/, `${opt}: ${r.err}`);
    assert.equal(r.out, '');
  }
  const perm = fi(['--permission', '--allow-fs-read=*', '--allow-addons', 'req.cjs']);
  assert.equal(perm.out, 'req-esm 42\n', perm.err);
  // ward's runtime is one CommonJS bundle, in a checkout too (bin/ward-node-preload.cjs): without
  // require() of ES modules only the app's own require() of one fails, with Node's own error.
  const noRequireModule = fi(['--no-experimental-require-module', 'req.cjs']);
  assert.equal(noRequireModule.out, '');
  assert.match(noRequireModule.err, /ERR_REQUIRE_ESM/);
  assert.doesNotMatch(noRequireModule.err, /ERR_WARD/);
});

test('an extension-less wasm file runs when executable, is refused when not', (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  for (const extra of [[], ['--deny-codegen']]) assert.match(fi([...extra, '--experimental-wasm-modules', 'wm.mjs']).out, /wasm-noext ok/);
  chmodSync(join(dir, 'wmod'), 0o644);
  const r = fi(['--experimental-wasm-modules', 'wm.mjs']);
  assert.doesNotMatch(r.out, /wasm-noext ok/);
  assert.match(r.err, /wmod may not be executed: EACCES/);
  chmodSync(join(dir, 'wmod'), 0o755);
});

test("--trace-require-module does not report ward's own preload", (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  const r = fi(['--trace-require-module=all', 'req.cjs']);
  assert.equal(r.out, 'req-esm 42\n');
  assert.doesNotMatch(r.err, /ward-node-preload|src\/node\/preload\.ts/);
});
