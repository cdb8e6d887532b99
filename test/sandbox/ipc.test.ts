// The review's second round against ward run: kernel objects Landlock does not mediate that a
// sandboxed process shares with processes outside of the same user — SysV IPC (a shared memory
// segment is named by a number and checked only against its mode) and the user's keyrings
// (per user, not per process tree). As root and as nobody, with controls: the same access works
// without ward and with the opt-out flag, so the refusal is ward's seccomp layer.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { IS_ROOT, NOBODY, NOGROUP, PROBE, requires } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';
import { landlockAbi } from '../../src/kernel/landlock.ts';

const canRun = IS_ROOT && landlockAbi() >= 6 && process.arch === 'x64';
const BASE = ['--rox', '/usr', '--ro', '/etc/ld.so.cache', '--rw', '/dev/null'];
const cleanups: Array<() => void> = [];
after(() => {
  for (const c of cleanups) c();
});

type As = 'root' | 'nobody';
const asUser = (as: As) => (as === 'nobody' ? { uid: NOBODY, gid: NOGROUP } : {});

function perl(script: string, as: As): { status: number | null; out: string } {
  const r = spawnSync('perl', ['-e', script], { encoding: 'utf8', timeout: 30_000, cwd: '/', ...asUser(as) });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function wardRun(flags: string[], script: string, as: As): string {
  const argv = ['run', ...BASE, ...flags, '--', '/usr/bin/perl', '-e', script];
  const node = as === 'root' ? [WARD_BIN, ...argv] : [PROBE, 'wardExec', JSON.stringify({ argv }), 'drop'];
  const r = spawnSync(process.execPath, node, { encoding: 'utf8', timeout: 30_000, cwd: '/' });
  return `${r.stdout}${r.stderr}`;
}

// x86_64 numbers (arch/x86/entry/syscalls/syscall_64.tbl): add_key 248, keyctl 250;
// KEY_SPEC_USER_KEYRING -4, KEYCTL_SEARCH 10, KEYCTL_READ 11, KEYCTL_INVALIDATE 21.
// perl's syscall passes strings as pointers and wants them writable: variables, not literals.
const READ_KEY = (desc: string) => `my ($t, $d) = ("user", "${desc}"); $k = syscall(250, 10, -4, $t, $d, 0); die "keyctl search: $!\\n" if $k < 0; $b = "\\0" x 64; $n = syscall(250, 11, $k, $b, 64); die "keyctl read: $!\\n" if $n < 0; print "key: ", substr($b, 0, $n), "\\n"`;
const SHM = (id: number) => `shmread(${id}, $v, 0, 11) or die "shmread: $!\\n"; print "read: $v\\n"; shmwrite(${id}, "TAMPERED!!!", 0, 11) or die "shmwrite: $!\\n"; print "written\\n"`;

for (const as of ['root', 'nobody'] as const) {
  test(`[${as}] SysV shared memory of a process outside is refused; --allow-sysv-ipc opens it`, (t) => {
    if (!requires(t, canRun, 'root, Landlock ABI 6+, x86_64')) return;
    // IPC_PRIVATE (0), 4096 bytes, IPC_CREAT|0600: a segment only its owner's processes may attach.
    const made = perl(`$id = shmget(0, 4096, 01000 | 0600); die "shmget: $!\\n" unless defined $id; shmwrite($id, "host secret", 0, 11) or die; print "$id\\n"`, as);
    assert.equal(made.status, 0, made.out);
    const id = Number(made.out.trim());
    cleanups.push(() => perl(`shmctl(${id}, 0, 0)`, as)); // IPC_RMID
    const control = perl(SHM(id), as);
    assert.match(control.out, /read: host secret/, `control: the segment is reachable by number without ward: ${control.out}`);
    perl(`shmwrite(${id}, "host secret", 0, 11)`, as);
    const denied = wardRun([], SHM(id), as);
    assert.match(denied, /shmread: Operation not permitted/, denied);
    assert.equal(perl(`shmread(${id}, $v, 0, 11); print $v`, as).out, 'host secret', 'the segment was not changed from inside');
    const allowed = wardRun(['--allow-sysv-ipc'], SHM(id), as);
    assert.match(allowed, /read: host secret\nwritten/, allowed);
  });

  test(`[${as}] the user's keyring (a key the caller added) is refused; --allow-keyrings opens it`, (t) => {
    if (!requires(t, canRun, 'root, Landlock ABI 6+, x86_64')) return;
    const desc = `ward-test-${process.pid}-${as}`;
    const made = perl(`my ($t, $d, $p) = ("user", "${desc}", "key secret"); $k = syscall(248, $t, $d, $p, 10, -4); die "add_key: $!\\n" if $k < 0; print "$k\\n"`, as);
    assert.equal(made.status, 0, made.out);
    cleanups.push(() => perl(`syscall(250, 21, ${Number(made.out.trim())})`, as));
    const control = perl(READ_KEY(desc), as);
    assert.match(control.out, /key: key secret/, `control: ${control.out}`);
    const denied = wardRun([], READ_KEY(desc), as);
    assert.match(denied, /keyctl search: Operation not permitted/, denied);
    const allowed = wardRun(['--allow-keyrings'], READ_KEY(desc), as);
    assert.match(allowed, /key: key secret/, allowed);
  });
}

test('--explain names the SysV IPC and keyring refusals and their flags', (t) => {
  if (!requires(t, canRun, 'root, Landlock ABI 6+, x86_64')) return;
  const r = spawnSync(process.execPath, [WARD_BIN, 'run', ...BASE, '--dry-run', '--', '/bin/true'], { encoding: 'utf8' });
  assert.match(r.stderr, /SysV IPC: shared memory, message queues, semaphores .*--allow-sysv-ipc/);
  assert.match(r.stderr, /the kernel keyrings: add_key, request_key, keyctl .*--allow-keyrings/);
  const opened = spawnSync(process.execPath, [WARD_BIN, 'run', ...BASE, '--allow-sysv-ipc', '--allow-keyrings', '--dry-run', '--', '/bin/true'], { encoding: 'utf8' });
  assert.match(opened.stderr, /not restricted:[\s\S]*SysV IPC objects of the caller's IPC namespace \(--allow-sysv-ipc\)[\s\S]*the user's keyrings \(--allow-keyrings\)/);
});
