// ward daemon on the real kernel, as root: every exec on the test's own tmpfs mounts is decided
// by the active IPE policy through fanotify. The daemon marks only mounts this test made and runs
// under `timeout -s KILL`.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, PROBE, requires } from '../helpers/kernel.ts';
import { TestDaemon, exec } from '../helpers/daemon.ts';
import { ward, WARD_BIN } from '../helpers/cli.ts';

const canRun = IS_ROOT;
let d: TestDaemon;
let good: string, bad: string;
let goodDigest: string, badDigest: string;

const digestOf = (p: string) => ward(['digest', p]).stdout.split(' ')[0]!;
const pol = (name: string, version: string, body: string) => `policy_name=${name} policy_version=${version}\n${body}\n`;

before(async () => {
  if (!canRun) return;
  d = new TestDaemon();
  good = d.binary('good');
  bad = d.binary('bad', 'x'); // /bin/true plus one byte: runs the same, other digest
  goodDigest = digestOf(good);
  badDigest = digestOf(bad);
  const boot = d.policy('boot.pol', pol('allowlist', '1.0.0', `DEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\nop=EXECUTE fsverity_digest=${goodDigest} action=ALLOW`));
  await d.start({ bootPolicy: boot });
});

after(async () => {
  await d?.cleanup();
});

test('deny and allow by digest; the boot policy is active before the first exec', async (t) => {
  if (!requires(t, canRun, 'root (fanotify permission events)')) return;
  assert.equal(exec(good), 0);
  assert.equal(exec(bad), 'EPERM');
  const denial = await d.waitAudit((r) => r.type === 'IPE_ACCESS' && r.path === bad);
  assert.ok(denial, 'the denial is audited');
  assert.equal(denial.decision, 'DENY');
  assert.equal(denial.ipe_op, 'EXECUTE');
  assert.equal(denial.ipe_hook, 'BPRM_CHECK');
  assert.equal(denial.enforcing, 1);
  assert.equal(denial.rule, 'DEFAULT op=EXECUTE action=DENY');
  assert.equal(denial.rule_line, 3);
  assert.equal(denial.dev, 'tmpfs');
  assert.equal(typeof denial.pid, 'number');
  const load = d.audit().find((r) => r.type === 'IPE_POLICY_LOAD');
  assert.equal(load?.audit_type, 1422);
  assert.equal(d.audit().find((r) => r.type === 'IPE_CONFIG_CHANGE')?.new_active_pol_name, 'allowlist');
});

test('AT_EXECVE_CHECK (ward check) is answered by the daemon too', (t) => {
  if (!requires(t, canRun, 'root')) return;
  const r = ward(['check', good, bad, '--json']);
  const doc = JSON.parse(r.stdout) as { results: Array<{ trusted: boolean; errno?: string; reason: string }> };
  assert.deepEqual(doc.results.map((x) => [x.trusted, x.errno]), [[true, undefined], [false, 'EPERM']]);
  assert.match(doc.results[1]!.reason, /exec policy daemon/);
});

