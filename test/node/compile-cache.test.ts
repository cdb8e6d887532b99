// Node's compile cache is the application's: `ward node` must not turn it on for itself
// (module.enableCompileCache() is process-wide — the app would find getCompileCacheDir() already
// set, its own enableCompileCache() would answer ALREADY_ENABLED with ward's directory, and ward's
// modules would land in the app's cache). Compared with plain node on the same app, by what
// Node's own debug log (NODE_DEBUG_NATIVE=COMPILE_CACHE) says it wrote: the app enabling the cache
// itself gets exactly plain node's behaviour; NODE_COMPILE_CACHE given at start also caches the
// one file Node compiles for ward (the --require'd preload shim) and none of ward's runtime.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT, WARD_BIN } from '../helpers/cli.ts';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ward-compile-cache-'));
  writeFileSync(join(dir, 'api.cjs'), 'const m = require("node:module");\nconst before = m.getCompileCacheDir();\nconst r = m.enableCompileCache(process.argv[2]);\nrequire("./dep.cjs");\nconsole.log(JSON.stringify({ before, status: r.status, dir: r.directory, after: m.getCompileCacheDir() }));\n');
  writeFileSync(join(dir, 'env.cjs'), 'require("./dep.cjs");\nconsole.log(require("node:module").getCompileCacheDir());\n');
  writeFileSync(join(dir, 'dep.cjs'), 'module.exports = 42;\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

// `ward node` (bin/ward.js) is itself a Node process, started with the app's environment: Node
// turns NODE_COMPILE_CACHE on for it before any of ward's code runs, so the CLI's own modules are
// cached there before it starts the app (docs/node.md). bin/ward-node, the launcher without a
// second Node start, is what the NODE_COMPILE_CACHE case compares.
const WARD_NODE = join(REPO_ROOT, 'bin', 'ward-node');

function node(how: 'plain' | 'ward' | 'ward-node', args: string[], env: Record<string, string> = {}) {
  const [cmd, pre] = how === 'plain' ? [process.execPath, []] : how === 'ward' ? [process.execPath, [WARD_BIN, 'node']] : [WARD_NODE, []];
  const r = spawnSync(cmd, [...pre, ...args], { encoding: 'utf8', cwd: dir, timeout: 60_000, env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, NODE_DEBUG_NATIVE: 'COMPILE_CACHE', ...env } });
  // The files Node compiled with the cache on and wrote an entry for.
  const written = [...r.stderr.matchAll(/\[compile cache\] writing cache for \S+ (\S+) to/g)].map((m) => m[1]!).sort();
  return { status: r.status, out: r.stdout, err: r.stderr, written };
}

test("an app's module.enableCompileCache(dir) behaves as on plain node: not enabled before, ENABLED with its directory, only its files cached", () => {
  for (const how of ['plain', 'ward'] as const) {
    const cache = join(dir, `api-${how}`);
    const r = node(how, ['api.cjs', cache]);
    assert.equal(r.status, 0, r.err);
    const got = JSON.parse(r.out) as { before?: string; status: number; dir: string; after: string };
    assert.equal(got.before, undefined, how);
    assert.equal(got.status, 1, `${how}: module.constants.compileCacheStatus.ENABLED`);
    assert.equal(got.dir, cache, how);
    assert.ok(got.after.startsWith(`${cache}/v${process.versions.node}-`), `${how}: ${r.out}`);
    assert.deepEqual(r.written, [join(dir, 'dep.cjs')], `${how}: ${r.err}`);
  }
});

test("NODE_COMPILE_CACHE at start: the app's files are cached as on plain node; of ward's, only the --require'd shim", () => {
  const plain = node('plain', ['env.cjs'], { NODE_COMPILE_CACHE: join(dir, 'env-plain') });
  const ward = node('ward-node', ['env.cjs'], { NODE_COMPILE_CACHE: join(dir, 'env-ward') });
  assert.equal(plain.status, 0, plain.err);
  assert.equal(ward.status, 0, ward.err);
  assert.deepEqual(plain.written, [join(dir, 'dep.cjs'), join(dir, 'env.cjs')]);
  assert.deepEqual(ward.written, [join(REPO_ROOT, 'bin', 'ward-node-preload.cjs'), ...plain.written].sort(), ward.err);
  assert.ok(ward.out.startsWith(join(dir, 'env-ward')), ward.out);
});

test('under --permission without --allow-addons ward refuses in one line (it asks the kernel through an addon), not with ERR_ACCESS_DENIED', () => {
  const r = node('ward', ['--permission', `--allow-fs-read=${dir}`, 'env.cjs']);
  assert.equal(r.status, 126);
  assert.match(r.err, /^ward node: ERR_WARD_EPERM: .*add --allow-addons to --permission/m);
  assert.doesNotMatch(r.err, /\n\s+at |ERR_ACCESS_DENIED/);
});
