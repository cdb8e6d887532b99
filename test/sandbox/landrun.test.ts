// Issue 16 §1: landrun command lines run unchanged through `ward run`, with landrun's documented
// outcome (exit codes stay ward's). Each form is checked against its negative too, so the flag
// is what made the difference.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { IS_ROOT, Scratch, requires } from '../helpers/kernel.ts';
import { landlockAbi } from '../../src/kernel/landlock.ts';
import { AUDIT_LANDLOCK_ACCESS, AuditReader, auditEnabled, setAuditEnabled } from '../../src/kernel/audit.ts';
import { ACCESS_GROUPS, RESOLVE_UNIX } from '../../src/sandbox/rights.ts';

const abi = landlockAbi();
const canRun = IS_ROOT && abi >= 6;
let s: Scratch;
let D: string;
let srv: Server | undefined;
let port = 0;
let other = 0;

before(async () => {
  if (!canRun) return;
  s = new Scratch('ward-landrun-');
  D = s.dir('data', 0o777);
  writeFileSync(join(D, 'file'), 'landrun data\n');
  srv = createServer((c) => c.end('hello\n'));
  port = await new Promise<number>((resolve) => srv!.listen(0, '127.0.0.1', () => resolve((srv!.address() as { port: number }).port)));
  const srv2 = createServer((c) => c.end('other\n'));
  other = await new Promise<number>((resolve) => srv2.listen(0, '127.0.0.1', () => resolve((srv2.address() as { port: number }).port)));
  srv.on('close', () => srv2.close());
});

after(() => {
  srv?.close();
  s?.cleanup();
});

