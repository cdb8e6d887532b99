// packaging/apt/ward-apt-hook against a real ward daemon that enforces a dpkg trust policy on
// the test's own tmpfs (the only mount it marks): a package built here is allowed from the
// moment the pre-install step has run — before dpkg unpacks it — stays allowed once installed,
// and is denied again after it is purged; every step raises the policy version.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { IS_ROOT, requires } from '../helpers/kernel.ts';
import { REPO_ROOT, WARD_BIN, ward } from '../helpers/cli.ts';
import { TestDaemon, exec } from '../helpers/daemon.ts';
import { HAVE_DPKG, buildDeb, dpkg } from '../helpers/dpkg.ts';

const HOOK = join(REPO_ROOT, 'packaging/apt/ward-apt-hook');
const PKG = 'ward-test-apt-hook';

test('the apt hook: new binaries allowed before unpacking, kept after, gone after purge; versions only rise', async (t) => {
  if (!requires(t, IS_ROOT && HAVE_DPKG, 'root on a dpkg-based system')) return;
  const d = new TestDaemon();
  t.after(async () => {
    dpkg(['--purge', PKG]);
    await d.cleanup();
  });
  await d.start();
  const policyFile = join(d.scratch.root, 'dpkg.pol');
  const hook = (mode: 'pre' | 'post', input = '', file = policyFile) =>
    spawnSync('sh', [HOOK, mode], {
      input,
      encoding: 'utf8',
      timeout: 600_000,
      env: { ...process.env, WARD_APT_POLICY: file, WARD_APT_SOCKET: d.socket, WARD_APT_WARD: `${process.execPath} ${WARD_BIN}` },
    });
  const version = () => {
    const r = d.ctl(['policy', 'list', '--json']);
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { policies: Array<{ name: string; version: string; active: boolean }> }).policies.find((p) => p.name === 'dpkg');
  };

  // Off until the policy file exists.
  const off = hook('post', '', join(d.scratch.root, 'absent.pol'));
  assert.equal(off.status, 0, off.stderr);
  assert.ok(!existsSync(join(d.scratch.root, 'absent.pol')));

  const gen = ward(['policy', 'generate', '--from-dpkg', '-o', policyFile], { timeout: 600_000 });
  assert.ok(gen.status === 0 || gen.status === 1, gen.stderr);
  for (const args of [['policy', 'load', policyFile], ['policy', 'activate', 'dpkg']]) {
    const r = d.ctl(args);
    assert.equal(r.status, 0, r.stderr);
  }
  const first = version();
  assert.equal(first?.version, '1.0.0');
  assert.equal(first?.active, true);

  // The package's program: a copy of /bin/true with its own content (so its own digest).
  const program = readFileSync('/bin/true');
  const content = Buffer.concat([program, Buffer.from(`\n${PKG} ${Date.now()}\n`)]);
  const deb = buildDeb(d.scratch.root, PKG, { [`/usr/bin/${PKG}`]: { content, mode: 0o755 } }, { postinst: '#!/bin/sh\nexit 0\n' });
  // The same bytes on the watched tmpfs: what the daemon decides.
  const onM1 = join(d.m1, 'incoming');
  writeFileSync(onM1, content);
  chmodSync(onM1, 0o755);
  const stranger = d.binary('stranger', 'not in any package');
  assert.equal(exec(onM1), 'EPERM', 'not installed, not announced: denied');
  assert.equal(exec(stranger), 'EPERM');

  const pre = hook('pre', `${deb}\n`);
  assert.equal(pre.status, 0, pre.stderr);
  assert.equal(version()!.version, '1.0.1');
  assert.equal(exec(onM1), 0, 'allowed before dpkg unpacks it');
  assert.equal(exec(stranger), 'EPERM', 'nothing else is');
  assert.match(readFileSync(policyFile, 'utf8'), new RegExp(`^# ${PKG}: /usr/bin/${PKG}$`, 'm'));
  assert.match(readFileSync(policyFile, 'utf8'), new RegExp(`^# ${PKG}: /var/lib/dpkg/info/${PKG}.postinst$`, 'm'));

  // The daemon's active policy, asked through its verbs: eval shows the property it used, and
  // trust check sees the announced file is not on disk yet.
  const evalActive = ward(['policy', 'eval', '--active', onM1, '--socket', d.socket, '--json']);
  assert.equal(evalActive.status, 0, evalActive.stderr);
  const decided = (JSON.parse(evalActive.stdout) as { results: Array<{ action: string; properties: { fsverity_digest: string } }> }).results[0]!;
  assert.equal(decided.action, 'ALLOW');
  assert.equal(decided.properties.fsverity_digest, ward(['digest', onM1]).stdout.split(' ')[0]);
  const checkActive = ward(['trust', 'check', '--active', '--socket', d.socket, '--json'], { timeout: 600_000 });
  assert.equal(checkActive.status, 1, checkActive.stderr);
  assert.ok((JSON.parse(checkActive.stdout) as { vanished: Array<{ path: string }> }).vanished.some((v) => v.path === `/usr/bin/${PKG}`));

  dpkg(['-i', deb]);
  const post = hook('post');
  assert.equal(post.status, 0, post.stderr);
  assert.equal(version()!.version, '1.0.2');
  assert.equal(exec(onM1), 0, 'installed: still allowed');

  dpkg(['--purge', PKG]);
  const gone = hook('post');
  assert.equal(gone.status, 0, gone.stderr);
  assert.equal(version()!.version, '1.0.3');
  assert.equal(exec(onM1), 'EPERM', 'purged: denied again');
  assert.ok(version()!.active);
});
