// trusted_for on a kernel without AT_EXECVE_CHECK (Debian's 6.1, in the guest): the emulated
// policy (regular file, exec mount, execute permission) over the host test's matrix, checked
// against the guest kernel's own execve; `ward check` says "emulated"; `ward exec` refuses
// clearly because the exec securebits do not exist; `ward node --enforce` still checks files.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync, chmodSync, symlinkSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Scratch, probe } from '../helpers/kernel.ts';
import { inGuest } from '../helpers/vm.ts';
import { ward, WARD_BIN } from '../helpers/cli.ts';
import { execveCheckSupported } from '../../src/kernel/exec-check.ts';
import { trustMechanism, type TrustResult } from '../../src/trust/trusted-for.ts';
import { FLAG_NO_SIGUSR1, PRELOAD } from '../../src/node/launch.ts';

let scratch: Scratch | undefined;
const paths: Record<string, string> = {};
const nofollow: Record<string, string> = {};
const servers: Server[] = [];
const KINDS = ['empty_x', 'empty_nox', 'elf_x', 'elf_nox', 'elf_owner_x', 'dir', 'fifo', 'chardev', 'blockdev', 'symlink'];

function populate(dir: string, prefix: string): void {
  const p = (n: string) => join(dir, n);
  for (const [n, mode] of [['empty_x', 0o755], ['empty_nox', 0o644]] as const) {
    writeFileSync(p(n), '');
    chmodSync(p(n), mode);
  }
  for (const [n, mode] of [['elf_x', 0o755], ['elf_nox', 0o644], ['elf_owner_x', 0o744]] as const) {
    copyFileSync('/bin/true', p(n));
    chmodSync(p(n), mode);
  }
  execFileSync('mkdir', ['-m', '0755', p('dir')]);
  execFileSync('mkfifo', ['-m', '0777', p('fifo')]);
  execFileSync('mknod', ['-m', '0777', p('chardev'), 'c', '1', '3']);
  execFileSync('mknod', ['-m', '0777', p('blockdev'), 'b', '7', '0']);
  symlinkSync(p('elf_x'), p('symlink'));
  for (const n of KINDS) paths[`${prefix}${n}`] = p(n);
  nofollow[`${prefix}symlink_nofollow`] = p('symlink');
}

