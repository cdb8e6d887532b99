// Issue 16 §2: ward run --log-denials reads Landlock's audit records (ABI 7) and names, for each
// denial, the flag that would allow it. The test follows those hints alone, starting from
// --add-libs, until everyday programs (python3 with ssl, node with https, git, curl to a port)
// run confined; then checks the parsing against records written by this kernel, and the
// fallback where the audit interface cannot be read.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { IS_ROOT, PROBE, Scratch, requires } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';
import { landlockAbi } from '../../src/kernel/landlock.ts';
import { AUDIT_LANDLOCK_ACCESS, AuditReader, auditEnabled, setAuditEnabled } from '../../src/kernel/audit.ts';
import { DomainFilter, auditFields, describeDenial, formatSummary, hintFor, parseAccessRecord, parseDomainRecord, summarizeDenials } from '../../src/sandbox/denials.ts';

const abi = landlockAbi();
const canRun = IS_ROOT && abi >= 7;
let s: Scratch;
let srv: Server | undefined;
let port = 0;

before(async () => {
  if (!canRun) return;
  s = new Scratch('ward-denials-');
  srv = createServer((c) => c.end('HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nhi\n'));
  port = await new Promise<number>((resolve) => srv!.listen(0, '127.0.0.1', () => resolve((srv!.address() as { port: number }).port)));
});
after(() => {
  srv?.close();
  s?.cleanup();
});

function run(argv: string[], cwd: string, nobody = false): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const node = nobody ? [PROBE, 'wardExec', JSON.stringify({ argv }), 'drop'] : [WARD_BIN, ...argv];
  const child = spawn(process.execPath, node, { cwd });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

/** Runs CMD under --log-denials, adding the suggested flags after each failure. */
async function followHints(cmd: string[], rounds = 6, start: string[] = []): Promise<{ flags: string[]; stdout: string; log: string }> {
  let flags = ['--add-libs', ...start];
  let log = '';
  for (let i = 0; i < rounds; i++) {
    const r = await run(['run', '--log-denials', ...flags, '--', ...cmd], s.root);
    log += `--- round ${i + 1}: ${flags.join(' ')}\n${r.stderr}`;
    if (r.status === 0) return { flags, stdout: r.stdout, log };
    const m = /^ward: to allow these: (.*)$/m.exec(r.stderr);
    assert.ok(m, `a failure without a hint:\n${log}`);
    flags = [...flags, ...m[1]!.split(' ')];
  }
  assert.fail(`still failing after ${rounds} rounds:\n${log}`);
}

test('python3 (stdlib, dlopened ssl), node (https, /etc/ssl), git, curl (a port) run confined after following the hints alone', async (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 7+ (audit records)')) return;
  const py = await followHints(['/usr/bin/python3', '-c', 'import ssl, json; print(ssl.OPENSSL_VERSION[:7])']);
  assert.equal(py.stdout, 'OpenSSL\n');
  assert.ok(py.flags.includes('--ro') && py.flags.some((f) => f.startsWith('/usr/lib/python3')), py.log);
  const node = await followHints([process.execPath, '-e', 'require("https"); console.log(require("fs").readdirSync("/etc/ssl/certs").length > 0)']);
  assert.equal(node.stdout, 'true\n');
  assert.ok(node.flags.includes('/etc/ssl'), node.log);
  // git reads ~/.gitconfig (HOME passed with --env, as CMD gets no other variable): the value
  // written there must be seen confined, so the hints must have allowed reading that file.
  const home = s.dir('git-home');
  writeFileSync(`${home}/.gitconfig`, '[user]\n\tname = Confined Tester\n');
  const git = await followHints(['/usr/bin/git', 'config', '--global', '--get', 'user.name'], 6, ['--env', `HOME=${home}`]);
  assert.equal(git.stdout, 'Confined Tester\n', git.log);
  assert.ok(git.log.includes(`--ro ${home}/.gitconfig`), git.log);
  const curl = await followHints(['/usr/bin/curl', '-s', `http://127.0.0.1:${port}/`]);
  assert.equal(curl.stdout, 'hi\n');
  assert.ok(curl.log.includes(`--connect-tcp ${port}`), curl.log);
  // Nothing broad was ever suggested.
  for (const r of [py, node, git, curl]) assert.ok(!r.flags.includes('/') && !r.flags.includes('--unrestricted-fs'), r.log);
});

