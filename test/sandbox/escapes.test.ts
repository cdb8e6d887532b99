// Escapes from `ward run` on the real kernel: each must fail, and what the sandbox grants must
// work. Run as root and as nobody (whose rights outside the sandbox are opened up with modes, so
// every denial here is Landlock's, not the file mode's).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, openSync, closeSync, symlinkSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { IS_ROOT, NOBODY, PROBE, Scratch, requires } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';
import { landlockAbi } from '../../src/kernel/landlock.ts';

let s: Scratch;
let RO: string, RW: string, RW2: string, RWX: string, OUT: string;
let listeners: ChildProcess | undefined;
const LISTENERS = new URL('../helpers/listeners.ts', import.meta.url).pathname;
const ports: { allowed: number; denied: number; bindAllowed: number; bindDenied: number } = { allowed: 0, denied: 0, bindAllowed: 0, bindDenied: 0 };
const ABSTRACT = `ward-test-abstract-${process.pid}`;
// What sh, coreutils and perl need to start (perl -e reads /dev/null).
const BASE = ['--rox', '/usr', '--ro', '/etc/ld.so.cache', '--rw', '/dev/null'];
const canRun = IS_ROOT && landlockAbi() >= 6;

async function freePort(): Promise<number> {
  const srv = createServer();
  const port = await new Promise<number>((resolve) => srv.listen(0, '127.0.0.1', () => resolve((srv.address() as { port: number }).port)));
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

before(async () => {
  if (!canRun) return;
  s = new Scratch('ward-escape-');
  RO = s.dir('ro', 0o777);
  RW = s.dir('rw', 0o777);
  RW2 = s.dir('rw2', 0o777);
  RWX = s.dir('rwx', 0o777);
  OUT = s.dir('outside', 0o777);
  for (const [dir, name] of [[RO, 'file'], [OUT, 'secret'], [RW, 'file'], [RW2, 'other']] as const) {
    writeFileSync(join(dir, name), `${name} content\n`);
    chmodSync(join(dir, name), 0o666);
  }
  symlinkSync(join(OUT, 'secret'), join(RW, 'link-out'));
  copyFileSync('/bin/true', join(RW, 'true'));
  chmodSync(join(RW, 'true'), 0o755);
  copyFileSync('/bin/true', join(RWX, 'true'));
  chmodSync(join(RWX, 'true'), 0o755);
  listeners = spawn(process.execPath, [LISTENERS, ABSTRACT], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    listeners!.stdout!.once('data', (d: Buffer) => resolve(d.toString()));
    listeners!.once('exit', () => reject(new Error('listener process exited')));
  });
  const info = JSON.parse(line) as { tcp: [number, number] };
  [ports.allowed, ports.denied] = info.tcp;
  ports.bindAllowed = await freePort();
  ports.bindDenied = await freePort();
});

after(() => {
  listeners?.stdin?.end();
  listeners?.kill();
  s?.cleanup();
});

interface Run {
  status: number | null;
  signal: string | null;
  out: string;
}

/** `ward run FLAGS -- /bin/sh -c SCRIPT`, as root or (through the probe) as nobody. */
function sandboxed(flags: string[], script: string, as: 'root' | 'nobody', extra: { stdio?: Array<'pipe' | number> } = {}): Run {
  const argv = ['run', ...BASE, ...flags, '--', '/bin/sh', '-c', script];
  const cmd = as === 'root' ? [WARD_BIN, ...argv] : [PROBE, 'wardExec', JSON.stringify({ argv }), 'drop'];
  const r = spawnSync(process.execPath, cmd, { encoding: 'utf8', timeout: 30_000, cwd: '/', stdio: extra.stdio ?? ['pipe', 'pipe', 'pipe'] });
  return { status: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}` };
}

/** The same script without a sandbox, as the same user: the control that it would work. */
function unsandboxed(script: string, as: 'root' | 'nobody'): Run {
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', timeout: 30_000, cwd: '/', ...(as === 'nobody' ? { uid: NOBODY, gid: NOBODY } : {}) });
  return { status: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}` };
}

function denied(flags: string[], script: string, as: 'root' | 'nobody', pattern: RegExp = /Permission denied/): void {
  const control = unsandboxed(script, as);
  assert.equal(control.status, 0, `control without sandbox must succeed: ${script}\n${control.out}`);
  const r = sandboxed(flags, script, as);
  assert.notEqual(r.status, 0, `must fail in the sandbox: ${script}\n${r.out}`);
  assert.match(r.out, pattern, script);
}

function allowed(flags: string[], script: string, as: 'root' | 'nobody', expect?: RegExp): string {
  const r = sandboxed(flags, script, as);
  assert.equal(r.status, 0, `must work in the sandbox: ${script}\n${r.out}`);
  if (expect) assert.match(r.out, expect);
  return r.out;
}