before(async () => {
  if (process.env.WARD_VM_KERNEL !== '6.1') return;
  scratch = new Scratch('ward-vm-trust-');
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

// The host test's table (the kernel selftest's), which the emulation must reproduce.
function expectedFor(user: 'root' | 'nobody'): Record<string, string | 0> {
  const e: Record<string, string | 0> = {
    'exec/empty_x': 0,
    'exec/empty_nox': 'EACCES',
    'exec/elf_x': 0,
    'exec/elf_nox': 'EACCES',
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
  for (const k of [...KINDS, 'socket']) e[`noexec/${k}`] ??= 'EACCES';
  return e;
}

test('6.1 has no AT_EXECVE_CHECK: trustedFor picks the emulation', (t) => {
  if (!inGuest(t, '6.1')) return;
  assert.equal(execveCheckSupported(), false);
  assert.equal(trustMechanism('auto'), 'emulated');
});

for (const user of ['root', 'nobody'] as const) {
  test(`the check-exec matrix as ${user}, emulated on 6.1`, (t) => {
    if (!inGuest(t, '6.1')) return;
    const actual = probe<Record<string, TrustResult>>('trust', { paths, nofollow, options: {} }, { unprivileged: user === 'nobody' });
    const expected = expectedFor(user);
    const got = Object.fromEntries(Object.keys(expected).map((k) => [k, actual[k]?.trusted ? 0 : actual[k]?.errno]));
    assert.deepEqual(got, expected);
    for (const [k, r] of Object.entries(actual)) {
      assert.equal(r.mechanism, 'emulated', k);
      assert.ok(r.reason.length > 5, `${k} has a reason`);
    }
  });
}

test('the emulated verdict agrees with the 6.1 kernel\'s own execve', (t) => {
  if (!inGuest(t, '6.1')) return;
  const names = ['exec/elf_x', 'exec/elf_nox', 'exec/elf_owner_x', 'exec/symlink', 'noexec/elf_x', 'noexec/symlink', 'exec/dir', 'exec/fifo'];
  const r = ward(['check', '--json', ...names.map((n) => paths[n]!)]);
  const results = (JSON.parse(r.stdout) as { results: TrustResult[] }).results;
  const got = names.map((n, i) => `${n}: ${results[i]!.trusted ? 'trusted' : 'refused'}`);
  // spawnSync reports a failed execve as an error (EACCES…), a program that ran as a status.
  const ran = names.map((n) => `${n}: ${spawnSync(paths[n]!, [], { stdio: 'ignore', timeout: 30_000 }).error === undefined ? 'trusted' : 'refused'}`);
  assert.deepEqual(got, ran);
  assert.ok(got.includes('exec/elf_x: trusted') && got.includes('noexec/elf_x: refused'), 'both answers occur');
});

test('ward check says "emulated"; --mechanism kernel is refused with the reason', (t) => {
  if (!inGuest(t, '6.1')) return;
  const ok = ward(['check', paths['exec/elf_x']!, paths['noexec/elf_x']!]);
  assert.equal(ok.status, 1);
  assert.equal(
    ok.stdout,
    `${paths['exec/elf_x']}: trusted (emulated)\n${paths['noexec/elf_x']}: not trusted: EACCES: the file is on a noexec mount (emulated)\n`,
  );
  const kernel = ward(['check', '--mechanism', 'kernel', paths['exec/elf_x']!]);
  assert.equal(kernel.status, 2);
  assert.match(kernel.stderr, /no AT_EXECVE_CHECK \(Linux 6\.14\+\)/);
});

test('ward exec refuses clearly: this kernel has no exec securebits', (t) => {
  if (!inGuest(t, '6.1')) return;
  for (const flags of [['--restrict-file'], ['--deny-interactive'], ['--restrict-file', '--deny-interactive', '--lock']]) {
    const r = ward(['exec', ...flags, '--', '/bin/echo', 'ran']);
    assert.equal(r.status, 125, r.stderr);
    assert.equal(r.stdout, '', 'the command must not run without the bits');
    assert.match(r.stderr, /no exec securebits.*6\.14/);
    assert.doesNotMatch(r.stderr, /locked/);
  }
});

// ward node on a kernel without the bits: --enforce (or WARD_NODE_ENFORCE=1) checks every file
// of code with the emulated trusted_for and refuses code from nowhere, as both bits would.
test('ward node --enforce on 6.1: the check-exec matrix with Node, emulated', (t) => {
  if (!inGuest(t, '6.1') || !scratch) return;
  const dir = scratch.tmpfs('node');
  const scripts = { x: join(dir, 'script-x.js'), nox: join(dir, 'script-nox.js') };
  for (const [k, p] of Object.entries(scripts)) {
    writeFileSync(p, `#!/usr/bin/env -S ${process.execPath} --require=${PRELOAD} ${FLAG_NO_SIGUSR1} --disallow-code-generation-from-strings\nconsole.log('ran');\n`);
    chmodSync(p, k === 'x' ? 0o755 : 0o644);
  }
  const wardNode = `"${process.execPath}" "${WARD_BIN}" node`;
  const modes = {
    direct: (f: string) => `"${f}"`,
    indirect: (f: string) => `${wardNode} "${f}"`,
    'regular-file stdin': (f: string) => `${wardNode} < "${f}"`,
    pipe: (f: string) => `cat "${f}" | ${wardNode}`,
    '-e code': (f: string) => `${wardNode} -e "$(tail -n +2 "${f}")"`,
  };
  // Under enforcement (both bits' worth): files need the x bit, code from nowhere is refused.
  const enforced: Record<keyof typeof modes, (x: boolean) => boolean> = {
    direct: (x) => x,
    indirect: (x) => x,
    'regular-file stdin': (x) => x,
    pipe: () => false,
    '-e code': () => false,
  };
  const got: Record<string, boolean> = {};
  const want: Record<string, boolean> = {};
  const run = (cmd: string, enforce: boolean): boolean => {
    const r = spawnSync('/bin/sh', ['-c', cmd], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, WARD_NODE_ENFORCE: enforce ? '1' : '0' } });
    const didRun = r.stdout.includes('ran');
    if (!didRun) assert.notEqual(r.status, 0, `a refusal must fail: ${cmd}\n${r.stderr}`);
    if (!didRun && enforce && !cmd.startsWith('"/')) assert.match(r.stderr, /ERR_WARD_(EXEC|CODE)_DENIED/, cmd);
    return didRun;
  };
  for (const [mode, build] of Object.entries(modes) as Array<[keyof typeof modes, (f: string) => string]>) {
    for (const k of ['x', 'nox'] as const) {
      got[`enforce ${mode}/${k}`] = run(build(scripts[k]), true);
      want[`enforce ${mode}/${k}`] = enforced[mode](k === 'x');
    }
  }
  // The same refused cases run without enforcement: the refusals above came from ward.
  for (const [mode, k] of [['indirect', 'nox'], ['pipe', 'x'], ['-e code', 'x']] as const) {
    got[`plain ${mode}/${k}`] = run(modes[mode](scripts[k]), false);
    want[`plain ${mode}/${k}`] = true;
  }
  assert.deepEqual(got, want);
  const refused = spawnSync(process.execPath, [WARD_BIN, 'node', '--enforce', scripts.nox], { encoding: 'utf8' });
  assert.match(refused.stderr, /may not be executed: EACCES: the file has no execute permission for this user/);
});
