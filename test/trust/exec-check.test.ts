// The AT_EXECVE_CHECK access matrix of the kernel selftest (tools/testing/selftests/exec/
// check-exec.c), on tmpfs mounts made here: exec and noexec × file kinds, memfd, pipe,
// ETXTBSY, symlink with NOFOLLOW — as root and as nobody, through the kernel and through the
// emulated trusted_for policy.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync, chmodSync, symlinkSync, openSync, closeSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Scratch, IS_ROOT, probe, requires } from '../helpers/kernel.ts';
import { execveCheckSupported } from '../../src/kernel/exec-check.ts';
import { trustedFor, type TrustResult } from '../../src/trust/trusted-for.ts';
import { ward, WARD_BIN } from '../helpers/cli.ts';

let scratch: Scratch;
const paths: Record<string, string> = {};
const nofollow: Record<string, string> = {};
const servers: Server[] = [];

function populate(dir: string, prefix: string): void {
  const p = (n: string) => join(dir, n);
  writeFileSync(p('empty_x'), '');
  chmodSync(p('empty_x'), 0o755);
  writeFileSync(p('empty_nox'), '');
  chmodSync(p('empty_nox'), 0o644);
  copyFileSync('/bin/true', p('elf_x'));
  chmodSync(p('elf_x'), 0o755);
  copyFileSync('/bin/true', p('elf_nox'));
  chmodSync(p('elf_nox'), 0o644);
  copyFileSync('/bin/true', p('elf_owner_x'));
  chmodSync(p('elf_owner_x'), 0o744);
  execFileSync('mkdir', ['-m', '0755', p('dir')]);
  execFileSync('mkfifo', ['-m', '0777', p('fifo')]);
  execFileSync('mknod', ['-m', '0777', p('chardev'), 'c', '1', '3']);
  execFileSync('mknod', ['-m', '0777', p('blockdev'), 'b', '7', '0']);
  symlinkSync(p('elf_x'), p('symlink'));
  for (const n of ['empty_x', 'empty_nox', 'elf_x', 'elf_nox', 'elf_owner_x', 'dir', 'fifo', 'chardev', 'blockdev', 'symlink']) {
    paths[`${prefix}${n}`] = p(n);
  }
  nofollow[`${prefix}symlink_nofollow`] = p('symlink');
}

before(async () => {
  if (!IS_ROOT) return;
  scratch = new Scratch('ward-execcheck-');
  populate(scratch.tmpfs('exec'), 'exec/');
  populate(scratch.tmpfs('noexec', ['noexec']), 'noexec/');
  for (const m of ['exec', 'noexec']) {
    const sock = join(scratch.root, m, 'socket');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    chmodSync(sock, 0o777);
    servers.push(server);
    paths[`${m}/socket`] = sock;
  }
});

after(() => {
  for (const s of servers) s.close();
  scratch?.cleanup();
});

type Expect = Record<string, string | 0>;

// Expected errno (0 = allowed) for root; the selftest's table.
function expectedFor(user: 'root' | 'nobody'): Expect {
  const e: Expect = {
    'exec/empty_x': 0,
    'exec/empty_nox': 'EACCES',
    'exec/elf_x': 0,
    'exec/elf_nox': 'EACCES',
    // root needs any x bit; others need theirs.
    'exec/elf_owner_x': user === 'root' ? 0 : 'EACCES',
    'exec/dir': 'EACCES',
    'exec/fifo': 'EACCES',
    'exec/socket': 'EACCES',
    'exec/chardev': 'EACCES',
    'exec/blockdev': 'EACCES',
    'exec/symlink': 0,
    'exec/symlink_nofollow': 'ELOOP',
    'noexec/symlink_nofollow': 'ELOOP',
    memfd_0700: 0,
    memfd_0600: 'EACCES',
    pipe: 'EACCES',
  };
  for (const k of ['empty_x', 'empty_nox', 'elf_x', 'elf_nox', 'elf_owner_x', 'dir', 'fifo', 'socket', 'chardev', 'blockdev', 'symlink']) {
    e[`noexec/${k}`] = 'EACCES';
  }
  return e;
}

function compare(actual: Record<string, TrustResult>, expected: Expect, mechanism: string): void {
  const got = Object.fromEntries(Object.keys(expected).map((k) => [k, actual[k]?.trusted ? 0 : actual[k]?.errno]));
  assert.deepEqual(got, expected);
  for (const [k, r] of Object.entries(actual)) {
    assert.equal(r.mechanism, mechanism, k);
    assert.ok(r.reason.length > 5, `${k} has a reason`);
  }
}

for (const user of ['root', 'nobody'] as const) {
  for (const mechanism of ['kernel', 'emulated'] as const) {
    test(`AT_EXECVE_CHECK matrix as ${user}, mechanism ${mechanism}`, (t) => {
      if (!requires(t, IS_ROOT, 'root (to mount tmpfs and create devices)')) return;
      if (mechanism === 'kernel' && !requires(t, execveCheckSupported(), 'AT_EXECVE_CHECK (Linux 6.14+)')) return;
      const actual = probe<Record<string, TrustResult>>('trust', { paths, nofollow, options: { mechanism } }, { unprivileged: user === 'nobody' });
      compare(actual, expectedFor(user), mechanism);
    });
  }
}