test('management verbs follow the kernel: EEXIST, ESTALE, EINVAL, EPERM, ENOENT', (t) => {
  if (!requires(t, canRun, 'root')) return;
  const v2 = d.policy('v2.pol', pol('allowlist', '1.1.0', `DEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\nop=EXECUTE fsverity_digest=${goodDigest} action=ALLOW\nop=EXECUTE fsverity_digest=${badDigest} action=ALLOW`));
  const same = d.policy('same.pol', pol('allowlist', '1.0.0', 'DEFAULT action=ALLOW'));
  const other = d.policy('other.pol', pol('other', '0.0.1', 'DEFAULT action=ALLOW'));
  const renamed = d.policy('renamed.pol', pol('renamed', '9.0.0', 'DEFAULT action=ALLOW'));
  const invalid = d.policy('invalid.pol', 'policy_name=x policy_version=1.0\nDEFAULT action=ALLOW\n');

  const dup = d.ctl(['policy', 'load', same]);
  assert.equal(dup.status, 1);
  assert.match(dup.stderr, /^ward: EEXIST: a policy named "allowlist" is already loaded/);
  const bad1 = d.ctl(['policy', 'load', invalid]);
  assert.equal(bad1.status, 1);
  assert.match(bad1.stderr, /EBADMSG: the version has 2 parts.*\(line 1, column 15/);
  assert.equal(d.ctl(['policy', 'update', 'allowlist', same]).stderr.split(':')[1]!.trim(), 'ESTALE');
  assert.match(d.ctl(['policy', 'update', 'allowlist', renamed]).stderr, /EINVAL: the new policy is named "renamed" but replaces "allowlist"/);
  assert.equal(d.ctl(['policy', 'load', other]).status, 0);
  assert.match(d.ctl(['policy', 'activate', 'other']).stderr, /EINVAL: cannot activate "other" 0.0.1: it is older than the active policy/);
  assert.match(d.ctl(['policy', 'delete', 'allowlist']).stderr, /EPERM: "allowlist" is the active policy and cannot be deleted/);
  assert.match(d.ctl(['policy', 'delete', 'nope']).stderr, /ENOENT/);
  assert.match(d.ctl(['policy', 'activate', 'nope']).stderr, /ENOENT/);
  assert.equal(d.ctl(['policy', 'delete', 'other']).status, 0);
  const list = JSON.parse(d.ctl(['policy', 'list', '--json']).stdout) as { policies: Array<{ name: string; active: boolean; version: string }> };
  assert.deepEqual(list.policies.map((p) => [p.name, p.version, p.active]), [['allowlist', '1.0.0', true]]);

  // Updating the active policy keeps it active and takes effect at once.
  const up = d.ctl(['policy', 'update', 'allowlist', v2]);
  assert.equal(up.status, 0, up.stderr);
  assert.match(up.stdout, /updated "allowlist" to version 1.1.0 \(active\)/);
  assert.equal(exec(bad), 0);
  const shown = d.ctl(['policy', 'show', 'allowlist']);
  assert.equal(shown.stdout, pol('allowlist', '1.1.0', `DEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\nop=EXECUTE fsverity_digest=${goodDigest} action=ALLOW\nop=EXECUTE fsverity_digest=${badDigest} action=ALLOW`));
  // A name and a comment that are not ASCII: addressed by the name typed, shown byte for byte
  // (before, the bytes were written as if each were a character: "déjà" came out as "dÃ©jÃ ").
  const utf8Text = pol('déjà-vu', '0.0.1', '# ünïcödé comment\nDEFAULT action=ALLOW');
  assert.equal(d.ctl(['policy', 'load', d.policy('utf8.pol', utf8Text)]).status, 0);
  assert.equal(d.ctl(['policy', 'show', 'déjà-vu']).stdout, utf8Text);
  assert.match(d.ctl(['policy', 'list']).stdout, /^  déjà-vu 0\.0\.1 \(0 rules\)$/m);
  assert.equal(d.ctl(['policy', 'delete', 'déjà-vu']).status, 0);
  // Back to denying bad for the next tests.
  const v3 = d.policy('v3.pol', pol('allowlist', '1.2.0', `DEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\nop=EXECUTE fsverity_digest=${goodDigest} action=ALLOW`));
  assert.equal(d.ctl(['policy', 'update', 'allowlist', v3]).status, 0);
  assert.equal(exec(bad), 'EPERM');
});

test('per-op and global defaults decide when no rule matches', async (t) => {
  if (!requires(t, canRun, 'root')) return;
  const opAllow = d.policy('defaults1.pol', pol('defaults', '1.0.0', 'DEFAULT action=DENY\nDEFAULT op=EXECUTE action=ALLOW'));
  assert.equal(d.ctl(['policy', 'load', opAllow]).status, 0);
  assert.equal(d.ctl(['policy', 'activate', 'defaults']).status, 1, 'older than the active 1.2.0');
  // A higher version is needed to activate another policy: IPE's rule.
  const opAllowHigh = d.policy('defaults3.pol', pol('defaults', '2.0.0', 'DEFAULT action=DENY\nDEFAULT op=EXECUTE action=ALLOW'));
  assert.equal(d.ctl(['policy', 'update', 'defaults', opAllowHigh]).status, 0);
  assert.equal(d.ctl(['policy', 'activate', 'defaults']).status, 0);
  assert.equal(exec(bad), 0, 'op default ALLOW');
  const globalDenyHigh = d.policy('defaults4.pol', pol('defaults', '2.0.1', 'DEFAULT action=DENY\nop=KMODULE action=ALLOW'));
  assert.equal(d.ctl(['policy', 'update', 'defaults', globalDenyHigh]).status, 0);
  assert.equal(exec(good), 'EPERM', 'no EXECUTE rule, no op default: the global DEFAULT denies');
  const rec = await d.waitAudit((r) => r.type === 'IPE_ACCESS' && r.path === good && r.rule === 'DEFAULT action=DENY');
  assert.equal(rec?.rule, 'DEFAULT action=DENY');
  // Restore the allow-list (higher version) for what follows.
  const back = d.policy('back.pol', pol('allowlist', '3.0.0', `DEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\nop=EXECUTE fsverity_digest=${goodDigest} action=ALLOW`));
  assert.equal(d.ctl(['policy', 'update', 'allowlist', back]).status, 0);
  assert.equal(d.ctl(['policy', 'activate', 'allowlist']).status, 0);
  assert.equal(d.ctl(['policy', 'delete', 'defaults']).status, 0);
  assert.equal(exec(good), 0);
  assert.equal(exec(bad), 'EPERM');
});

test('permissive mode audits denials but allows; enforce changes are audited (1404)', async (t) => {
  if (!requires(t, canRun, 'root')) return;
  assert.equal(d.ctl(['enforce', 'off']).status, 0);
  assert.equal(exec(bad), 0);
  const rec = await d.waitAudit((r) => r.type === 'IPE_ACCESS' && r.path === bad && r.enforcing === 0);
  assert.equal(rec?.decision, 'ALLOW');
  assert.equal(rec?.enforcing, 0);
  assert.equal(rec?.rule, 'DEFAULT op=EXECUTE action=DENY');
  assert.equal(d.ctl(['enforce', 'on']).status, 0);
  assert.equal(exec(bad), 'EPERM');
  const changes = d.audit().filter((r) => r.type === 'MAC_STATUS');
  assert.deepEqual(changes.slice(-2).map((r) => [r.enforcing, r.old_enforcing, r.audit_type]), [[0, 1, 1404], [1, 0, 1404]]);
});

test('audit-success on records allowed decisions too', async (t) => {
  if (!requires(t, canRun, 'root')) return;
  assert.equal(d.ctl(['audit-success', 'on']).status, 0);
  assert.equal(exec(good), 0);
  const rec = await d.waitAudit((r) => r.type === 'IPE_ACCESS' && r.path === good && r.decision === 'ALLOW');
  assert.equal(rec?.decision, 'ALLOW');
  // Digests in one case everywhere: the audit's rule text holds `ward digest`'s output verbatim.
  assert.equal(rec?.rule, `op=EXECUTE fsverity_digest=${goodDigest} action=ALLOW`);
  assert.ok(JSON.stringify(d.audit()).includes(goodDigest), 'grepping the audit log for the digest finds it');
  assert.equal(d.ctl(['audit-success', 'off']).status, 0);
});

test('a file changed after being allowed is decided again', (t) => {
  if (!requires(t, canRun, 'root')) return;
  const f = d.binary('changing');
  const allow = d.policy('changing.pol', pol('allowlist', '3.1.0', `DEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\nop=EXECUTE fsverity_digest=${goodDigest} action=ALLOW`));
  assert.equal(d.ctl(['policy', 'update', 'allowlist', allow]).status, 0);
  assert.equal(exec(f), 0);
  writeFileSync(f, Buffer.concat([Buffer.from(spawnSync('cat', ['/bin/true']).stdout), Buffer.from('changed')]));
  assert.equal(exec(f), 'EPERM');
});

test('the daemon starting children while enforcing never deadlocks', (t) => {
  if (!requires(t, canRun, 'root')) return;
  // The daemon's main thread runs spawnSync on a watched file: its event thread answers the exec.
  // (In a daemon of its own, on a tmpfs of its own: the control protocol has no verb for it.)
  const m2 = d.scratch.tmpfs('selfexec');
  const g = join(m2, 'good');
  const b = join(m2, 'bad');
  copyFileSync(good, g);
  copyFileSync(bad, b);
  const boot = d.policy('selfexec.pol', pol('selfexec', '1.0.0', `DEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\nop=EXECUTE fsverity_digest=${goodDigest} action=ALLOW`));
  const config = { stateDir: join(d.scratch.root, 'selfexec-state'), socket: join(d.scratch.root, 'selfexec.sock'), auditLog: join(d.scratch.root, 'selfexec.jsonl'), auditStderr: false, mounts: [m2], bootPolicy: boot };
  const r = spawnSync('timeout', ['-s', 'KILL', '120', process.execPath, join(import.meta.dirname, 'fixtures/self-exec.ts'), JSON.stringify({ config, run: [g, b, g, b, g] })], { encoding: 'utf8', timeout: 130_000 });
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout) as Array<{ status: number | null; error: string | null }>;
  assert.deepEqual(res.map((x) => x.status ?? x.error), [0, 'EPERM', 0, 'EPERM', 0]);
});

