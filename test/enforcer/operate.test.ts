// Operating the daemon: configuration validation, --check-config, systemd readiness and
// watchdog (with a real notify socket), the audit CLI, and the management path without a daemon.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { IS_ROOT, requires } from '../helpers/kernel.ts';
import { TestDaemon, exec } from '../helpers/daemon.ts';
import { ward, REPO_ROOT } from '../helpers/cli.ts';
import { validateConfig, loadConfig, DEFAULTS, RELOAD_EFFECT } from '../../src/enforcer/config.ts';
import { parseMountinfo, watchedMounts } from '../../src/enforcer/mounts.ts';
import { parseRequest } from '../../src/enforcer/protocol.ts';
import { AuditLog, readAuditRecords } from '../../src/enforcer/audit-log.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ward-operate-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('configuration: defaults, field validation naming the field, unknown fields refused', () => {
  // (The host's own /etc/ward/daemon.json, if a package installed one, is not this test's.)
  const none = loadConfig(undefined, {}, join(dir, 'no-such-default.json'));
  assert.ok(none.ok);
  assert.ok(none.ok && none.value.enforce === true && none.value.workers === DEFAULTS.workers);
  for (const [doc, re] of [
    [{ workers: 0 }, /field "workers" must be an integer 1-64, got 0/],
    [{ enforce: 'yes' }, /field "enforce" must be true or false/],
    [{ filesystems: 'ext4' }, /field "filesystems" must be an array/],
    [{ enforcing: true }, /unknown field "enforcing"/],
    [[1], /daemon\.json: must be a JSON object, e\.g\. \{"enforce": true\}/],
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
  assert.equal(parseRequest({ verb: 'enforce', on: 'yes' }), '"enforce" request: field "on" must be true or false, got "yes"');
  assert.match(String(parseRequest({ verb: 'show', name: 'a', nmae: 'b' })), /^"show" request: unknown field "nmae"/);
  assert.match(String(parseRequest({ verb: 'update', name: 'a', text: 7 })), /field "text" must be the policy as base64 text/);
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

test('the systemd unit asks for notify readiness, a watchdog, reload by SIGHUP and restarts whatever ended it', () => {
  const unit = readFileSync(join(REPO_ROOT, 'packaging/systemd/ward.service'), 'utf8');
  for (const line of ['Type=notify', 'WatchdogSec=10', 'Restart=always', 'ExecReload=/bin/kill -HUP $MAINPID', 'ExecStartPre=/usr/local/bin/ward daemon --check-config', 'DefaultDependencies=no']) {
    assert.ok(unit.split('\n').some((l) => l.startsWith(line)), line);
  }
  const analyze = spawnSync('systemd-analyze', ['verify', '--man=no', join(REPO_ROOT, 'packaging/systemd/ward.service')], { encoding: 'utf8' });
  // The unit names /usr/local/bin/ward (the package installs /usr/bin/ward and rewrites it):
  // only a missing executable may be reported.
  const complaints = analyze.stderr.split('\n').filter((l) => l && !/is not executable|No such file|Command .*ward.* is not executable|Unit .* not found|Failed to prepare filename/.test(l));
  assert.deepEqual(complaints, []);
});

test('the shipped configuration passes --check-config (boot policy installed, state directory new) and starts permissive', () => {
  const shipped = JSON.parse(readFileSync(join(REPO_ROOT, 'packaging/daemon.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(shipped.enforce, false, 'installing never enforces');
  assert.equal(shipped.bootPolicy, '/etc/ward/boot.pol');
  // Installed paths moved into this test's directory; everything else as shipped.
  const cfg = join(dir, 'shipped.json');
  writeFileSync(cfg, JSON.stringify({ ...shipped, bootPolicy: join(REPO_ROOT, 'examples/allow-all.pol'), stateDir: join(dir, 'shipped-state'), socket: join(dir, 'shipped.sock'), auditLog: join(dir, 'shipped.jsonl') }));
  const r = ward(['daemon', '--check-config', '--config', cfg, '--json']);
  assert.equal(r.status, 0, r.stdout);
  assert.deepEqual((JSON.parse(r.stdout) as { problems: string[] }).problems, []);
  // Without its boot policy it fails, and says how to fix it.
  writeFileSync(cfg, JSON.stringify({ ...shipped, bootPolicy: join(dir, 'none.pol'), stateDir: join(dir, 'shipped-state') }));
  const missing = JSON.parse(ward(['daemon', '--check-config', '--config', cfg, '--json']).stdout) as { problems: string[] };
  assert.match(missing.problems[0]!, /none\.pol: ENOENT \(install a policy there/);
});

test('audit: a directory for --log, a missing log, --json on errors, escape sequences never raw', () => {
  const r = ward(['audit', 'tail', '--log', dir]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^ward: EISDIR: .* is a directory; --log takes the audit log file/m);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
  const j = ward(['audit', 'tail', '--log', join(dir, 'nope.jsonl'), '--json']);
  assert.equal(j.status, 1);
  assert.deepEqual(JSON.parse(j.stdout), { ok: false, errno: 'ENOENT', message: `no audit log at ${join(dir, 'nope.jsonl')} (is ward daemon running? see --log)` });
  const s = ward(['audit', 'show', '--since', '1h', '--log', dir, '--json']);
  assert.equal((JSON.parse(s.stdout) as { errno: string }).errno, 'EISDIR');
  const pl = ward(['policy', 'list', '--json', '--socket', join(dir, 'no.sock')]);
  assert.equal(pl.status, 1);
  assert.equal((JSON.parse(pl.stdout) as { ok: boolean; errno: string }).errno, 'ENOENT');
  // A path and a process name carrying ESC, CSI (0x9b) and BEL: shown escaped.
  const path = join(dir, 'esc', 'a.jsonl');
  const log = new AuditLog({ path, maxBytes: 1 << 20, keep: 1, stderr: false });
  log.write({ type: 'IPE_ACCESS', audit_type: 1420, time: new Date().toISOString(), ipe_op: 'EXECUTE', ipe_hook: 'BPRM_CHECK', enforcing: 1, pid: 1, comm: 'x\u001b]0;owned\u0007', path: '/tmp/\u001b[2J\u009b31m', dev: 'tmpfs', ino: '1', rule: 'DEFAULT action=DENY', rule_line: 2, decision: 'DENY', policy_name: 'p\u001b[5m', policy_version: '1.0.0' });
  log.write({ type: 'IPE_CONFIG_CHANGE', audit_type: 1421, time: new Date().toISOString(), old_active_pol_name: null, old_active_pol_version: null, old_policy_digest: null, new_active_pol_name: 'evil\u001b[2J', new_active_pol_version: '1.0.0', new_policy_digest: 'sha256:00', uid: 0, pid: 1, res: 1 });
  log.close();
  const out = ward(['audit', 'tail', '--log', path]).stdout;
  assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'no control characters but newlines');
  assert.match(out, /\\x9b31m/);
  assert.match(out, /policy activated: evil\\x1b\[2J/);
});

test('one daemon per state directory: the second says which pid holds it; SIGHUP reloads with no window; signals are logged', async (t) => {
  if (!requires(t, IS_ROOT, 'root (fanotify)')) return;
  const d = new TestDaemon();
  try {
    const bin = d.binary('x');
    const boot = (version: string, body: string) => writeFileSync(join(d.scratch.root, 'boot.pol'), `policy_name=boot policy_version=${version}\n${body}\n`);
    boot('1.0.0', 'DEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY');
    await d.start({ bootPolicy: join(d.scratch.root, 'boot.pol') });
    const second = new TestDaemon();
    try {
      await assert.rejects(second.start({ extraArgs: ['--state-dir', d.stateDir] }), new RegExp(`another ward daemon \\(pid ${d.pid}\\) already uses the state directory`));
    } finally {
      await second.cleanup();
    }
    assert.equal(exec(bin), 'EPERM');
    // Reload to a new boot policy version that still denies: execs during the reload never run.
    boot('1.1.0', 'DEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\nop=KMODULE action=DENY');
    const loop = spawn('timeout', ['-s', 'KILL', '60', '/bin/sh', '-c', `ran=0; i=0; while [ $i -lt 400 ]; do ${bin} 2>/dev/null && ran=$((ran+1)); i=$((i+1)); done; echo ran=$ran`], { stdio: ['ignore', 'pipe', 'ignore'] });
    let loopOut = '';
    loop.stdout!.on('data', (x: Buffer) => (loopOut += x));
    // Listen for the end now: on a quiet machine 400 denied execs can finish within the 100 ms.
    const loopDone = new Promise((r) => loop.once('close', r));
    await new Promise((r) => setTimeout(r, 100));
    process.kill(d.pid, 'SIGHUP');
    await loopDone;
    assert.equal(loopOut.trim(), 'ran=0', 'nothing ran while reloading');
    const end = Date.now() + 10_000;
    while (!d.log.includes('reloaded') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.match(d.log, /reloaded: active policy "boot" 1\.1\.0/);
    assert.equal(d.proc?.exitCode, null, 'SIGHUP does not end the daemon');
    boot('1.2.0', 'DEFAULT action=ALLOW');
    process.kill(d.pid, 'SIGHUP');
    const end2 = Date.now() + 10_000;
    while (!d.log.includes('"boot" 1.2.0') && Date.now() < end2) await new Promise((r) => setTimeout(r, 50));
    assert.equal(exec(bin), 0, 'the reloaded boot policy decides');
    // A broken boot policy on reload keeps what runs.
    writeFileSync(join(d.scratch.root, 'boot.pol'), 'policy_name=boot\n');
    process.kill(d.pid, 'SIGHUP');
    const end3 = Date.now() + 10_000;
    while (!d.log.includes('reload failed') && Date.now() < end3) await new Promise((r) => setTimeout(r, 50));
    assert.match(d.log, /SIGHUP: reload failed, keeping the running configuration and policy: boot policy/);
    assert.equal(await d.stop(), 0);
    assert.match(d.log, /SIGTERM: stopping/);
  } finally {
    await d.cleanup();
  }
});

/** The TCP sockets pid listens on (an open socket fd whose inode /proc/net/tcp{,6} lists in state LISTEN). */
function listeningSockets(pid: number): string[] {
  const inodes = new Set(readdirSync(`/proc/${pid}/fd`).map((fd) => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return ''; } }).filter((l) => l.startsWith('socket:[')).map((l) => l.slice(8, -1)));
  const listening: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9]!)) listening.push(`${table} ${f[1]}`);
    }
  }
  return listening;
}

