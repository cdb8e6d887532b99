// Issue 16 §1: landrun command lines run unchanged through `ward run`, with landrun's documented
// outcome (exit codes stay ward's). Each form is checked against its negative too, so the flag
// is what made the difference.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { IS_ROOT, Scratch, requires } from '../helpers/kernel.ts';
import { landlockAbi } from '../../src/kernel/landlock.ts';
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

test('--rw/--rwx never include connecting to unix sockets below the directory (resolve_unix, ABI 9)', () => {
  assert.equal(ACCESS_GROUPS.rw & RESOLVE_UNIX, 0n);
  assert.equal(ACCESS_GROUPS.rwx & RESOLVE_UNIX, 0n);
  // (On this kernel the seccomp layer refuses unix sockets under --rw: test/sandbox/bypass.test.ts.)
});
