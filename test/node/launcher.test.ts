// bin/ward-node (the shell launcher, one Node start) and `ward node` (src/node/launch.ts) give
// Node the same command line and environment, so the contract has one meaning.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { WARD_BIN, REPO_ROOT } from '../helpers/cli.ts';

const WARD_NODE = join(REPO_ROOT, 'bin', 'ward-node');
let dir: string;
let show: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ward-launcher-'));
  show = join(dir, 'show.cjs');
  writeFileSync(show, "const e = process.env; console.log(JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(2), NODE_OPTIONS: e.NODE_OPTIONS, w: Object.fromEntries(Object.entries(e).filter(([k]) => k.startsWith('WARD_NODE'))) }));\n");
  chmodSync(show, 0o755);
});
after(() => rmSync(dir, { recursive: true, force: true }));

function both(args: string[], env: Record<string, string> = {}) {
  const base = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, ...env };
  // Under DENY_INTERACTIVE `ward node` also passes --disable-sigusr1, which ward-node always passes.
  const viaWard = spawnSync(process.execPath, [WARD_BIN, 'exec', '--deny-interactive', '--', process.execPath, WARD_BIN, 'node', ...args], { encoding: 'utf8', env: base });
  const viaShell = spawnSync(process.execPath, [WARD_BIN, 'exec', '--deny-interactive', '--', WARD_NODE, ...args], { encoding: 'utf8', env: base });
  assert.equal(viaWard.status, 0, viaWard.stderr);
  assert.equal(viaShell.status, 0, viaShell.stderr);
  return [JSON.parse(viaWard.stdout) as unknown, JSON.parse(viaShell.stdout) as unknown];
}

test('same command line and environment, for every option', () => {
  for (const args of [[], ['--audit'], ['--enforce'], ['--deny-codegen'], ['--module-autoload=2'], ['--audit', '--deny-codegen', '--module-autoload', '1']]) {
    const [w, s] = both([...args, show, 'a b', 'c']);
    assert.deepEqual(s, w, args.join(' '));
  }
});

test("the caller's NODE_OPTIONS comes after ward's, in both", () => {
  const [w, s] = both([show], { NODE_OPTIONS: '--no-warnings --title="x y"' });
  assert.deepEqual(s, w);
  assert.match((w as { NODE_OPTIONS: string }).NODE_OPTIONS, /^--require=\S+ward-node-preload\.cjs --disable-sigusr1 --no-warnings --title="x y"$/);
});

test('bad input is a clear usage error', () => {
  const r = spawnSync(WARD_NODE, ['--module-autoload=7', show], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'ward-node: EINVAL: --module-autoload takes 0, 1 or 2, got "7"\n');
});
