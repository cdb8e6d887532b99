// Real programs under `ward exec --restrict-file --deny-interactive -- ward node` when all their
// files are executable, and a policy deny of the host daemon honoured through the same check.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, readdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Scratch, IS_ROOT, requires } from '../helpers/kernel.ts';
import { TestDaemon } from '../helpers/daemon.ts';
import { WARD_BIN, REPO_ROOT, ward } from '../helpers/cli.ts';
import { execveCheckSupported } from '../../src/kernel/exec-check.ts';

let s: Scratch;
let dir: string;
const ok = () => IS_ROOT && execveCheckSupported();

function chmodTree(p: string, mode: number): void {
  for (const e of readdirSync(p)) {
    const f = join(p, e);
    if (statSync(f).isDirectory()) chmodTree(f, mode);
    else chmodSync(f, mode);
  }
}

function fi(args: string[], cwd = dir) {
  const r = spawnSync(process.execPath, [WARD_BIN, 'exec', '--restrict-file', '--deny-interactive', '--', process.execPath, WARD_BIN, 'node', ...args], { encoding: 'utf8', cwd, timeout: 120_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

before(() => {
  if (!IS_ROOT) return;
  s = new Scratch('ward-node-apps-');
  dir = s.tmpfs('apps');
});
after(() => s?.cleanup());

test('tsc --version from the typescript package runs under -fi when its files are executable', (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  const ts = join(dir, 'typescript');
  cpSync(join(REPO_ROOT, 'node_modules/typescript'), ts, { recursive: true });
  chmodTree(ts, 0o644);
  const refused = fi([join(ts, 'bin/tsc'), '--version']);
  assert.notEqual(refused.status, 0);
  assert.match(refused.err, /ERR_WARD_EXEC_DENIED/);
  chmodTree(ts, 0o755);
  const r = fi([join(ts, 'bin/tsc'), '--version']);
  assert.equal(r.status, 0, r.err);
  const version = (JSON.parse(readFileSync(join(ts, 'package.json'), 'utf8')) as { version: string }).version;
  assert.equal(r.out.trim(), `Version ${version}`);
});

test('a small HTTP server with dependencies serves a request under -fi', (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  const app = join(dir, 'server');
  for (const dep of ['commander', 'pure-rand']) cpSync(join(REPO_ROOT, 'node_modules', dep), join(app, 'node_modules', dep), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'server', type: 'module' }));
  writeFileSync(
    join(app, 'server.js'),
    `import http from 'node:http';
import { Command } from 'commander';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
const opts = new Command().option('--greeting <g>', 'greeting', 'hello').parse(process.argv).opts();
const rng = xoroshiro128plus(42);
const server = http.createServer((req, res) => res.end(opts.greeting + ' ' + uniformInt(rng, 1, 6)));
server.listen(0, '127.0.0.1', () => {
  http.get({ host: '127.0.0.1', port: server.address().port, path: '/' }, (res) => {
    let body = '';
    res.on('data', (d) => (body += d));
    res.on('end', () => { console.log(body); server.close(); });
  });
});
`,
  );
  chmodTree(app, 0o755);
  const r = fi([join(app, 'server.js'), '--greeting', 'hi'], app);
  assert.equal(r.status, 0, r.err);
  assert.match(r.out, /^hi [1-6]\n$/);
  chmodSync(join(app, 'node_modules/pure-rand/package.json'), 0o644); // data, not code: fine
  chmodSync(join(app, 'node_modules/commander/index.js'), 0o644);
  const refused = fi([join(app, 'server.js')], app);
  assert.notEqual(refused.status, 0);
  assert.match(refused.err, /commander\/index\.js may not be executed[\s\S]*ERR_WARD_EXEC_DENIED/);
});

test('with ward daemon running, a policy deny is honoured through the same check (EPERM)', async (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  const d = new TestDaemon();
  try {
    const script = join(d.m1, 'app.cjs');
    writeFileSync(script, `require('./lib.cjs'); console.log('app ran')`);
    writeFileSync(join(d.m1, 'lib.cjs'), `module.exports = 1`);
    chmodSync(script, 0o755);
    chmodSync(join(d.m1, 'lib.cjs'), 0o755);
    const libDigest = ward(['digest', join(d.m1, 'lib.cjs')]).stdout.split(' ')[0];
    const pol = d.policy('p.pol', `policy_name=node policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=${libDigest} action=DENY\n`);
    await d.start({ bootPolicy: pol });
    const r = spawnSync(process.execPath, [WARD_BIN, 'exec', '--restrict-file', '--', process.execPath, WARD_BIN, 'node', script], { encoding: 'utf8', timeout: 60_000 });
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stdout, /app ran/);
    assert.match(r.stderr, /ERR_WARD_EXEC_DENIED/);
    assert.match(r.stderr, /lib\.cjs may not be executed: EPERM: denied by an exec policy daemon/);
    const rec = await d.waitAudit((x) => x.type === 'IPE_ACCESS' && String(x.path).endsWith('lib.cjs'));
    assert.equal(rec?.decision, 'DENY');
  } finally {
    await d.cleanup();
  }
});