test('each denial is printed as it happens: what, the missing right, the flag', async (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 7+ (audit records)')) return;
  const victim = spawn('sleep', ['30']);
  try {
    const r = await run(['run', '--log-denials', '--rox', '/usr', '--ro', '/etc/ld.so.cache', '--', '/bin/sh', '-c', `cat /etc/hostname; touch ${s.root}/new; kill -0 ${victim.pid}; true`], s.root);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^ward: denied read_file on \/etc\/hostname — allow with: --ro \/etc\/hostname$/m);
    assert.match(r.stderr, new RegExp(`^ward: denied make_reg on ${s.root} — allow with: --rw ${s.root}$`, 'm'));
    assert.match(r.stderr, new RegExp(`^ward: denied signal on pid ${victim.pid} \\(sleep\\) — allow with: --allow-signals-out$`, 'm'));
    assert.match(r.stderr, /^ward: denied during the run: 3 distinct, 3 in all:$/m);
    assert.match(r.stderr, /^ward: to allow these: /m);
    const none = await run(['run', '--log-denials', '--rox', '/usr', '--ro', '/etc/ld.so.cache', '--', '/bin/true'], s.root);
    assert.match(none.stderr, /^ward: no Landlock denials$/m);
  } finally {
    victim.kill('SIGKILL');
  }
});

test('refusals by the seccomp layer are reported too, with the flags that lift them', async (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 7+ (audit records)')) return;
  const r = await run(['run', '--log-denials', '--add-libs', '--rw', '/dev/null', '--ro', '/dev/urandom', '--', '/usr/bin/perl', '-e', 'socket(my $s, 2, 2, 0) or print "udp: $!\\n"'], s.root);
  assert.equal(r.stdout, 'udp: Permission denied\n', r.stderr);
  assert.match(r.stderr, /^ward: refused socket\(\) \(seccomp layer\) — unix sockets: --allow-unix-sockets or --unix PATH; UDP: --allow-udp; .*\(pid \d+ perl\)$/m);
  const allowed = await run(['run', '--log-denials', '--add-libs', '--rw', '/dev/null', '--ro', '/dev/urandom', '--allow-udp', '--', '/usr/bin/perl', '-e', 'socket(my $s, 2, 2, 0) and print "udp: ok\\n"'], s.root);
  assert.equal(allowed.stdout, 'udp: ok\n', allowed.stderr);
  assert.doesNotMatch(allowed.stderr, /seccomp layer/);
});