test('a non-root client is refused (socket mode, and peer credentials when the mode is opened up)', (t) => {
  if (!requires(t, canRun, 'root')) return;
  const viaMode = spawnSync(process.execPath, [PROBE, 'wardExec', JSON.stringify({ argv: ['policy', 'list', '--socket', d.socket] }), 'drop'], { encoding: 'utf8', cwd: '/', timeout: 30_000 });
  assert.equal((JSON.parse(viaMode.stdout) as { code: number }).code, 1);
  assert.match(viaMode.stderr, /EPERM: permission denied on .*only root/);
  chmodSync(d.socket, 0o666);
  chmodSync(d.scratch.root, 0o755);
  try {
    const viaCreds = spawnSync(process.execPath, [PROBE, 'wardExec', JSON.stringify({ argv: ['enforce', 'off', '--socket', d.socket] }), 'drop'], { encoding: 'utf8', cwd: '/', timeout: 30_000 });
    assert.equal((JSON.parse(viaCreds.stdout) as { code: number }).code, 1);
    assert.match(viaCreds.stderr, /EPERM: uid 65534 may not manage ward policies/);
    assert.equal(exec(bad), 'EPERM', 'still enforcing');
  } finally {
    chmodSync(d.socket, 0o600);
  }
});

test('restart keeps the policies, the active one and the version floor', async (t) => {
  if (!requires(t, canRun, 'root')) return;
  const before = JSON.parse(d.ctl(['daemon-status', '--json']).stdout) as { active: { name: string; version: string }; floor: string };
  assert.equal(await d.stop(), 0);
  assert.equal(exec(bad), 0, 'nothing enforces while the daemon is stopped');
  await d.start();
  const after = JSON.parse(d.ctl(['daemon-status', '--json']).stdout) as { active: { name: string; version: string }; floor: string };
  assert.deepEqual(after.active, before.active);
  assert.equal(after.floor, before.floor);
  assert.equal(exec(bad), 'EPERM');
  const old = d.policy('old.pol', pol('rollback', '0.9.0', 'DEFAULT action=ALLOW'));
  assert.equal(d.ctl(['policy', 'load', old]).status, 0);
  assert.match(d.ctl(['policy', 'activate', 'rollback']).stderr, /EINVAL/);
  assert.equal(d.ctl(['policy', 'delete', 'rollback']).status, 0);
});

