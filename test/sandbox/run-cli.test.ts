// `ward run` as a user meets it: defaults, errors, --add-libs, env, explain, exit codes,
// spawnSandboxed, and the refusal of in-process sandboxing before TSYNC.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ward } from '../helpers/cli.ts';
import { requires } from '../helpers/kernel.ts';
import { landlockAbi } from '../../src/kernel/landlock.ts';
import { spawnSandboxed, restrictCurrentProcess } from '../../src/sandbox/launcher.ts';

const abi = landlockAbi();
const BASE = ['--rox', '/usr', '--ro', '/etc/ld.so.cache'];

test('--add-libs is enough to start a dynamically linked program; without rules it cannot start', (t) => {
  if (!requires(t, abi >= 6, 'Landlock ABI 6+')) return;
  const ok = ward(['run', '--add-libs', '--', '/bin/true']);
  assert.equal(ok.status, 0, ok.stderr);
  const bare = ward(['run', '--', '/bin/true']);
  assert.equal(bare.status, 126);
  assert.match(bare.stderr, /cannot execute \/bin\/true inside the sandbox: it needs read and execute rights \(add --rox for its directory, or --add-libs\)/);
  // A script: its interpreter and the interpreter's libraries come along.
  const dir = mkdtempSync(join(tmpdir(), 'ward-libs-'));
  try {
    writeFileSync(join(dir, 'hello.sh'), '#!/bin/sh\necho "hello $1"\n', { mode: 0o755 });
    const script = ward(['run', '--add-libs', '--', join(dir, 'hello.sh'), 'world']);
    assert.equal(script.status, 0, script.stderr);
    assert.equal(script.stdout, 'hello world\n');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('exit status and signals are CMD\'s own; launch failures are 125/126/127', (t) => {
  if (!requires(t, abi >= 6, 'Landlock ABI 6+')) return;
  assert.equal(ward(['run', ...BASE, '--', '/bin/sh', '-c', 'exit 7']).status, 7);
  assert.equal(ward(['run', ...BASE, '--', '/bin/sh', '-c', 'kill -KILL $$']).signal, 'SIGKILL');
  const nf = ward(['run', ...BASE, '--', 'no-such-program-ward']);
  assert.equal(nf.status, 127);
  assert.match(nf.stderr, /no-such-program-ward: command not found/);
  const missing = ward(['run', ...BASE, '--ro', '/no/such/dir', '--', '/bin/true']);
  assert.equal(missing.status, 125);
  assert.match(missing.stderr, /--ro \/no\/such\/dir: no such file or directory \(use --ignore-missing to skip missing paths\)/);
  const ignored = ward(['run', ...BASE, '--ro', '/no/such/dir', '--ignore-missing', '--', '/bin/true']);
  assert.equal(ignored.status, 0);
  assert.match(ignored.stderr, /warning: skipped missing path --ro \/no\/such\/dir/);
});

test('strict by default: a sandbox the kernel cannot fully enforce is refused; --best-effort and --soft say what they dropped', (t) => {
  if (!requires(t, abi >= 6 && abi < 10, 'Landlock ABI 6-9 (to ask for more than the kernel has)')) return;
  const strict = ward(['run', ...BASE, '--abi', '10', '--', '/bin/true']);
  assert.equal(strict.status, 125);
  assert.match(strict.stderr, new RegExp(`this kernel has Landlock ABI ${abi} but the sandbox needs ABI 10 for: .*network right bind_udp \\(ABI 10\\).*Nothing was run`));
  const best = ward(['run', ...BASE, '--abi', '10', '--best-effort', '--', '/bin/sh', '-c', 'cat /etc/hostname']);
  assert.notEqual(best.status, 0, 'still sandboxed: the file read is denied');
  assert.match(best.stderr, /warning: not enforced: network right bind_udp \(ABI 10\): not restricted/);
  const soft = ward(['run', ...BASE, '--abi', '10', '--soft', '--', '/bin/sh', '-c', 'cat /etc/hostname >/dev/null && echo read']);
  assert.equal(soft.status, 0);
  assert.equal(soft.stdout, 'read\n', 'no sandbox at all');
  assert.match(soft.stderr, /warning: not enforced: the whole sandbox, because the kernel lacks/);
  assert.equal(ward(['run', '--strict', '--best-effort', '--', '/bin/true']).status, 2);
});

test('--explain and --dry-run print the ruleset; usage errors exit 2', (t) => {
  if (!requires(t, abi >= 6, 'Landlock ABI 6+')) return;
  const dry = ward(['run', ...BASE, '--rw', '/tmp', '--connect-tcp', '443', '--dry-run', '--', '/bin/true']);
  assert.equal(dry.status, 0);
  assert.match(dry.stderr, new RegExp(`^Landlock: kernel ABI ${abi}, sandbox built for ABI ${Math.max(6, Math.min(abi, 10))}: fully enforced`));
  assert.match(dry.stderr, /allow \/tmp \(directory\): write_file read_file read_dir remove_dir remove_file make_char make_dir make_reg make_sock make_fifo make_block make_sym truncate ioctl_dev\s+\[--rw\]/);
  assert.match(dry.stderr, /allow connect tcp port 443/);
  assert.match(dry.stderr, /scopes: abstract_unix_socket confined to the sandbox, signal confined to the sandbox/);
  assert.equal(dry.stdout, '');
  // Which layer enforces what.
  assert.match(dry.stderr, /^layers:$/m);
  assert.match(dry.stderr, /^  seccomp: refuses\n    TIOCSTI and TIOCLINUX ioctls/m);
  assert.match(dry.stderr, /creating unix sockets, so connecting to any pathname unix socket/);
  assert.match(dry.stderr, /^  session: CMD gets its own session \(setsid\)/m, 'ward is not a process-group leader when spawned by the test');
  assert.match(dry.stderr, /^  capabilities: all dropped/m);
  assert.match(dry.stderr, /^  fds: 0-2 reach CMD; every other fd is closed at exec$/m);
  assert.match(dry.stderr, /memfd and other fd-based exec: code run from memory/);
  const kept = ward(['run', ...BASE, '--keep-caps', '--allow-unix-sockets', '--allow-udp', '--keep-env', '--dry-run', '--', '/bin/true']);
  assert.match(kept.stderr, /capabilities: kept \(--keep-caps\)/);
  assert.match(kept.stderr, /unix sockets allowed: every pathname unix socket the file modes allow is reachable/);
  assert.match(kept.stderr, /inet sockets other than TCP and UDP/);
  assert.match(kept.stderr, /environment: the caller's \(--keep-env\)/);
  for (const bad of [['--connect-tcp', 'https'], ['--abi', 'x'], ['--env', '=NONAME'], ['--preserve-fds', '-1'], ['--bogus']]) {
    const r = ward(['run', ...bad, '--', '/bin/true']);
    assert.equal(r.status, 2, `${bad.join(' ')}: ${r.stderr}`);
  }
  assert.match(ward(['run', '--connect-tcp', 'https', '--', '/bin/true']).stderr, /"https" is not a TCP port number/);
});

test('--env and --clear-env shape CMD\'s environment; profiles use the same vocabulary', (t) => {
  if (!requires(t, abi >= 6, 'Landlock ABI 6+')) return;
  const env = ward(['run', ...BASE, '--clear-env', '--env', 'A=1', '--env', 'B=x=y', '--', '/usr/bin/env']);
  assert.equal(env.status, 0, env.stderr);
  assert.equal(env.stdout, 'A=1\nB=x=y\n');
  const dir = mkdtempSync(join(tmpdir(), 'ward-profile-'));
  try {
    const profile = join(dir, 'p.json');
    writeFileSync(profile, JSON.stringify({ rox: ['/usr'], ro: ['/etc/ld.so.cache', '/etc/hostname'] }));
    const r = ward(['run', '--profile', profile, '--', '/bin/cat', '/etc/hostname']);
    assert.equal(r.status, 0, r.stderr);
    writeFileSync(profile, '{"rox": ["/usr"], "conect-tcp": [1]}');
    const bad = ward(['run', '--profile', profile, '--', '/bin/true']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /p\.json: unknown field "conect-tcp"; known fields: .*; did you mean "connect-tcp"\?/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('spawnSandboxed runs a sandboxed child from a Node program', async (t) => {
  if (!requires(t, abi >= 6, 'Landlock ABI 6+')) return;
  const child = spawnSandboxed({ rox: ['/usr'], ro: ['/etc/ld.so.cache'] }, '/bin/sh', ['-c', 'echo inside; cat /etc/hostname'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d));
  child.stderr!.on('data', (d: Buffer) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(out, 'inside\n');
  assert.match(err, /Permission denied/);
  assert.notEqual(code, 0);
});

test('in-process sandboxing is refused before TSYNC (ABI 8), with the reason', (t) => {
  if (!requires(t, abi < 8, 'a kernel without TSYNC')) return;
  assert.throws(() => restrictCurrentProcess({ ro: ['/'] }), (e: Error & { code?: string }) => e.code === 'ENOTSUP' && /needs Landlock ABI 8 \(TSYNC, Linux 7.0\)/.test(e.message));
  // Nothing was restricted: this process can still read what it could.
  assert.equal(spawnSync('/bin/cat', ['/etc/hostname']).status, 0);
});