const PERL_CONNECT = (port: number) => `perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => ${port}, Proto => "tcp") or die "connect: $!\\n"; print <$s>'`;
const PERL_BIND = (port: number) => `perl -MIO::Socket::INET -e 'IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => ${port}, Proto => "tcp", Listen => 1, ReuseAddr => 1) or die "bind: $!\\n"; print "bound\\n"'`;
const PERL_ABSTRACT = `perl -MSocket -e 'socket(my $s, AF_UNIX, SOCK_STREAM, 0) or die; connect($s, pack_sockaddr_un("\\0${ABSTRACT}")) or die "connect: $!\\n"; print <$s>'`;
// PTRACE_SEIZE (0x4206) does not stop the tracee; the tracer's exit detaches it.
const PERL_PTRACE = (target: string) => `perl -e 'syscall(101, 0x4206, ${target}, 0, 0) == 0 or die "ptrace: $!\\n"; print "attached\\n"'`;

for (const as of ['root', 'nobody'] as const) {
  test(`[${as}] reading outside the allowed trees is denied; inside works`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    denied(['--ro', RO], `cat ${OUT}/secret`, as);
    allowed(['--ro', RO], `cat ${RO}/file`, as, /file content/);
    denied(['--ro', RO], `ls ${OUT}`, as);
  });

  test(`[${as}] a read-only tree refuses writes, creation, removal, fifos, symlinks, truncation`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    for (const script of [
      `echo x >> ${RO}/file`,
      `echo x > ${RO}/new`,
      `touch ${RO}/new2`,
      `mkdir ${RO}/d`,
      `mkfifo ${RO}/fifo`,
      `ln -s /tmp ${RO}/sym`,
      `truncate -s 0 ${RO}/file`,
    ]) {
      denied(['--ro', RO], `${script} && rm -rf ${RO}/new ${RO}/new2 ${RO}/d ${RO}/fifo ${RO}/sym && echo "file content" > ${RO}/file`, as);
    }
    // rm: restore the file afterwards in the control run.
    denied(['--ro', RO], `rm ${RO}/file && echo "file content" > ${RO}/file && chmod 666 ${RO}/file`, as);
    if (as === 'root') denied(['--ro', RO], `mknod ${RO}/dev c 1 3 && rm ${RO}/dev`, as);
  });

  test(`[${as}] .. traversal and a symlink inside pointing outside do not escape`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    denied(['--rw', RW], `cat ${RW}/../outside/secret`, as);
    denied(['--rw', RW], `cat ${RW}/link-out`, as);
  });

  test(`[${as}] hardlink and rename across directories fail with EXDEV (no refer right); same directory works`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    denied(['--rw', RW, '--rw', RW2], `ln ${RW}/file ${RW2}/hard && rm ${RW2}/hard`, as, /Invalid cross-device link/);
    denied(['--rw', RW, '--rw', RW2], `perl -e 'rename("${RW2}/other", "${RW}/moved") or die "$!\\n"; rename("${RW}/moved", "${RW2}/other") or die "$!\\n"'`, as, /Invalid cross-device link/);
    allowed(['--rw', RW], `perl -e 'rename("${RW}/file", "${RW}/renamed") or die "$!\\n"; rename("${RW}/renamed", "${RW}/file") or die "$!\\n"'`, as);
  });

  test(`[${as}] read-write trees allow create, write, truncate and remove, but not exec`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    allowed(['--rw', RW], `echo data > ${RW}/new-${as} && truncate -s 2 ${RW}/new-${as} && cat ${RW}/new-${as} && mkdir ${RW}/d-${as} && rmdir ${RW}/d-${as} && rm ${RW}/new-${as}`, as, /^da$/m);
    denied(['--rw', RW], `${RW}/true`, as);
    allowed(['--rwx', RWX], `${RWX}/true && echo ran`, as, /ran/);
  });

  test(`[${as}] /proc/self/root and re-opening /proc/self/fd/N of an outside file are denied`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    denied(['--ro', '/proc'], `cat /proc/self/root${OUT}/secret`, as);
    // fd 3 is opened outside the sandbox, before restriction: it keeps its rights, a re-open does not.
    const fd = openSync(join(OUT, 'secret'), 'r');
    try {
      const inherited = sandboxed(['--ro', '/proc', '--preserve-fds', '1'], 'cat <&3', as, { stdio: ['pipe', 'pipe', 'pipe', fd] });
      assert.equal(inherited.status, 0, inherited.out);
      assert.match(inherited.out, /secret content/);
      const reopened = sandboxed(['--ro', '/proc', '--preserve-fds', '1'], 'cat /proc/self/fd/3', as, { stdio: ['pipe', 'pipe', 'pipe', fd] });
      assert.notEqual(reopened.status, 0);
      assert.match(reopened.out, /Permission denied/);
    } finally {
      closeSync(fd);
    }
  });

  test(`[${as}] TCP connect and bind only to the allowed ports (loopback listeners)`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    const flags = ['--connect-tcp', String(ports.allowed), '--bind-tcp', String(ports.bindAllowed)];
    allowed(flags, PERL_CONNECT(ports.allowed), as, /hello/);
    denied(flags, PERL_CONNECT(ports.denied), as, /connect: Permission denied/);
    allowed(flags, PERL_BIND(ports.bindAllowed), as, /bound/);
    denied(flags, PERL_BIND(ports.bindDenied), as, /bind: Permission denied/);
    allowed(['--unrestricted-net'], PERL_CONNECT(ports.denied), as, /hello/);
  });

  test(`[${as}] abstract unix sockets outside the sandbox are unreachable unless allowed`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    // Creating a unix socket at all needs --allow-unix-sockets (seccomp); the scope is Landlock's.
    denied(['--allow-unix-sockets'], PERL_ABSTRACT, as, /connect: Operation not permitted/);
    allowed(['--allow-unix-sockets', '--allow-abstract-unix-out'], PERL_ABSTRACT, as, /hello/);
    denied([], PERL_ABSTRACT, as, /Died/);
  });

  test(`[${as}] signals to processes outside the sandbox are refused unless allowed`, async (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    const victim: ChildProcess = spawn('sleep', ['60'], as === 'nobody' ? { uid: NOBODY, gid: NOBODY } : {});
    try {
      denied([], `kill -0 ${victim.pid}`, as, /Operation not permitted/);
      allowed(['--allow-signals-out'], `kill -0 ${victim.pid} && echo alive`, as, /alive/);
      // Inside the sandbox, its own children can be signalled.
      allowed([], 'sleep 30 & kill $! && wait $!; echo "status $?"', as, /status 143/);
    } finally {
      victim.kill('SIGKILL');
    }
  });

  test(`[${as}] ptrace attach to a process outside the sandbox (${as === 'root' ? 'its parent' : 'one of the same user'}) is refused`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    if (as === 'root') {
      // sh was exec'd by ward in place, so $PPID is the process that started ward run: outside.
      denied([], PERL_PTRACE('int($ENV{PARENT})').replace('perl', 'PARENT=$PPID perl'), as, /ptrace: Operation not permitted/);
      return;
    }
    // As nobody the parent is root's, which the file mode rules already forbid: use a process of nobody's.
    const victim = spawn('sleep', ['60'], { uid: NOBODY, gid: NOBODY });
    try {
      denied([], PERL_PTRACE(String(victim.pid)), as, /ptrace: Operation not permitted/);
      // A process inside the same sandbox may be traced.
      allowed([], `sleep 30 & ${PERL_PTRACE('int($ARGV[0])')} $!; kill $!`, as, /attached/);
    } finally {
      victim.kill('SIGKILL');
    }
  });

  test(`[${as}] the program's children inherit the sandbox`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    denied([], `sh -c 'sh -c "cat ${OUT}/secret"'`, as);
    denied([], `(cat ${OUT}/secret &) ; wait; sleep 0.2; cat ${OUT}/secret`, as);
  });
}