test('load: 8 concurrent exec loops, 20 000 execs, every one answered and decided right', async (t) => {
  if (!requires(t, canRun, 'root')) return;
  const PER_LOOP = 1250; // × 2 execs × 8 loops = 20 000
  const script = `i=0; wrong=0; while [ $i -lt ${PER_LOOP} ]; do ${good} || wrong=$((wrong+1)); ${bad} 2>/dev/null && wrong=$((wrong+1)); i=$((i+1)); done; echo $wrong`;
  const before = JSON.parse(d.ctl(['daemon-status', '--json']).stdout) as { events: number };
  const loops = Array.from({ length: 8 }, () =>
    new Promise<string>((resolve, reject) => {
      const p = spawn('timeout', ['-s', 'KILL', '300', '/bin/sh', '-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      p.stdout!.on('data', (x: Buffer) => (out += x));
      p.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`loop exited ${code} (hung or killed)`))));
    }),
  );
  const wrong = (await Promise.all(loops)).map(Number);
  assert.deepEqual(wrong, [0, 0, 0, 0, 0, 0, 0, 0], 'no wrong decisions');
  const afterStatus = JSON.parse(d.ctl(['daemon-status', '--json']).stdout) as { events: number; errors: number; queueFull: number };
  assert.ok(afterStatus.events - before.events >= 20_000, `events answered: ${afterStatus.events - before.events}`);
  assert.equal(afterStatus.errors, 0);
});