async function logged(d: TestDaemon, re: RegExp): Promise<void> {
  const end = Date.now() + 10_000;
  while (!re.test(d.log) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  assert.match(d.log, re);
}

test('signals: SIGUSR1 never opens the inspector and the daemon keeps deciding; SIGUSR2 ends it, logged, exit 128 + 12', async (t) => {
  if (!requires(t, IS_ROOT, 'root (fanotify)')) return;
  const d = new TestDaemon();
  try {
    const bin = d.binary('x');
    await d.start({ bootPolicy: d.policy('b.pol', 'policy_name=b policy_version=1.0.0\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\n') });
    const pid = d.pid;
    assert.deepEqual(listeningSockets(pid), [], 'the daemon listens on no TCP port before SIGUSR1');
    process.kill(pid, 'SIGUSR1');
    // Node's own SIGUSR1 handler would open the inspector on 127.0.0.1:9229 (and print
    // "Debugger listening"); the daemon's log line says the signal was handled, by ward.
    await logged(d, /SIGUSR1: ignored/);
    assert.doesNotMatch(d.log, /Debugger listening|inspector on/);
    assert.deepEqual(listeningSockets(pid), [], 'SIGUSR1 opened a listening socket (the inspector)');
    assert.equal(d.proc?.exitCode, null);
    assert.equal(exec(bin), 'EPERM', 'the daemon still decides');
    assert.equal(d.ctl(['daemon-status']).status, 0, 'the daemon still answers its socket');
    // A signal the daemon does not use (default action: terminate) ends it cleanly and says so.
    const proc = d.proc!;
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    process.kill(pid, 'SIGUSR2');
    assert.equal(await exited, 128 + osConstants.signals.SIGUSR2);
    assert.match(d.log, /SIGUSR2 \(a signal ward daemon does not use; exit 140\): stopping \(fanotify enforcement ends with the daemon\)/);
    assert.equal(exec(bin), 0, 'enforcement ended with the daemon');
  } finally {
    await d.cleanup();
  }
});

test('reload: the audit log rotation settings apply at once; queueLimit is named as taking effect at restart', async (t) => {
  if (!requires(t, IS_ROOT, 'root (fanotify)')) return;
  const d = new TestDaemon();
  try {
    const bins = Array.from({ length: 40 }, (_, i) => d.binary(`x${i}`, String(i)));
    await d.start({ bootPolicy: d.policy('b.pol', 'policy_name=b policy_version=1.0.0\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\n') });
    // The file TestDaemon started the daemon with ({} → 16 MiB per file, 5 kept, queueLimit 4096).
    writeFileSync(join(d.scratch.root, 'daemon.json'), JSON.stringify({ auditMaxBytes: 4096, auditKeep: 1, queueLimit: 100 }));
    process.kill(d.pid, 'SIGHUP');
    await logged(d, /reloaded: active policy "b"/);
    assert.match(d.log, /reload: queueLimit changed; that takes effect when the daemon restarts\n/);
    assert.match(d.log, /reload: auditMaxBytes, auditKeep applied\n/);
    // ~40 denials of ~500 bytes each: past 4096 bytes several times, so the log has rotated and
    // with auditKeep 1 only one old file is kept. The records are written in order: once the
    // last one is in, every earlier one was written.
    for (const b of bins) assert.equal(exec(b), 'EPERM');
    assert.ok(await d.waitAudit((r) => r.path === bins.at(-1), 30_000), 'the last denial was audited');
    assert.ok(existsSync(`${d.auditLog}.1`), 'the audit log did not rotate at the reloaded auditMaxBytes');
    assert.ok(!existsSync(`${d.auditLog}.2`), 'more old files kept than the reloaded auditKeep');
    assert.ok(statSync(d.auditLog).size <= 4096, `audit log is ${statSync(d.auditLog).size} bytes`);
  } finally {
    await d.cleanup();
  }
});

test('docs/daemon.md names exactly the fields that take effect on reload, and those that need a restart', () => {
  const doc = readFileSync(join(REPO_ROOT, 'docs/daemon.md'), 'utf8').replace(/\s+/g, ' ');
  const listed = (label: string) => [...(new RegExp(`${label}: ([^.]*)\\.`).exec(doc)?.[1] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1]).sort();
  const by = (e: string) => Object.entries(RELOAD_EFFECT).filter(([, v]) => v === e).map(([k]) => k).sort();
  assert.deepEqual(listed('Take effect on reload'), by('reload'));
  assert.deepEqual(listed('Take effect at the next restart'), by('restart'));
  assert.deepEqual(listed('Used only for a new state directory'), by('new-state'));
});