test('without root the audit records cannot be read: a clear message, and CMD still runs sandboxed', async (t) => {
  if (!requires(t, canRun, 'root (to drop to nobody) and Landlock ABI 7+')) return;
  const r = await run(['run', '--log-denials', '--rox', '/usr', '--', '/bin/sh', '-c', 'cat /etc/hostname || echo denied'], '/', true);
  assert.match(r.stderr, /--log-denials: denials cannot be shown: reading the kernel's audit records needs root \(CAP_AUDIT_READ\).*running without it/);
  assert.match(r.stdout, /denied/);
  // --explain still prints the ruleset and runs CMD, and says the summary cannot be made.
  const e = await run(['run', '--explain', '--rox', '/usr', '--', '/bin/sh', '-c', 'cat /etc/hostname || echo denied'], '/', true);
  assert.match(e.stderr, /^ward: --explain: denials cannot be shown: reading the kernel's audit records needs root \(CAP_AUDIT_READ\).*no summary of denials after the run/m);
  assert.match(e.stderr, /^Landlock: kernel ABI \d+/m);
  assert.match(e.stdout, /denied/);
  assert.doesNotMatch(e.stderr, /denied during the run|no Landlock denials/);
});

// A program that meets three kinds of denial (a file read twice, a file created, a TCP connect)
// and exits with how many of its steps failed.
const THREE = (secret: string, outDir: string, p: number) => `
import socket, sys
bad = 0
for i in range(2):
    try: open(${JSON.stringify(secret)}).read()
    except OSError: bad += 1
try: open(${JSON.stringify(outDir + '/new')}, 'w').write('x')
except OSError: bad += 1
try:
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM); c.connect(('127.0.0.1', ${p})); c.recv(64); c.close()
except OSError: bad += 1
print('ok' if bad == 0 else f'{bad} failed')
sys.exit(bad)
`;

test('--explain as root sums up the denials after the run; the flags it suggests make the program succeed', async (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 7+ (audit records)')) return;
  const work = s.dir('explain-work');
  const secret = `${s.dir('explain-data')}/secret`;
  writeFileSync(secret, 'secret\n');
  const outDir = s.dir('explain-out');
  const base = ['--rox', '/usr', '--ro', `/lib,/lib64,${work}`];
  const cmd = ['/usr/bin/python3', '-c', THREE(secret, outDir, port)];
  const first = await run(['run', '--explain', ...base, '--', ...cmd], work);
  assert.equal(first.stdout, '4 failed\n', first.stderr);
  assert.equal(first.status, 4);
  assert.match(first.stderr, /^Landlock: kernel ABI \d+/m, 'the ruleset comes first, as before');
  // No live lines (that is --log-denials): only the summary, each distinct denial once with a count.
  assert.doesNotMatch(first.stderr, /^ward: denied (?!during the run)/m);
  assert.match(first.stderr, /^ward: denied during the run: \d+ distinct, \d+ in all:$/m);
  assert.match(first.stderr, new RegExp(`^ward:   2× denied read_file on ${secret} — allow with: --ro ${secret}$`, 'm'));
  assert.match(first.stderr, new RegExp(`^ward:   1× denied make_reg on ${outDir} — allow with: --rw ${outDir}$`, 'm'));
  assert.match(first.stderr, new RegExp(`^ward:   1× denied connect_tcp on port ${port} — allow with: --connect-tcp ${port}$`, 'm'));
  const m = /^ward: to allow these: (.*)$/m.exec(first.stderr);
  assert.ok(m, first.stderr);
  const flags = m[1]!.split(' ');
  for (const f of [`--ro ${secret}`, `--rw ${outDir}`, `--connect-tcp ${port}`]) assert.ok(m[1]!.includes(f), `${f} suggested: ${m[1]}`);
  assert.ok(!flags.includes('/') && !flags.includes('--unrestricted-fs') && !flags.includes('--unrestricted-net'), m[1]);
  // The honest check: with those flags added, and nothing else, the program succeeds.
  const second = await run(['run', ...base, ...flags, '--', ...cmd], work);
  assert.equal(second.stdout, 'ok\n', second.stderr);
  assert.equal(second.status, 0);
  assert.equal(readFileSync(`${outDir}/new`, 'utf8'), 'x');
  // --log-denials prints the live lines and the same summary.
  const live = await run(['run', '--log-denials', ...base, '--', ...cmd], work);
  assert.match(live.stderr, new RegExp(`^ward: denied read_file on ${secret} — allow with: --ro ${secret}$`, 'm'));
  assert.match(live.stderr, new RegExp(`^ward:   2× denied read_file on ${secret} `, 'm'));
  assert.doesNotMatch(live.stderr, /^Landlock: kernel ABI/m, 'no ruleset without --explain');
});

test('records as this kernel writes them parse into denials and hints', () => {
  const access = 'audit(1795723025.430:2): domain=17e67d6f2 blockers=fs.read_file path="/usr/lib/python3.11/os.py" dev="vda" ino=612';
  const d = parseAccessRecord(access)!;
  assert.deepEqual(d, { domain: '17e67d6f2', blockers: ['fs.read_file'], path: '/usr/lib/python3.11/os.py' });
  assert.equal(hintFor(d), '--ro /usr/lib/python3.11');
  assert.deepEqual(parseDomainRecord('audit(1795723025.430:2): domain=17e67d6f2 status=allocated mode=enforcing pid=14054 uid=0 exe="/x/node" comm="MainThread"'), { domain: '17e67d6f2', pid: 14054 });
  // Untrusted strings with spaces come hex-encoded.
  assert.equal(auditFields('audit(1:2): domain=1 blockers=fs.read_file path=2F746D702F6120622063').get('path'), '/tmp/a b c');
  assert.equal(hintFor(parseAccessRecord('audit(1:2): domain=1 blockers=fs.read_file path=2F746D702F6120622063')!), "--ro '/tmp/a b c'");
  assert.equal(hintFor(parseAccessRecord('audit(1:2): domain=1 blockers=net.connect_tcp daddr=127.0.0.1 dest=443')!), '--connect-tcp 443');
  assert.equal(hintFor(parseAccessRecord('audit(1:2): domain=1 blockers=net.bind_tcp saddr=127.0.0.1 src=8080')!), '--bind-tcp 8080');
  assert.equal(hintFor(parseAccessRecord('audit(1:2): domain=1 blockers=scope.abstract_unix_socket path=00666F6F')!), '--allow-abstract-unix-out');
  assert.match(describeDenial(parseAccessRecord('audit(1:2): domain=1 blockers=fs.write_file,fs.truncate path="/dev/null"')!), /denied write_file, truncate on \/dev\/null — allow with: --rw \/dev\/null/);
});

test('the summary counts each distinct denial once and names the flags that allow them all', () => {
  const rec = (x: string) => parseAccessRecord(`audit(1:2): domain=1 ${x}`)!;
  const s = summarizeDenials(
    [rec('blockers=fs.read_file path="/srv/a"'), rec('blockers=net.connect_tcp daddr=127.0.0.1 dest=443'), rec('blockers=fs.read_file path="/srv/a"'), rec('blockers=fs.write_file path="/srv/a"'), rec('blockers=fs.refer path="/srv/b"')],
    ['shmget', 'socket', 'shmget'],
  );
  assert.equal(s.total, 8);
  assert.deepEqual(s.distinct.map((d) => d.count), [2, 1, 1, 1, 2, 1]);
  // --rw /srv/a covers --ro /srv/a; refer and socket() have no single flag.
  assert.deepEqual(s.flags, ['--connect-tcp 443', '--rw /srv/a', '--allow-sysv-ipc']);
  assert.equal(s.withoutFlag, 2);
  const lines = formatSummary(s);
  assert.equal(lines[0], 'denied during the run: 6 distinct, 8 in all:');
  assert.equal(lines[1], '  2× denied read_file on /srv/a — allow with: --ro /srv/a');
  assert.ok(lines.includes('to allow these: --connect-tcp 443 --rw /srv/a --allow-sysv-ipc'));
  assert.deepEqual(formatSummary(summarizeDenials([], [])), ['no Landlock denials']);
});

// The "to allow these:" line is pasted onto a ward run command line, whose path flags split their
// value at commas, and CMD (or any local user, in /tmp) chooses the names it is denied: a
// directory "x," holding "etc" made --rox /tmp/…/x,/etc — pasted, --rox /etc. A denial on "/"
// (touch /f, ls /) made --rw / and --ro /: the whole filesystem.
test('no suggested flag names a path with a comma or the root directory', () => {
  const rec = (x: string) => parseAccessRecord(`audit(1:2): domain=1 ${x}`)!;
  const hex = (p: string) => Buffer.from(p).toString('hex').toUpperCase();
  const risky = [
    rec('blockers=fs.execute path="/tmp/w/x,/etc"'),
    rec('blockers=fs.make_reg path="/tmp/a,/etc"'),
    rec(`blockers=fs.write_file path=${hex('/tmp/a b,/root')}`),
    rec('blockers=fs.read_file path="/srv/a,/home"'),
    rec('blockers=fs.resolve_unix path="/run/a,/run/b.sock"'),
    rec('blockers=fs.make_reg path="/"'),
    rec('blockers=fs.read_dir path="/"'),
  ];
  for (const d of risky) assert.ok(!hintFor(d).startsWith('--'), `${describeDenial(d)}`);
  assert.match(hintFor(risky[0]!), /no flag can name \/tmp\/w\/x,\/etc: .*splits --rox's value at commas.*"rox" in a --profile file/);
  assert.match(hintFor(risky[5]!), /only --rw \/ would allow it, which opens the whole filesystem: not suggested/);
  const s = summarizeDenials([...risky, rec('blockers=fs.read_file path="/srv/ok"')], []);
  assert.deepEqual(s.flags, ['--ro /srv/ok']);
  assert.equal(s.withoutFlag, risky.length);
});

test('--explain: CMD naming its own denials cannot make the suggested flags open /etc or /', async (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 7+ (audit records)')) return;
  const work = s.dir('comma-work');
  const r = await run(
    ['run', '--explain', '--rox', '/usr', '--ro', '/lib,/lib64,/etc/ld.so.cache', '--rw', work, '--', '/bin/sh', '-c', `mkdir "${work}/x,"; cp /bin/true "${work}/x,/etc"; "${work}/x,/etc"; touch /ward-denials-test; true`],
    work,
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`^ward:   1× denied execute on ${work}/x,/etc — allow with: no flag can name`, 'm'));
  assert.match(r.stderr, /^ward:   1× denied make_reg on \/ — allow with: only --rw \/ would allow it/m);
  // Split as ward run splits a pasted value: no path but those CMD was denied.
  const line = /^ward: to allow these: (.*)$/m.exec(r.stderr)?.[1] ?? '';
  const paths = line.split(' ').filter((w) => !w.startsWith('--')).flatMap((v) => v.split(','));
  for (const p of paths) assert.ok(p !== '/' && p !== '/etc', `${p} suggested: ${r.stderr}`);
});

// Every process's Landlock denials share the audit stream; a local user's sandbox can make them
// by the hundred thousand a second. Until the child's domain is known they were all kept.
test('denials of other domains are not held while the child\'s domain is unknown', () => {
  const child = 4242;
  const f = new DomainFilter(child);
  const access = (dom: string, path: string) => parseAccessRecord(`audit(1:2): domain=${dom} blockers=fs.read_file path="${path}"`)!;
  const announce = (dom: string, pid: number) => f.domainRecord(`audit(1:3): domain=${dom} status=allocated mode=enforcing pid=${pid} uid=65534 exe="/bin/sh" comm="sh"`);
  // A foreign domain: its first denial is held until its record names another pid, then dropped,
  // and its later denials are not held at all.
  assert.deepEqual(f.access(access('f00', '/etc/a')), []);
  assert.equal(f.held, 1);
  assert.deepEqual(announce('f00', 77), []);
  assert.equal(f.held, 0);
  for (let i = 0; i < 50_000; i++) assert.deepEqual(f.access(access('f00', `/etc/${i}`)), []);
  assert.equal(f.held, 0);
  // The child's: held, then released in order when its record comes; later ones pass at once.
  f.access(access('c01', '/srv/1'));
  f.access(access('f00', '/etc/x'));
  f.access(access('c01', '/srv/2'));
  assert.deepEqual(announce('c01', child).map((d) => d.path), ['/srv/1', '/srv/2']);
  assert.deepEqual(f.access(access('c01', '/srv/3')).map((d) => d.path), ['/srv/3']);
  assert.deepEqual(f.access(access('f00', '/etc/y')), []);
  // Unannounced domains are held up to a bound, the oldest dropped and counted.
  const g = new DomainFilter(child);
  for (let i = 0; i < DomainFilter.MAX_HELD + 5; i++) g.access(access(`d${i}`, '/x'));
  assert.equal(g.held, DomainFilter.MAX_HELD);
  assert.equal(g.dropped, 5);
});

// The audit stream is every process's, and any local user can make records faster than they are
// read: AuditReader.poll read "until none is left", which under such a flood never returned (2.7
// million records, 660 MB, in one call). It now takes at most maxReads datagrams a call.
test('AuditReader.poll returns at most maxReads records a call, the rest on later calls', async (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 7+ (audit records)')) return;
  const reader = new AuditReader();
  const wasOn = auditEnabled();
  if (wasOn === 0) setAuditEnabled(true);
  try {
    // 300 denials (one domain, logged after the exec), all made before the first poll.
    const r = await run(['run', '--log-enable-subprocesses', '--rox', '/usr', '--ro', '/etc/ld.so.cache', '--rw', '/dev/null', '--', '/bin/sh', '-c', 'i=0; while [ $i -lt 300 ]; do read x < /etc/hostname; i=$((i+1)); done 2>/dev/null; true'], s.root);
    assert.equal(r.status, 0, r.stderr);
    let denials = 0;
    let calls = 0;
    // kauditd delivers asynchronously: poll until all 300 came (the test's own timeout bounds it).
    while (denials < 300) {
      const got = reader.poll(10);
      assert.ok(got.length <= 10, `one call returned ${got.length} records`);
      calls++;
      denials += got.filter((x) => x.type === AUDIT_LANDLOCK_ACCESS && x.text.includes('path="/etc/hostname"')).length;
      if (got.length === 0) await new Promise((res) => setTimeout(res, 20));
    }
    assert.ok(calls >= 30, `${calls} calls`);
  } finally {
    reader.close();
    if (wasOn === 0) setAuditEnabled(false);
  }
});