test('killing the daemon leaves the system usable (fanotify fails open)', async (t) => {
  if (!requires(t, canRun, 'root')) return;
  assert.equal(exec(bad), 'EPERM');
  await d.stop('SIGKILL');
  assert.equal(exec(bad), 0, 'fail open: nobody enforces once the daemon is gone');
  assert.equal(exec(good), 0);
  await d.start();
  assert.equal(exec(bad), 'EPERM');
});

test('boot_verified: true on the daemon\'s own root filesystem, false on another', async (t) => {
  if (!requires(t, canRun, 'root')) return;
  // A filesystem mark covers the whole superblock, so the host's "/" is never marked in a test:
  // the daemon runs chrooted in a mount namespace of its own whose "/" is a tmpfs this test made
  // (its boot superblock), with /usr, /etc, /dev and the top-level directories holding Node and
  // this checkout (wherever the clone is: /work, /check, …) bound in to run Node. The policy is
  // safe even if something else were marked: only boot_verified=TRUE files (on R) and one digest
  // are denied.
  const R = d.scratch.tmpfs('root');
  const onRoot = join(R, 'rooted');
  copyFileSync(good, onRoot);
  chmodSync(onRoot, 0o755);
  writeFileSync(join(R, 'daemon.json'), '{}\n');
  writeFileSync(join(R, 'bv.pol'), pol('bv', '1.0.0', `DEFAULT action=ALLOW\nop=EXECUTE boot_verified=TRUE action=DENY\nop=EXECUTE boot_verified=FALSE fsverity_digest=${badDigest} action=DENY`));
  await d.stop();
  const topLevel = (path: string): string => path.split('/').filter(Boolean)[0]!;
  const binds = [...new Set(['usr', 'etc', 'dev', topLevel(process.execPath), topLevel(WARD_BIN), topLevel(process.cwd())])];
  const script = [
    'set -e',
    'mount --make-rprivate /',
    `cd ${R}`,
    `for x in ${binds.join(' ')}; do mkdir -p ./$x; mount --rbind /$x ./$x; done`,
    'ln -sf usr/bin bin; ln -sf usr/lib lib; ln -sf usr/lib64 lib64',
    'mkdir -p proc m1; mount -t proc proc proc; mount --bind ' + d.m1 + ' m1',
    `exec chroot . ${process.execPath} ${WARD_BIN} daemon --config /daemon.json --state-dir /state --socket /ctl.sock --audit-log /audit.jsonl --mount / --mount /m1 --boot-policy /bv.pol --quiet`,
  ].join('\n');
  const p = spawn('timeout', ['-s', 'KILL', '120', 'unshare', '-m', 'sh', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`chrooted daemon did not get ready: ${log}`)), 30_000);
      p.stderr!.on('data', (x: Buffer) => {
        log += x.toString();
        if (log.includes('ready:')) {
          clearTimeout(timer);
          resolve();
        }
      });
      p.once('exit', (code) => reject(new Error(`chrooted daemon exited (${code}): ${log}`)));
    });
    assert.match(log, /ready: 2 filesystem\(s\) watched/);
    assert.equal(exec(onRoot), 'EPERM', 'on the daemon\'s root filesystem: boot_verified=TRUE');
    assert.equal(exec(good), 0, 'on another tmpfs: boot_verified=FALSE');
    assert.equal(exec(bad), 'EPERM', 'decided there too (boot_verified=FALSE and the digest)');
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    spawnSync('pkill', ['-KILL', '-P', String(p.pid)]);
    await d.start();
  }
});

