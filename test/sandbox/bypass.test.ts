// Issue 10 classes 3-6 on the real kernel, as root and as nobody: inherited fds, the caller's
// environment, capabilities, and what Landlock ABI 7 cannot restrict (pathname unix sockets,
// UDP and other non-TCP sockets), closed by ward run's other layers. Each has a control: the
// same thing works without ward (or with the opt-out flag), so the refusal is ward's.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, NOBODY, PROBE, Scratch, requires } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';
import { landlockAbi } from '../../src/kernel/landlock.ts';
import { spawnSandboxed } from '../../src/sandbox/launcher.ts';

const abi = landlockAbi();
const canRun = IS_ROOT && abi >= 6;
const BASE = ['--rox', '/usr', '--ro', '/etc/ld.so.cache', '--rw', '/dev/null', '--ro', '/proc'];
let s: Scratch;
let SOCK: string;
let server: ChildProcess | undefined;
let udpPort = 0;
let tcpPort = 0;

before(async () => {
  if (!canRun) return;
  s = new Scratch('ward-bypass-');
  SOCK = join(s.dir('sock', 0o777), 'control.sock');
  // A pathname unix socket (like the ward daemon's, docker.sock, D-Bus) anyone may connect to,
  // and a UDP echo listener on loopback.
  const script = `
    const net = require('node:net'); const dgram = require('node:dgram'); const fs = require('node:fs');
    const srv = net.createServer((c) => c.end('hello from outside\\n')).listen(${JSON.stringify(SOCK)}, () => {
      fs.chmodSync(${JSON.stringify(SOCK)}, 0o777);
      const u = dgram.createSocket('udp4');
      u.on('message', (m, r) => u.send('pong\\n', r.port, r.address));
      const t = net.createServer((c) => c.on('data', (d) => c.end('got ' + d))).listen(0, '127.0.0.1', () =>
        u.bind(0, '127.0.0.1', () => process.stdout.write(u.address().port + ' ' + t.address().port + '\\n')));
    });
    process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`;
  server = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  [udpPort, tcpPort] = (await new Promise<string>((resolve) => server!.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())))).split(' ').map(Number) as [number, number];
});

after(() => {
  server?.stdin?.end();
  server?.kill();
  s?.cleanup();
});

interface Run {
  status: number | null;
  out: string;
  stderr: string;
}

type Stdio = Array<'pipe' | 'ignore' | number>;

/** `ward run FLAGS -- CMD…` as root, or as nobody through the probe (which drops, then runs ward's main). */
function wardRun(flags: string[], cmd: string[], as: 'root' | 'nobody', opts: { stdio?: Stdio; env?: NodeJS.ProcessEnv } = {}): Run {
  const argv = ['run', ...BASE, ...flags, '--', ...cmd];
  const node = as === 'root' ? [WARD_BIN, ...argv] : [PROBE, 'wardExec', JSON.stringify({ argv }), 'drop'];
  const r = spawnSync(process.execPath, node, { encoding: 'utf8', timeout: 30_000, cwd: '/', stdio: opts.stdio ?? ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
  let stdout = String(r.stdout);
  let status = r.status;
  // The probe reports ward's own exit status (when ward did not become CMD) as a JSON line.
  const m = as === 'nobody' ? /\{"code":(\d+)\}\n$/.exec(stdout) : null;
  if (m) {
    status = Number(m[1]);
    stdout = stdout.slice(0, m.index);
  }
  return { status, out: `${stdout}${r.stderr}`, stderr: String(r.stderr) };
}

function plain(cmd: string[], as: 'root' | 'nobody', opts: { stdio?: Stdio; env?: NodeJS.ProcessEnv } = {}): Run {
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 30_000, cwd: '/', stdio: opts.stdio ?? ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, ...(as === 'nobody' ? { uid: NOBODY, gid: NOBODY } : {}) });
  return { status: r.status, out: `${r.stdout}${r.stderr}`, stderr: String(r.stderr) };
}

