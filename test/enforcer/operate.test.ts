// Operating the daemon: configuration validation, --check-config, systemd readiness and
// watchdog (with a real notify socket), the audit CLI, and the management path without a daemon.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IS_ROOT, requires } from '../helpers/kernel.ts';
import { TestDaemon, exec } from '../helpers/daemon.ts';
import { ward, REPO_ROOT } from '../helpers/cli.ts';
import { validateConfig, loadConfig, DEFAULTS } from '../../src/enforcer/config.ts';
import { parseMountinfo, watchedMounts } from '../../src/enforcer/mounts.ts';
import { parseRequest } from '../../src/enforcer/protocol.ts';
import { AuditLog, readAuditRecords } from '../../src/enforcer/audit-log.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ward-operate-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('configuration: defaults, field validation naming the field, unknown fields refused', () => {
  const none = loadConfig(undefined);
  assert.ok(none.ok);
  assert.ok(none.ok && none.value.enforce === true && none.value.workers === DEFAULTS.workers);
  for (const [doc, re] of [
    [{ workers: 0 }, /field "workers" must be an integer 1-64, got 0/],
    [{ enforce: 'yes' }, /field "enforce" must be true or false/],
    [{ filesystems: 'ext4' }, /field "filesystems" must be an array/],
    [{ enforcing: true }, /unknown field "enforcing"/],
    [[1], /is a JSON object/],
  ] as const) {
    const r = validateConfig(doc, 'daemon.json');
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.error.message, re);
  }
  const f = join(dir, 'bad.json');
  writeFileSync(f, '{"workers": 2,');
  const bad = loadConfig(f);
  assert.ok(!bad.ok && /bad\.json: not valid JSON/.test(bad.error.message));
  assert.ok(!loadConfig(join(dir, 'missing.json')).ok, 'an explicit config file must exist');
  writeFileSync(f, JSON.stringify({ workers: 3, libraries: true }));
  const good = loadConfig(f, { workers: 5 });
  assert.ok(good.ok && good.value.workers === 5 && good.value.libraries === true, 'flags override the file');
});

test('ward daemon --check-config validates the boot policy and prints the effective configuration', () => {
  const cfg = join(dir, 'daemon.json');
  const pol = join(dir, 'boot.pol');
  writeFileSync(pol, 'policy_name=b policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE action=DENY x\n');
  writeFileSync(cfg, JSON.stringify({ bootPolicy: pol, stateDir: join(dir, 'state'), workers: 4 }));
  const r = ward(['daemon', '--check-config', '--config', cfg, '--json']);
  assert.equal(r.status, 1);
  const doc = JSON.parse(r.stdout) as { ok: boolean; config: { workers: number }; problems: string[] };
  assert.equal(doc.config.workers, 4);
  assert.match(doc.problems[0]!, /boot\.pol:3:12: EBADMSG/);
  writeFileSync(pol, 'policy_name=b policy_version=1.0.0\nDEFAULT action=ALLOW\n');
  assert.equal(ward(['daemon', '--check-config', '--config', cfg]).status, 0);
  writeFileSync(cfg, '{"workerz": 1}');
  const typo = ward(['daemon', '--check-config', '--config', cfg]);
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /unknown field "workerz"/);
  // The shipped example configuration is valid.
  const shipped = JSON.parse(readFileSync(join(REPO_ROOT, 'packaging/daemon.json'), 'utf8')) as unknown;
  assert.ok(validateConfig(shipped, 'packaging/daemon.json').ok);
});

test('mountinfo parsing and the watched set (escaped paths, explicit mounts)', () => {
  const text = [
    '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
    '30 22 0:25 / /tmp/with\\040space rw - tmpfs tmpfs rw',
    '31 22 0:26 / /proc rw - proc proc rw',
  ].join('\n');
  const m = parseMountinfo(text);
  assert.deepEqual(m.map((x) => [x.id, x.mountPoint, x.fsType]), [[22, '/', 'ext4'], [30, '/tmp/with space', 'tmpfs'], [31, '/proc', 'proc']]);
  assert.deepEqual(watchedMounts(m, DEFAULTS.filesystems).map((x) => x.mountPoint), ['/', '/tmp/with space']);
  assert.deepEqual(watchedMounts(m, DEFAULTS.filesystems, ['/proc']).map((x) => x.mountPoint), ['/proc']);
});

test('control requests are validated', () => {
  assert.match(String(parseRequest({ verb: 'explode' })), /unknown verb "explode"/);
  assert.match(String(parseRequest({ verb: 'load' })), /"load" needs "text"/);
  assert.match(String(parseRequest({ verb: 'enforce', on: 'yes' })), /"enforce" needs "on" \(boolean\)/);
  assert.deepEqual(parseRequest({ verb: 'list' }), { verb: 'list' });
});