test('the kernel reports ETXTBSY for a file open for writing; the emulation cannot see it (documented)', (t) => {
  if (!requires(t, IS_ROOT, 'root')) return;
  if (!requires(t, execveCheckSupported(), 'AT_EXECVE_CHECK')) return;
  const file = join(scratch.root, 'exec', 'busy');
  copyFileSync('/bin/true', file);
  chmodSync(file, 0o755);
  const w = openSync(file, 'r+');
  try {
    assert.equal(trustedFor(file).errno, 'ETXTBSY');
    assert.equal(trustedFor(file).reason, 'the file is open for writing');
    assert.equal(trustedFor(file, 'execution', { mechanism: 'emulated' }).trusted, true);
    const asNobody = probe<Record<string, TrustResult>>('trust', { paths: { busy: file }, options: { mechanism: 'kernel' } }, { unprivileged: true });
    assert.equal(asNobody.busy?.errno, 'ETXTBSY');
  } finally {
    closeSync(w);
  }
  assert.equal(trustedFor(file).trusted, true, 'allowed again once the writer is gone');
});

test('the kernel answer agrees with a real execve of the same files', (t) => {
  if (!requires(t, IS_ROOT, 'root')) return;
  for (const name of ['exec/elf_x', 'exec/elf_nox', 'noexec/elf_x', 'exec/dir']) {
    const r = ward(['check', paths[name]!]);
    // spawnSync reports a failed execve as an error code (EACCES…), a run program as a status.
    const ran = spawnSync(paths[name]!, [], { stdio: 'ignore' }).error === undefined;
    assert.equal(r.status === 0, ran, `${name}: ward check ${r.status === 0 ? 'trusted' : 'refused'} it, execve ${ran ? 'ran' : 'failed'}`);
  }
});

test('ward check: one line per file, exit 0/1/2, --json, and stdin checked like an interpreter', (t) => {
  if (!requires(t, IS_ROOT, 'root')) return;
  const ok = ward(['check', paths['exec/elf_x']!]);
  assert.equal(ok.status, 0);
  assert.equal(ok.stdout, `${paths['exec/elf_x']}: trusted (kernel)\n`);
  const mixed = ward(['check', paths['exec/elf_x']!, paths['noexec/elf_x']!, '--json']);
  assert.equal(mixed.status, 1);
  const doc = JSON.parse(mixed.stdout) as { trusted: boolean; results: Array<TrustResult & { path: string }> };
  assert.equal(doc.trusted, false);
  assert.deepEqual(doc.results.map((r) => [r.trusted, r.errno]), [[true, undefined], [false, 'EACCES']]);
  assert.equal(doc.results[1]!.reason, 'the file is on a noexec mount');
  const human = ward(['check', paths['exec/elf_nox']!]);
  assert.equal(human.stdout, `${paths['exec/elf_nox']}: not trusted: EACCES: the file has no execute permission for this user (kernel)\n`);
  // Standard input: a regular executable file passes, a pipe does not.
  const fileStdin = ward(['check', '-'], { stdio: [openSync(paths['exec/elf_x']!, 'r'), 'pipe', 'pipe'] });
  assert.equal(fileStdin.status, 0, fileStdin.stdout + fileStdin.stderr);
  // A real pipe (Node's own `input` would be a socketpair).
  const sh = spawnSync('/bin/sh', ['-c', `echo 'echo hi' | "${process.execPath}" "${WARD_BIN}" check -`], { encoding: 'utf8' });
  const pipeStdin = { status: sh.status, stdout: sh.stdout };
  assert.equal(pipeStdin.status, 1);
  assert.match(pipeStdin.stdout, /^<stdin>: not trusted: EACCES: a FIFO or pipe cannot be trusted/);
  assert.equal(ward(['check']).status, 2);
  assert.equal(ward(['check', '--mechanism', 'maybe', '/bin/true']).status, 2);
  const missing = ward(['check', join(scratch.root, 'nope')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stdout, /not trusted: ENOENT: cannot open: no such file/);
});

test('a denial the mount and mode allow is explained as a security policy (Landlock here)', (t) => {
  if (!requires(t, IS_ROOT, 'root')) return;
  // Landlock handling EXECUTE with no rule for the file: the kernel says EACCES although the file
  // is executable on an exec mount. Run in a child: restrict_self binds the calling thread.
  const script = `
    import { createRuleset, restrictSelf } from ${JSON.stringify(new URL('../../src/kernel/landlock.ts', import.meta.url).href)};
    import { setNoNewPrivs } from ${JSON.stringify(new URL('../../src/kernel/securebits.ts', import.meta.url).href)};
    import { trustedFor } from ${JSON.stringify(new URL('../../src/trust/trusted-for.ts', import.meta.url).href)};
    setNoNewPrivs();
    restrictSelf(createRuleset({ handledAccessFs: 1n, handledAccessNet: 0n, scoped: 0n }));
    console.log(JSON.stringify(trustedFor(${JSON.stringify(paths['exec/elf_x'])})));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  const r = JSON.parse(out) as TrustResult;
  assert.equal(r.errno, 'EACCES');
  assert.match(r.reason, /security policy/);
});