const sh = (script: string) => ['/bin/sh', '-c', script];
const FDS = sh('ls /proc/self/fd | sort -n | tr "\\n" " "');
const UNIX_CONNECT = (path: string) => sh(`perl -MSocket -e 'socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die "socket: $!\\n"; connect($s, pack_sockaddr_un("${path}")) or die "connect: $!\\n"; print <$s>'`);
// The same through syscall(2) with garbage in the upper half of the family (the kernel takes an int).
const UNIX_HIGH = sh(`perl -e '$fd = syscall(41, 0x100000001, 1, 0); die "socket: $!\\n" if $fd < 0; print "created\\n"'`);
const UDP = (port: number) => sh(`perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => ${port}, Proto => "udp") or die "udp: $!\\n"; $s->send("ping"); $s->recv($m, 64); print $m'`);
const SCTP = sh(`perl -e 'socket(my $s, 2, 1, 132) or die "sctp: $!\\n"; print "created\\n"'`);
// sendto with MSG_FASTOPEN (0x20000000) on a fresh TCP socket: connects without connect(2).
const TFO = (port: number) => sh(`perl -MSocket -e 'socket(my $s, AF_INET, SOCK_STREAM, 0) or die "socket: $!\n"; defined send($s, "hello", 0x20000000, pack_sockaddr_in(${port}, inet_aton("127.0.0.1"))) or die "send: $!\n"; sysread($s, my $b, 100); print "reply: $b\n"'`);
const IO_URING = sh(`perl -e '$p = "\\0" x 120; $fd = syscall(425, 4, $p); die "io_uring: $!\\n" if $fd < 0; print "ring\\n"'`);