test('the audit log rotates by size and keeps N files; ward audit tail/show read them', () => {
  const path = join(dir, 'audit', 'a.jsonl');
  const log = new AuditLog({ path, maxBytes: 4096, keep: 2, stderr: false });
  for (let i = 0; i < 100; i++) {
    log.write({ type: 'IPE_ACCESS', audit_type: 1420, time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), ipe_op: 'EXECUTE', ipe_hook: 'BPRM_CHECK', enforcing: 1, pid: i, comm: 'sh', path: `/x/${i}`, dev: 'tmpfs', ino: '1', rule: 'DEFAULT action=DENY', rule_line: 2, decision: i % 2 ? 'DENY' : 'ALLOW', policy_name: 'p', policy_version: '1.0.0' });
  }
  log.close();
  const all = readAuditRecords(path);
  assert.ok(all.length < 100 && all.length > 20, `kept ${all.length} records in 3 files`);
  assert.equal((all.at(-1) as { pid: number }).pid, 99);
  const tail = ward(['audit', 'tail', '-n', '2', '--log', path]);
  assert.equal(tail.status, 0, tail.stderr);
  assert.deepEqual(tail.stdout.trim().split('\n').map((l) => l.split(' ')[1]), ['ALLOW', 'DENY']);
  assert.match(tail.stdout, /^2026-01-01T00:01:38.000Z ALLOW EXECUTE pid=98 comm="sh" path="\/x\/98" rule="DEFAULT action=DENY" \(line 2\)$/m);
  const since = ward(['audit', 'show', '--since', '2026-01-01T00:01:35Z', '--denied', '--json', '--log', path]);
  assert.deepEqual(since.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { pid: number }).pid), [95, 97, 99]);
  assert.equal(ward(['audit', 'show', '--since', 'yesterday', '--log', path]).status, 2);
  assert.equal(ward(['audit', 'tail', '--log', join(dir, 'none.jsonl')]).status, 1);
});

test('ward audit tail --follow prints records as they are written', async () => {
  const path = join(dir, 'follow', 'a.jsonl');
  const log = new AuditLog({ path, maxBytes: 1 << 20, keep: 1, stderr: false });
  const record = (pid: number) => ({ type: 'IPE_ACCESS' as const, audit_type: 1420 as const, time: new Date().toISOString(), ipe_op: 'EXECUTE', ipe_hook: 'BPRM_CHECK' as const, enforcing: 1 as const, pid, comm: 'sh', path: '/x', dev: 'tmpfs', ino: '1', rule: 'DEFAULT action=DENY', rule_line: 2, decision: 'DENY' as const, policy_name: 'p', policy_version: '1.0.0' });
  log.write(record(1));
  const tail = spawn(process.execPath, [join(REPO_ROOT, 'bin/ward.js'), 'audit', 'tail', '-f', '-n', '1', '--log', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  tail.stdout!.on('data', (d: Buffer) => (out += d));
  try {
    const waitFor = async (re: RegExp) => {
      const end = Date.now() + 10_000;
      while (!re.test(out) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.match(out, re);
    };
    await waitFor(/pid=1 /);
    log.write(record(2));
    await waitFor(/pid=2 /);
  } finally {
    tail.kill();
    log.close();
  }
});

test('without a daemon, management commands say it is not running', () => {
  const r = ward(['policy', 'list', '--socket', join(dir, 'no.sock')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /ward daemon is not running \(no socket at .*no\.sock\)/);
  const noSig = ward(['policy', 'load', '--signed', join(dir, 'x.p7s'), join(REPO_ROOT, 'examples/allow-all.pol')]);
  assert.equal(noSig.status, 2);
  assert.match(noSig.stderr, /cannot read .*x\.p7s: no such file/);
  assert.equal(ward(['enforce', 'maybe', '--socket', join(dir, 'no.sock')]).status, 2);
});

test('systemd: READY=1 after the boot policy and marks, WATCHDOG=1 while workers answer', async (t) => {
  if (!requires(t, IS_ROOT, 'root (fanotify)')) return;
  const d = new TestDaemon();
  const sock = join(d.scratch.root, 'notify.sock');
  // A real notify socket (Node has no unix datagram sockets; python3's does).
  const listener = spawn('python3', ['-u', '-c', `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(${JSON.stringify(sock)})
print("listening", flush=True)
while True:
    print(s.recv(4096).decode().replace("\\n", "|"), flush=True)
`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let got = '';
  listener.stdout!.on('data', (x: Buffer) => (got += x.toString()));
  try {
    while (!got.includes('listening')) await new Promise((r) => setTimeout(r, 20));
    const pol = d.policy('b.pol', 'policy_name=b policy_version=1.0.0\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\n');
    process.env.NOTIFY_SOCKET = sock;
    process.env.WATCHDOG_USEC = '400000';
    try {
      await d.start({ bootPolicy: pol });
    } finally {
      delete process.env.NOTIFY_SOCKET;
      delete process.env.WATCHDOG_USEC;
    }
    const bin = d.binary('x');
    assert.equal(exec(bin), 'EPERM', 'the boot policy was active when READY=1 was sent');
    const end = Date.now() + 5000;
    while (!got.includes('WATCHDOG=1') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.match(got, /READY=1\|STATUS=enforcing on; 1 mounts; active policy b/);
    assert.match(got, /WATCHDOG=1/);
    await d.stop();
    await new Promise((r) => setTimeout(r, 200));
    assert.match(got, /STOPPING=1/);
  } finally {
    listener.kill();
    await d.cleanup();
  }
});

test('the systemd unit asks for notify readiness, a watchdog and restarts', () => {
  const unit = readFileSync(join(REPO_ROOT, 'packaging/systemd/ward.service'), 'utf8');
  for (const line of ['Type=notify', 'WatchdogSec=10', 'Restart=on-failure', 'ExecStartPre=/usr/local/bin/ward daemon --check-config', 'DefaultDependencies=no']) {
    assert.ok(unit.includes(line), line);
  }
});