// `landrun ARGS` → `ward run ARGS`, nothing else changed. Async: the TCP listeners live in this process.
async function landrun(line: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child: ChildProcess = spawn(process.execPath, [new URL('../../bin/ward.js', import.meta.url).pathname, 'run', ...line], { cwd: '/', env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const status = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  return { status, stdout, stderr };
}

const CONNECT = (p: number) => `perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => ${p}, Proto => "tcp") or die "connect: $!\\n"; print <$s>'`;

test('comma-separated path lists, and a command without "--"', async (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
  const r = await landrun(['--rox', '/usr/', '--ro', `/lib,/lib64,${D}`, 'ls', D]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'file\n');
  const w = await landrun(['--rox', '/usr', '--ro', '/lib,/lib64', '--rw', D, 'touch', `${D}/newfile`]);
  assert.equal(w.status, 0, w.stderr);
  assert.ok(existsSync(join(D, 'newfile')));
  // Without the directory in the list: denied.
  const no = await landrun(['--rox', '/usr/', '--ro', '/lib,/lib64', 'ls', D]);
  assert.notEqual(no.status, 0);
  assert.match(no.stderr, /Permission denied/);
});

test('comma-separated port lists for --connect-tcp and --bind-tcp', async (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
  const ok = await landrun(['--rox', '/usr/', '--ro', '/lib,/lib64', '--rw', '/dev/null', '--connect-tcp', `80,${port}`, '/bin/sh', '-c', CONNECT(port)]);
  assert.equal(ok.stdout, 'hello\n', ok.stderr);
  const denied = await landrun(['--rox', '/usr/', '--ro', '/lib,/lib64', '--rw', '/dev/null', '--connect-tcp', `80,${port}`, '/bin/sh', '-c', CONNECT(other)]);
  assert.match(denied.stderr, /connect: Permission denied/);
  assert.equal((await landrun(['--rox', '/usr', '--bind-tcp', '8080,8443', '--dry-run', '--', '/bin/true'])).stderr.match(/allow bind tcp port (8080|8443)/g)?.length, 2);
  assert.equal((await landrun(['--rox', '/usr', '--connect-tcp', '80,x', '--', '/bin/true'])).status, 2);
});

test('--unrestricted-network, --unrestricted-filesystem, --unrestricted-scoped', async (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
  const net = await landrun(['--rox', '/usr/', '--ro', '/lib,/lib64', '--rw', '/dev/null', '--unrestricted-network', '/bin/sh', '-c', CONNECT(other)]);
  assert.equal(net.stdout, 'other\n', net.stderr);
  const fsr = await landrun(['--unrestricted-filesystem', '--', '/bin/cat', `${D}/file`]);
  assert.equal(fsr.stdout, 'landrun data\n', fsr.stderr);
  const victim = spawn('sleep', ['30']);
  try {
    const scoped = await landrun(['--rox', '/usr', '--unrestricted-scoped', '--', '/bin/sh', '-c', `kill -0 ${victim.pid} && echo alive`]);
    assert.equal(scoped.stdout, 'alive\n', scoped.stderr);
    const confined = await landrun(['--rox', '/usr', '--', '/bin/sh', '-c', `kill -0 ${victim.pid} && echo alive`]);
    assert.match(confined.stderr, /Operation not permitted/);
  } finally {
    victim.kill('SIGKILL');
  }
});

test('--env KEY passes one variable, --env KEY=VALUE sets one; nothing else reaches CMD', async (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
  const r = await landrun(['--rox', '/usr/', '--ro', '/lib,/lib64', '--env', 'HOME', '--env', 'PATH', '--env', 'CUSTOM_VAR=my_value', '--', 'env'], { ...process.env, HOME: '/home/x', PATH: '/usr/bin:/bin', SECRET: 's' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').sort(), ['CUSTOM_VAR=my_value', 'HOME=/home/x', 'PATH=/usr/bin:/bin']);
});

test('--ldd adds the libraries (not CMD), --add-exec adds CMD: together they start it', async (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
  const both = await landrun(['--ldd', '--add-exec', '--ro', D, '/usr/bin/ls', D]);
  assert.equal(both.status, 0, both.stderr);
  assert.match(both.stdout, /^file$/m);
  assert.equal((await landrun(['--ldd', '--ro', D, '/usr/bin/ls', D])).status, 126, 'without --add-exec ls itself may not run');
  const noLibs = await landrun(['--add-exec', '--ro', D, '/usr/bin/ls', D]);
  assert.notEqual(noLibs.status, 0, 'without --ldd the loader cannot map the libraries');
});

test('--log-level: debug prints the ruleset; an unknown level is a usage error', async (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
  const r = await landrun(['--log-level', 'debug', '--rox', '/usr/', '--ro', `/lib,/lib64,${D}`, 'ls', D]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^Landlock: kernel ABI \d+/m);
  assert.match(r.stderr, /layers:/);
  assert.equal((await landrun(['--log-level', 'error', '--rox', '/usr', '--', '/bin/true'])).stderr, '');
  assert.equal((await landrun(['--log-level', 'loud', '--rox', '/usr', '--', '/bin/true'])).status, 2);
});

test('LANDRUN_LOG_LEVEL sets the level when --log-level is not given (the flag wins, as in landrun)', async (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
  const line = ['--rox', '/usr/', '--ro', `/lib,/lib64,${D}`, 'ls', D];
  const env = await landrun(line, { ...process.env, LANDRUN_LOG_LEVEL: 'debug' });
  assert.equal(env.status, 0, env.stderr);
  assert.match(env.stderr, /^Landlock: kernel ABI \d+/m);
  assert.match(env.stderr, /layers:/);
  const flag = await landrun(['--log-level', 'error', ...line], { ...process.env, LANDRUN_LOG_LEVEL: 'debug' });
  assert.equal(flag.stderr, '');
  // landrun takes an unknown level from the environment as "error": quiet, not a failure.
  const odd = await landrun(line, { ...process.env, LANDRUN_LOG_LEVEL: 'loud' });
  assert.deepEqual([odd.status, odd.stderr], [0, '']);
});

// landrun's audit flags are Landlock's restrict-self logging flags (ABI 7). Their documented
// outcome is which denials the kernel writes an audit record for, so the test reads the audit
// stream (root). A record's absence is made certain by a sentinel: kauditd delivers records in
// the order they were queued, so once a later run's denial has arrived, an earlier one would have.
let seq = 0;
async function auditedDenials(line: string[]): Promise<{ status: number | null; paths: string[] }> {
  const reader = new AuditReader();
  const wasOn = auditEnabled();
  if (wasOn === 0) setAuditEnabled(true);
  try {
    const r = await landrun(line);
    const sentinel = join(D, `sentinel-${++seq}`);
    writeFileSync(sentinel, '');
    await landrun(['--log-enable-subprocesses', '--rox', '/usr', '--ro', '/lib,/lib64', '--', 'cat', sentinel]);
    const paths: string[] = [];
    for (let waited = 0; !paths.includes(sentinel); waited += 50) {
      assert.ok(waited < 30_000, `the sentinel's denial never reached the audit stream (records seen: ${paths.join(' ')})`);
      for (const rec of reader.poll()) {
        if (rec.type !== AUDIT_LANDLOCK_ACCESS) continue;
        const m = /path="([^"]*)"/.exec(rec.text);
        if (m) paths.push(m[1]!);
      }
      if (!paths.includes(sentinel)) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { status: r.status, paths };
  } finally {
    reader.close();
    if (wasOn === 0) setAuditEnabled(false);
  }
}

const canAudit = IS_ROOT && abi >= 7;

test('--log-enable-subprocesses: denials of CMD (after the exec) are audited; by default they are not', async (t) => {
  if (!requires(t, canAudit, 'root and Landlock ABI 7+ (audit records)')) return;
  const a = join(D, 'quiet');
  const b = join(D, 'audited');
  writeFileSync(a, 'x');
  writeFileSync(b, 'x');
  const quiet = await auditedDenials(['--rox', '/usr/', '--ro', '/lib,/lib64', 'cat', a]);
  assert.notEqual(quiet.status, 0, 'CMD is denied the file either way');
  assert.ok(!quiet.paths.includes(a), `no record without the flag: ${quiet.paths.join(' ')}`);
  const audited = await auditedDenials(['--log-enable-subprocesses', '--rox', '/usr/', '--ro', '/lib,/lib64', 'cat', b]);
  assert.notEqual(audited.status, 0);
  assert.ok(audited.paths.includes(b), `a record with the flag: ${audited.paths.join(' ')}`);
});

test('--log-disable-originating: a denial before the exec (executing CMD itself) is not audited; by default it is', async (t) => {
  if (!requires(t, canAudit, 'root and Landlock ABI 7+ (audit records)')) return;
  const dir = s.dir(`noexec-${++seq}`);
  const a = join(dir, 'true-audited');
  const b = join(dir, 'true-quiet');
  copyFileSync('/usr/bin/true', a);
  copyFileSync('/usr/bin/true', b);
  // The copies are readable but not executable in the sandbox: ward's own execve is denied.
  const audited = await auditedDenials(['--rox', '/usr/', '--ro', `/lib,/lib64,${dir}`, a]);
  assert.equal(audited.status, 126);
  assert.ok(audited.paths.includes(a), `the denied exec is audited by default: ${audited.paths.join(' ')}`);
  const quiet = await auditedDenials(['--log-disable-originating', '--rox', '/usr/', '--ro', `/lib,/lib64,${dir}`, b]);
  assert.equal(quiet.status, 126);
  assert.ok(!quiet.paths.includes(b), `not with the flag: ${quiet.paths.join(' ')}`);
});

test('--log-disable-subdomains: denials of a sandbox CMD nests inside are not audited; by default they are', async (t) => {
  if (!requires(t, canAudit, 'root and Landlock ABI 7+ (audit records)')) return;
  const a = join(D, 'nested-audited');
  const b = join(D, 'nested-quiet');
  writeFileSync(a, 'x');
  writeFileSync(b, 'x');
  // The outer sandbox leaves the filesystem open (so the inner ward can start); the inner one,
  // which asks for its CMD's denials to be audited, denies the file.
  const inner = (f: string) => [process.execPath, new URL('../../bin/ward.js', import.meta.url).pathname, 'run', '--log-enable-subprocesses', '--rox', '/usr/', '--ro', '/lib,/lib64', 'cat', f];
  const audited = await auditedDenials(['--unrestricted-filesystem', '--', ...inner(a)]);
  assert.notEqual(audited.status, 0);
  assert.ok(audited.paths.includes(a), `the nested sandbox's denial is audited by default: ${audited.paths.join(' ')}`);
  const quiet = await auditedDenials(['--unrestricted-filesystem', '--log-disable-subdomains', '--', ...inner(b)]);
  assert.notEqual(quiet.status, 0);
  assert.ok(!quiet.paths.includes(b), `not with the flag: ${quiet.paths.join(' ')}`);
});

test('--rw/--rwx never include connecting to unix sockets below the directory (resolve_unix, ABI 9)', () => {
  assert.equal(ACCESS_GROUPS.rw & RESOLVE_UNIX, 0n);
  assert.equal(ACCESS_GROUPS.rwx & RESOLVE_UNIX, 0n);
  // (On this kernel the seccomp layer refuses unix sockets under --rw: test/sandbox/bypass.test.ts.)
});