test('[root] a nested ward run cannot widen its parent\'s rules', (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
  // The inner ward (Node and this checkout) must be readable and executable inside the outer one.
  const outer = ['run', ...BASE, '--rox', '/', '--ro', RO, '--'];
  const inner = [process.execPath, WARD_BIN, 'run', ...BASE, '--rw', RO, '--', '/bin/sh', '-c', `echo x >> ${RO}/file`];
  const r = spawnSync(process.execPath, [WARD_BIN, ...outer, ...inner], { encoding: 'utf8', timeout: 60_000 });
  assert.notEqual(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stderr, /Permission denied/);
  assert.equal(readFileSync(join(RO, 'file'), 'utf8'), 'file content\n');
});

test('[root] the 16-layer limit is reported clearly', (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
  const layer = [process.execPath, WARD_BIN, 'run', '--unrestricted-fs', '--unrestricted-net', '--'];
  const argv: string[] = [];
  for (let i = 0; i < 17; i++) argv.push(...layer);
  argv.push('/bin/true');
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 125, r.stderr);
  assert.match(r.stderr, /already inside 16 nested Landlock sandboxes, the kernel's limit/);
  const sixteen = spawnSync(argv[0]!, [...argv.slice(1, 16 * layer.length), '/bin/true'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(sixteen.status, 0, sixteen.stderr);
});

test('mkdir helper sanity: scratch trees exist', (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
  for (const d of [RO, RW, RW2, RWX, OUT]) assert.ok(existsSync(d));
  mkdirSync(join(RW, 'probe-dir'));
});