for (const as of ['root', 'nobody'] as const) {
  test(`[${as}] fds: only 0-2 reach CMD, even above a gap after fd 15; --preserve-fds keeps 3..`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    const file = openSync('/dev/null', 'r');
    try {
      const stdio: Stdio = ['pipe', 'pipe', 'pipe'];
      for (let fd = 3; fd <= 40; fd++) stdio.push(fd === 3 || fd === 20 || fd === 40 ? file : 'ignore');
      const control = plain(FDS, as, { stdio });
      assert.match(control.out, /\b20 .*\b40\b/, `control: the fds are inherited without ward: ${control.out}`);
      const r = wardRun([], FDS, as, { stdio });
      assert.equal(r.status, 0, r.out);
      // ls's own directory fd is the lowest free one (3).
      assert.match(r.out, /^0 1 2 3 $/, r.out);
      const kept = wardRun(['--preserve-fds', '1'], sh('ls /proc/self/fd | sort -n | tr "\\n" " "; readlink /proc/self/fd/3'), as, { stdio });
      assert.match(kept.out, /^0 1 2 3 4 \/dev\/null$/m, kept.out);
      // Socket activation: LISTEN_FDS keeps fd 3 and is itself passed on in the clean environment.
      const act = wardRun([], sh('echo "fds=$LISTEN_FDS"; readlink /proc/self/fd/3'), as, { stdio, env: { ...process.env, LISTEN_FDS: '1' } });
      assert.match(act.out, /^fds=1\n\/dev\/null$/m, act.out);
    } finally {
      closeSync(file);
    }
  });

  test(`[${as}] environment: clean by default; --env NAME passes one, --env NAME=value sets one, --keep-env keeps all`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    const env = { ...process.env, SSH_AUTH_SOCK: '/tmp/agent.sock', WARD_SECRET: 'hunter2', LANG: 'C.UTF-8' };
    const r = wardRun([], ['/usr/bin/env'], as, { env });
    assert.equal(r.status, 0, r.out);
    assert.equal(r.out, '');
    const some = wardRun(['--env', 'LANG', '--env', 'A=1=2', '--env', 'UNSET_VAR_WARD'], ['/usr/bin/env'], as, { env });
    assert.equal(some.out, 'LANG=C.UTF-8\nA=1=2\n');
    const all = wardRun(['--keep-env'], ['/usr/bin/env'], as, { env });
    assert.match(all.out, /^SSH_AUTH_SOCK=\/tmp\/agent.sock$/m);
    assert.match(all.out, /^WARD_SECRET=hunter2$/m);
  });

  test(`[${as}] capabilities: none reach CMD (bounding set too, as root); --keep-caps keeps them`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    const caps = sh('grep ^Cap /proc/self/status');
    const r = wardRun([], caps, as);
    for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapAmb']) assert.match(r.out, new RegExp(`^${set}:\\s+0{16}$`, 'm'), r.out);
    if (as === 'root') {
      assert.match(r.out, /^CapBnd:\s+0{16}$/m, r.out);
      // sethostname is not Landlock-mediated: set the hostname to itself (harmless if it works).
      const hn = sh('perl -e \'$h = `hostname`; chomp $h; syscall(170, $h, length $h) == 0 or die "sethostname: $!\\n"; print "set\\n"\'');
      const control = plain(hn, 'root');
      assert.match(control.out, /set/, `control: root may set the hostname: ${control.out}`);
      const denied = wardRun([], hn, 'root');
      assert.match(denied.out, /sethostname: Operation not permitted/);
      const kept = wardRun(['--keep-caps'], hn, 'root');
      assert.match(kept.out, /^set$/m, kept.out);
    }
  });

  test(`[${as}] pathname unix sockets (the daemon's control socket, docker.sock) are refused; --allow-unix-sockets opens them`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    const control = plain(UNIX_CONNECT(SOCK), as);
    assert.match(control.out, /hello from outside/, `control: reachable without ward: ${control.out}`);
    const r = wardRun(['--ro', SOCK], UNIX_CONNECT(SOCK), as);
    assert.match(r.out, /socket: Permission denied/, r.out);
    // Even with every filesystem right below the socket: --rw never grants a socket.
    assert.match(wardRun(['--rw', join(SOCK, '..')], UNIX_CONNECT(SOCK), as).out, /socket: Permission denied/);
    assert.match(wardRun([], UNIX_HIGH, as).out, /socket: Permission denied/);
    assert.match(wardRun(['--allow-unix-sockets'], UNIX_CONNECT(SOCK), as).out, /hello from outside/);
    // socketpair(2) reaches nothing by name and stays allowed.
    assert.match(wardRun([], sh(`perl -MSocket -e 'socketpair(my $a, my $b, AF_UNIX, SOCK_STREAM, 0) or die "socketpair: $!\\n"; print "pair\\n"'`), as).out, /^pair$/m);
  });

  test(`[${as}] --unix PATH: refused where Landlock cannot limit it to PATH (ABI < 9), allowed with --best-effort and a warning`, (t) => {
    if (!requires(t, canRun && abi < 9, 'root and Landlock ABI 6-8')) return;
    const strict = wardRun(['--unix', SOCK], UNIX_CONNECT(SOCK), as);
    assert.equal(strict.status, 125, strict.out);
    assert.match(strict.stderr, /--unix .*control\.sock: this kernel's Landlock \(ABI \d\) cannot limit connecting to one unix socket \(that needs ABI 9\)\. Nothing was run/);
    const best = wardRun(['--unix', SOCK, '--best-effort'], UNIX_CONNECT(SOCK), as);
    assert.match(best.out, /hello from outside/, best.out);
    assert.match(best.stderr, /warning: not enforced: --unix .*every pathname unix socket the file modes allow is reachable/);
  });

  test(`[${as}] with the network restricted: UDP, SCTP, TCP Fast Open and io_uring are refused; --allow-udp and --unrestricted-net open UDP`, (t) => {
    if (!requires(t, canRun && abi < 10, 'root and Landlock ABI 6-9 (UDP not restricted by Landlock)')) return;
    const control = plain(UDP(udpPort), as);
    assert.match(control.out, /pong/, `control: UDP works without ward: ${control.out}`);
    assert.match(wardRun([], UDP(udpPort), as).out, /udp: Permission denied/);
    assert.match(wardRun(['--allow-udp'], UDP(udpPort), as).out, /pong/);
    assert.match(wardRun(['--unrestricted-net'], UDP(udpPort), as).out, /pong/);
    assert.match(wardRun([], SCTP, as).out, /sctp: Permission denied/);
    // TCP Fast Open connects inside sendto(2), past Landlock's connect hook: refused by the filter.
    const control2 = plain(TFO(tcpPort), as);
    assert.match(control2.out, /reply: got hello/, `control: TFO works without ward: ${control2.out}`);
    const tfo = wardRun([], TFO(tcpPort), as);
    assert.match(tfo.out, /send: Permission denied/, tfo.out);
    assert.doesNotMatch(tfo.out, /got hello/);
    assert.match(wardRun(['--unrestricted-net'], TFO(tcpPort), as).out, /reply: got hello/);
    // listen() on an unbound socket binds an ephemeral port without Landlock's bind hook.
    const LISTEN = sh(`perl -MSocket -e 'socket(my $s, AF_INET, SOCK_STREAM, 0) or die "socket: $!\\n"; listen($s, 5) or die "listen: $!\\n"; my ($p) = sockaddr_in(getsockname($s)); print "listening on $p\\n"'`);
    assert.match(plain(LISTEN, as).out, /listening on \d+/);
    assert.match(wardRun([], LISTEN, as).out, /listen: Permission denied/);
    assert.match(wardRun(['--unrestricted-net'], LISTEN, as).out, /listening on \d+/);
    const tfoMsg = sh(`/usr/bin/python3 -c "import socket; s = socket.socket(); s.sendmsg([b'hello'], [], 0x20000000, ('127.0.0.1', ${tcpPort})); print('reply:', s.recv(100))"`);
    assert.match(plain(tfoMsg, as).out, /reply: b'got hello'/);
    assert.match(wardRun([], tfoMsg, as).out, /PermissionError/);
    const ring = plain(IO_URING, as);
    assert.match(ring.out, /ring/, `control: io_uring_setup works without ward: ${ring.out}`);
    assert.match(wardRun(['--unrestricted-net'], IO_URING, as).out, /io_uring: Operation not permitted/);
  });
}