test('a full queue answers by mode and says so; --libraries decides shared objects', async (t) => {
  if (!requires(t, canRun, 'root')) return;
  await d.stop();
  // Slow decisions (big files, each hashed once) with one worker and a queue limit of 1.
  const bigs = Array.from({ length: 8 }, (_, i) => d.binary(`big${i}`, 24 * 1024 * 1024));
  const allowBig = d.policy('big.pol', pol('allowlist', '5.0.0', `DEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\n${bigs.map((b) => `op=EXECUTE fsverity_digest=${digestOf(b)} action=ALLOW`).join('\n')}`));
  await d.start({ extraArgs: ['--workers', '1', '--queue-limit', '1'] });
  assert.equal(d.ctl(['policy', 'update', 'allowlist', allowBig]).status, 0);
  let full: Array<Record<string, unknown>> = [];
  for (let round = 0; round < 5 && full.length === 0; round++) {
    // sh forks all of them at once (Node's spawn would wait for each exec in turn).
    spawnSync('/bin/sh', ['-c', `${bigs.map((b) => `${b} 2>/dev/null &`).join(' ')} wait`], { timeout: 60_000 });
    await d.waitAudit((r) => r.reason === 'queue_full', 1000);
    full = d.audit().filter((r) => r.reason === 'queue_full');
    // Force cache misses next round: new content for each file.
    if (full.length === 0) for (const b of bigs) writeFileSync(b, Buffer.concat([Buffer.from(spawnSync('cat', [b]).stdout), Buffer.from('!')]));
  }
  assert.ok(full.length > 0, 'some events were answered by mode');
  assert.ok(full.every((r) => r.decision === 'DENY' && r.enforcing === 1), 'enforcing: a full queue denies');
  await d.stop();

  // --libraries: a library on a watched mount whose digest is denied cannot be loaded.
  const lib = join(d.m1, 'lib');
  mkdirSync(lib);
  copyFileSync('/lib/x86_64-linux-gnu/libc.so.6', join(lib, 'libc.so.6'));
  const denyLibc = d.policy('lib.pol', pol('allowlist', '6.0.0', `DEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=${digestOf(join(lib, 'libc.so.6'))} action=DENY`));
  await d.start({ extraArgs: ['--libraries'] });
  assert.equal(d.ctl(['policy', 'update', 'allowlist', denyLibc]).status, 0);
  // dlopen by absolute path (ld.so would fall back to the system copy for a plain dependency).
  const DLOPEN = ['-MDynaLoader', '-e', `DynaLoader::dl_load_file("${join(lib, 'libc.so.6')}") or die DynaLoader::dl_error(), "\\n"; print "loaded\\n"`];
  const r = spawnSync('perl', DLOPEN, { encoding: 'utf8', timeout: 30_000 });
  assert.notEqual(r.status, 0, r.stdout);
  assert.match(r.stderr, /libc\.so\.6: cannot open shared object file: Operation not permitted/);
  const rec = await d.waitAudit((x) => x.type === 'IPE_ACCESS' && x.ipe_hook === 'MMAP');
  assert.equal(rec?.path, join(lib, 'libc.so.6'));
  await d.stop();
  // Without --libraries, the same library loads.
  await d.start();
  const plain = spawnSync('perl', DLOPEN, { encoding: 'utf8', timeout: 30_000 });
  assert.equal(plain.stdout, 'loaded\n', plain.stderr);
  void WARD_BIN;
});
