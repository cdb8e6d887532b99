// An application's asynchronous loader (--experimental-loader/--loader, module.register()) must
// never see ward's own runtime modules — seeing them is being able to replace them. Node's hooks
// thread is consulted for every module its ESM loader resolves and loads, from the first one, so
// ward loads its runtime as CommonJS (the bundled preload; in a checkout, the same bundle made
// from src/ by scripts/preload-bundler.cjs), which those loaders never see. The loader here
// rewrites every module whose URL is under ward's root into an empty module and records it: ward
// must behave exactly as without it — enforcement still refuses a file without the execute bit —
// and the loader must have seen none of ward's files. Compared with plain node (the loader does
// run: it sees the app's own modules). The package's copy of this check is in test/package/npm.test.ts.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Scratch, IS_ROOT, NOBODY, NOGROUP, requires, placeFile } from '../helpers/kernel.ts';
import { REPO_ROOT, WARD_BIN } from '../helpers/cli.ts';
import { execveCheckSupported } from '../../src/kernel/exec-check.ts';

let s: Scratch;
let dir: string;
const ok = () => IS_ROOT && execveCheckSupported();

before(() => {
  if (!ok()) return;
  s = new Scratch('ward-node-loader-ward-');
  dir = s.tmpfs('app');
  chmodSync(dir, 0o777);
  const file = (rel: string, text: string, mode = 0o755) => placeFile(dir, rel, text, mode);
  const log = JSON.stringify(join(dir, 'seen.log'));
  const ward = JSON.stringify(REPO_ROOT.replace(/\/$/, ''));
  file(
    'hostile-loader.mjs',
    `import { appendFileSync } from 'node:fs';
const ward = ${ward};
const mine = (url) => url.startsWith('file:') && decodeURIComponent(new URL(url).pathname).startsWith(ward + '/');
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${log}, (mine(r.url) ? 'WARD ' : 'app ') + r.url + '\\n');
  return r;
}
export async function load(url, context, next) {
  if (mine(url)) return { format: 'module', source: 'export {};', shortCircuit: true };
  return next(url, context);
}\n`,
  );
  file('register.mjs', 'import { register } from "node:module";\nregister("./hostile-loader.mjs", import.meta.url);\n');
  file('app.mjs', 'const m = await import("./dep.mjs").then((m) => m.x, (e) => e.code);\nconsole.log("dep", m);\n');
  file('dep.mjs', 'export const x = 42;\n', 0o644); // no execute bit: refused under enforcement
});
after(() => s?.cleanup());

function run(args: string[], how: 'plain' | 'ward' | 'enforce') {
  rmSync(join(dir, 'seen.log'), { force: true });
  const pre = how === 'plain' ? [] : how === 'ward' ? [WARD_BIN, 'node'] : [WARD_BIN, 'node', '--enforce'];
  const r = spawnSync(process.execPath, [...pre, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000, uid: NOBODY, gid: NOGROUP, env: { PATH: '/usr/bin:/bin', HOME: '/' } });
  const seen = existsSync(join(dir, 'seen.log')) ? readFileSync(join(dir, 'seen.log'), 'utf8').split('\n').filter(Boolean) : [];
  return { status: r.status, out: r.stdout, err: r.stderr, ward: seen.filter((l) => l.startsWith('WARD ')), app: seen.filter((l) => l.startsWith('app ')) };
}

for (const [name, flags] of [
  ['--experimental-loader', ['--no-warnings', '--experimental-loader', './hostile-loader.mjs']],
  ['module.register() from --import', ['--import', './register.mjs']],
] as const) {
  test(`a loader given by ${name} that rewrites ward's modules sees none of them, and enforcement still refuses a non-executable file`, (t) => {
    if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
    const plain = run([...flags, 'app.mjs'], 'plain');
    assert.equal(plain.out, 'dep 42\n', plain.err);
    assert.ok(plain.app.some((l) => l.endsWith('/dep.mjs')), `the loader ran: ${plain.app.join(', ')}`);

    const ward = run([...flags, 'app.mjs'], 'ward');
    assert.equal(ward.out, plain.out, ward.err);
    assert.deepEqual(ward.ward, []);
    assert.ok(ward.app.some((l) => l.endsWith('/dep.mjs')), `the loader ran under ward: ${ward.app.join(', ')}`);

    const enforced = run([...flags, 'app.mjs'], 'enforce');
    assert.equal(enforced.out, 'dep ERR_WARD_EXEC_DENIED\n', enforced.err);
    assert.deepEqual(enforced.ward, []);
  });
}