test('spawnSandboxed: the launcher runs with a fixed environment; NODE_OPTIONS/LD_PRELOAD meant for CMD never act on it', async (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
  const marker = join(s.root, 'launcher-was-hooked');
  const hook = join(s.root, 'hook.cjs');
  writeFileSync(hook, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, String(process.pid));\n`);
  chmodSync(hook, 0o644);
  const preload = '/nonexistent-ward-preload.so';
  const env = { PATH: '/usr/bin:/bin', NODE_OPTIONS: `--require ${hook}`, LD_PRELOAD: preload, FOR_CMD: 'yes' };
  const child = spawnSandboxed({ rox: ['/usr'], ro: ['/etc/ld.so.cache'] }, 'env', [], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 0, err);
  assert.equal(existsSync(marker), false, 'the unsandboxed launcher loaded NODE_OPTIONS meant for CMD');
  // CMD gets exactly the environment it was given.
  assert.deepEqual(out.trim().split('\n').sort(), [`NODE_OPTIONS=--require ${hook}`, `LD_PRELOAD=${preload}`, 'FOR_CMD=yes', 'PATH=/usr/bin:/bin'].sort());
  // ld.so complains once per process that has LD_PRELOAD: CMD (env), not the launcher too.
  assert.equal(err.split(`object '${preload}' from LD_PRELOAD cannot be preloaded`).length - 1, 1, err);
  // Control: a Node started with that environment does load the hook.
  spawnSync(process.execPath, ['-e', '0'], { env });
  assert.equal(existsSync(marker), true, 'control: NODE_OPTIONS acts on a Node started with it');
});
