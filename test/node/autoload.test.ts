// ModAutoRestrict for Node: levels 0/1/2, monotonicity, the entry lock point, inheritance by
// workers and child Node processes, the global default, clear errors.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WARD_BIN } from '../helpers/cli.ts';

let dir: string;
const API = new URL('../../src/node/index.ts', import.meta.url).href;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ward-autoload-'));
  mkdirSync(join(dir, 'node_modules/allowed-pkg'), { recursive: true });
  mkdirSync(join(dir, 'node_modules/other-pkg'), { recursive: true });
  writeFileSync(join(dir, 'node_modules/allowed-pkg/index.js'), 'module.exports = "allowed-pkg";');
  writeFileSync(join(dir, 'node_modules/other-pkg/index.js'), 'module.exports = "other-pkg";');
  writeFileSync(join(dir, 'late.cjs'), 'module.exports = "late";');
  writeFileSync(join(dir, 'early.cjs'), 'module.exports = "early";');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function run(script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const main = join(dir, `main-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(main, script);
  const r = spawnSync(process.execPath, [WARD_BIN, 'node', ...args, main], { encoding: 'utf8', cwd: dir, timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

const TRY = `
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
export function attempt(what, fn) { try { fn(); console.log(what, 'loaded'); } catch (e) { console.log(what, e.code); } }
`;

test('level 0 is classic; level 2 freezes the module graph: no new file, package, builtin', () => {
  const r = run(`${TRY}
import { restrictModuleLoading } from ${JSON.stringify(API)};
attempt('early', () => require('./early.cjs'));
restrictModuleLoading(2);
attempt('early again', () => require('./early.cjs'));
attempt('late', () => require('./late.cjs'));
attempt('pkg', () => require('allowed-pkg'));
attempt('builtin', () => require('node:zlib'));
attempt('builtin loaded before', () => require('node:module'));
`);
  assert.equal(r.status, 0, r.err);
  assert.equal(r.out, 'early loaded\nearly again loaded\nlate ERR_WARD_MODULE_DENIED\npkg ERR_WARD_MODULE_DENIED\nbuiltin ERR_WARD_MODULE_DENIED\nbuiltin loaded before loaded\n');
});

test('level 1 loads only what the allow-list names (builtins, packages, path prefixes)', () => {
  const r = run(`${TRY}
import { restrictModuleLoading } from ${JSON.stringify(API)};
restrictModuleLoading(1, { allow: { builtins: ['zlib'], packages: ['allowed-pkg'], paths: [${JSON.stringify(join(dir, 'late.cjs'))}] } });
attempt('zlib', () => require('node:zlib'));
attempt('dns', () => require('node:dns'));
attempt('allowed-pkg', () => require('allowed-pkg'));
attempt('other-pkg', () => require('other-pkg'));
attempt('late', () => require('./late.cjs'));
attempt('early', () => require('./early.cjs'));
`);
  assert.equal(r.out, 'zlib loaded\ndns ERR_WARD_MODULE_DENIED\nallowed-pkg loaded\nother-pkg ERR_WARD_MODULE_DENIED\nlate loaded\nearly ERR_WARD_MODULE_DENIED\n');
});

test('refusals name the module, the level and how to allow it', () => {
  const r = run(`${TRY}
import { restrictModuleLoading } from ${JSON.stringify(API)};
restrictModuleLoading(1, { allow: { builtins: [] } });
try { require('other-pkg'); } catch (e) { console.log(e.message); }
`);
  assert.match(r.out, /file .*node_modules\/other-pkg\/index\.js may not be loaded: module autoloading is restricted at level 1: it is not on the allow-list; allow it with restrictModuleLoading\(1, \{ allow: \{ packages: \['other-pkg'\] \} \}\) before the lock, or load it earlier/);
});

test('the level only goes up: lowering is EPERM', () => {
  const r = run(`
import { restrictModuleLoading, currentLevel } from ${JSON.stringify(API)};
restrictModuleLoading(1);
try { restrictModuleLoading(0); } catch (e) { console.log(e.code, e.message); }
restrictModuleLoading(2);
console.log(currentLevel().perProcess);
`);
  assert.match(r.out, /^ERR_WARD_EPERM EPERM: the module autoload level is 1 and can only go up, not to 0\n2\n$/);
});

test('ward node --module-autoload=2 locks once the entry module has been evaluated', () => {
  const r = run(`${TRY}
attempt('during entry', () => require('./early.cjs'));
await new Promise((r) => setTimeout(r, 10));
attempt('still in entry after await', () => require('node:zlib'));
setTimeout(() => attempt('after entry', () => require('./late.cjs')), 20);
`, ['--module-autoload=2']);
  assert.equal(r.out, 'during entry loaded\nstill in entry after await loaded\nafter entry ERR_WARD_MODULE_DENIED\n');
  assert.equal(spawnSync(process.execPath, [WARD_BIN, 'node', '--module-autoload=3', 'x.js']).status, 2);
});

test('inherited by worker threads and by child Node processes, in force from their first module', () => {
  writeFileSync(join(dir, 'worker.cjs'), `try { require('./late.cjs'); console.log('worker loaded') } catch (e) { console.log('worker', e.code) }`);
  writeFileSync(join(dir, 'child.cjs'), `try { require('./late.cjs'); console.log('child loaded') } catch (e) { console.log('child', e.code) }`);
  const r = run(`
import { restrictModuleLoading } from ${JSON.stringify(API)};
import { Worker } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
restrictModuleLoading(1, { allow: { paths: [${JSON.stringify(join(dir, 'worker.cjs'))}, ${JSON.stringify(join(dir, 'child.cjs'))}] } });
await new Promise((res) => new Worker(${JSON.stringify(join(dir, 'worker.cjs'))}).on('exit', res));
process.stdout.write(spawnSync(process.execPath, [${JSON.stringify(join(dir, 'child.cjs'))}], { encoding: 'utf8' }).stdout);
restrictModuleLoading(2);
const child2 = spawnSync(process.execPath, [${JSON.stringify(join(dir, 'child.cjs'))}], { encoding: 'utf8' });
console.log('level 2 child:', /ERR_WARD_MODULE_DENIED/.test(child2.stderr) ? 'entry refused' : child2.stdout);
`);
  assert.equal(r.out, 'worker ERR_WARD_MODULE_DENIED\nchild ERR_WARD_MODULE_DENIED\nlevel 2 child: entry refused\n', r.err);
});

test('a global default (the sysctl analog) applies after the entry; per-process is checked first', () => {
  const cfg = join(dir, 'node.json');
  writeFileSync(cfg, JSON.stringify({ moduleAutoload: { level: 1, allow: { builtins: ['zlib'] } } }));
  const r = run(`${TRY}
attempt('during entry', () => require('./early.cjs'));
setTimeout(() => { attempt('zlib', () => require('node:zlib')); attempt('late', () => require('./late.cjs')); }, 20);
`, [], { WARD_NODE_CONFIG: cfg });
  assert.equal(r.out, 'during entry loaded\nzlib loaded\nlate ERR_WARD_MODULE_DENIED\n');
  writeFileSync(cfg, JSON.stringify({ moduleAutoload: { level: 5 } }));
  const bad = run('1', [], { WARD_NODE_CONFIG: cfg });
  assert.equal(bad.status, 126);
  assert.match(bad.err, /the module autoload level must be 0, 1 or 2, got 5/);
  // A typo is refused, not ignored: "allow" misspelt would silently allow nothing extra, and a
  // misspelt "denyCodegen" would silently leave code generation on.
  writeFileSync(cfg, JSON.stringify({ moduleAutoload: { level: 1, alow: { builtins: ['zlib'] } } }));
  const typo = run('1', [], { WARD_NODE_CONFIG: cfg });
  assert.equal(typo.status, 126);
  assert.match(typo.err, /ERR_WARD_EPERM.*node\.json: unknown field "moduleAutoload\.alow"; known fields: level, allow; did you mean "allow"\?; fix or remove the file/);
  writeFileSync(cfg, JSON.stringify({ denyCodeGen: true }));
  assert.match(run('1', [], { WARD_NODE_CONFIG: cfg }).err, /unknown field "denyCodeGen"; known fields: denyCodegen, moduleAutoload; did you mean "denyCodegen"\?/);
  writeFileSync(cfg, JSON.stringify({ moduleAutoload: { level: 1, allow: { paths: 'x' } } }));
  assert.match(run('1', [], { WARD_NODE_CONFIG: cfg }).err, /field "moduleAutoload\.allow\.paths" must be an array of non-empty strings, got "x"/);
});
