// `ward node trust DIR` (execute bits on exactly the files Node loads as code), the documented
// npm hook that keeps it true across a real `npm ci`, and `ward node --audit`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Scratch, IS_ROOT, NOBODY, NOGROUP, requires } from '../helpers/kernel.ts';
import { WARD_BIN, ward } from '../helpers/cli.ts';
import { execveCheckSupported } from '../../src/kernel/exec-check.ts';

let s: Scratch;
let dir: string;
const ok = () => IS_ROOT && execveCheckSupported();

function file(rel: string, text: string | Uint8Array, mode = 0o644): string {
  const p = join(dir, rel);
  mkdirSync(dirname(p), { recursive: true, mode: 0o755 });
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

function modes(root: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out[p.slice(root.length + 1)] = statSync(p).mode & 0o777;
    }
  };
  walk(root);
  return out;
}

before(() => {
  if (!IS_ROOT) return;
  s = new Scratch('ward-node-trust-');
  dir = s.tmpfs('t');
  chmodSync(dir, 0o777);
});
after(() => s?.cleanup());

test('trust sets x on exactly the files Node loads as code; --dry-run changes nothing; --json', (t) => {
  if (!requires(t, IS_ROOT, 'root (tmpfs)')) return;
  const tree = 'tree';
  const code = ['a.js', 'b.mjs', 'c.cjs', 'd.json', 'e.node', 'f.wasm', 'g.ts', 'h.mts', 'i.cts', 'node_modules/p/bin/cli', 'node_modules/p/w'];
  const other = ['README.md', 'LICENSE', 'x.d.ts.map', 'node_modules/p/bin/sh-script', 'node_modules/p/style.css', 'private.js'];
  for (const f of [...code, ...other]) file(`${tree}/${f}`, f.endsWith('/cli') ? '#!/usr/bin/env node\n1\n' : f.endsWith('/sh-script') ? '#!/bin/sh\necho\n' : f.endsWith('/w') ? new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]) : '1\n');
  chmodSync(join(dir, tree, 'private.js'), 0o600);
  const root = join(dir, tree);
  const before = modes(root);
  const dry = ward(['node', 'trust', root, '--dry-run', '--json']);
  assert.equal(dry.status, 0, dry.stderr);
  assert.deepEqual(modes(root), before, '--dry-run must change nothing');
  const report = JSON.parse(dry.stdout) as { files: number; code: number; changed: number };
  assert.deepEqual({ files: report.files, code: report.code, changed: report.changed }, { files: code.length + other.length, code: code.length + 1, changed: code.length + 1 });
  const real = ward(['node', 'trust', root]);
  assert.equal(real.status, 0, real.stderr);
  assert.match(real.stdout, new RegExp(`${code.length + other.length} files, ${code.length + 1} that Node loads as code: set the execute bit on ${code.length + 1}`));
  const after = modes(root);
  for (const f of code) assert.equal(after[f], 0o755, f);
  assert.equal(after['private.js'], 0o700, 'x only for the classes that can read');
  for (const f of other.filter((x) => x !== 'private.js')) assert.equal(after[f], 0o644, f);
  const again = JSON.parse(ward(['node', 'trust', root, '--json']).stdout) as { changed: number; alreadyExecutable: number };
  assert.deepEqual([again.changed, again.alreadyExecutable], [0, code.length + 1]);
  const missing = ward(['node', 'trust', join(dir, 'nope')]);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /ENOENT: .*nope: cannot read the directory/);
});

test('the documented postinstall hook keeps a project runnable under -fi across a real npm ci', (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  const project = (name: string, hook: boolean) => {
    const p = join(dir, name);
    file(`${name}/dep-src/package.json`, JSON.stringify({ name: 'ward-test-dep', version: '1.0.0', main: 'index.js' }));
    file(`${name}/dep-src/index.js`, "module.exports = require('./data.json').v;\n");
    file(`${name}/dep-src/data.json`, '{"v": "dep ok"}\n');
    execFileSync('npm', ['pack', '--silent', '--pack-destination', p], { cwd: join(p, 'dep-src'), stdio: 'pipe' });
    const scripts = hook ? { postinstall: `"${process.execPath}" "${WARD_BIN}" node trust .` } : {};
    file(`${name}/package.json`, JSON.stringify({ name, version: '1.0.0', private: true, scripts, dependencies: { 'ward-test-dep': 'file:ward-test-dep-1.0.0.tgz' } }));
    file(`${name}/app.js`, "console.log(require('ward-test-dep'));\n", 0o755);
    const env = { ...process.env, npm_config_cache: join(dir, 'npm-cache'), npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
    execFileSync('npm', ['install', '--silent'], { cwd: p, env, stdio: 'pipe' });
    execFileSync('npm', ['ci', '--silent'], { cwd: p, env, stdio: 'pipe' });
    chmodSync(p, 0o755);
    return spawnSync(process.execPath, [WARD_BIN, 'exec', '--restrict-file', '--deny-interactive', '--', process.execPath, WARD_BIN, 'node', 'app.js'], { cwd: p, encoding: 'utf8', uid: NOBODY, gid: NOGROUP, env: { PATH: '/usr/bin:/bin' } });
  };
  const withHook = project('with-hook', true);
  assert.equal(withHook.stdout, 'dep ok\n', withHook.stderr);
  const without = project('without-hook', false);
  assert.notEqual(without.status, 0);
  assert.match(without.stderr, /node_modules\/ward-test-dep\/index\.js may not be executed: EACCES.*ward node trust DIR.*ward node --audit APP/s);
});

test('--audit lists every loaded file that enforcement would refuse, and runs the app', (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  file('audit/main.js', "require('./a.js'); require('./b.json'); console.log('ran');\n", 0o755);
  file('audit/a.js', '1\n');
  file('audit/b.json', '{}\n');
  const r = spawnSync(process.execPath, [WARD_BIN, 'node', '--audit', join(dir, 'audit/main.js')], { encoding: 'utf8', uid: NOBODY, gid: NOGROUP, env: { PATH: '/usr/bin:/bin' } });
  assert.equal(r.stdout, 'ran\n');
  assert.match(r.stderr, /ward node --audit: 2 file\(s\) loaded by process \d+ would be refused under the exec securebits:\n {2}\S+\/audit\/a\.js: EACCES: [^\n]+\n {2}\S+\/audit\/b\.json: EACCES: [^\n]+\n {2}fix: `ward node trust DIR`/);
});
