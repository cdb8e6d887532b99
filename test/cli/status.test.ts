import { test } from 'node:test';
import assert from 'node:assert/strict';
import { release } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { ward } from '../helpers/cli.ts';
import { IN_CI } from '../helpers/kernel.ts';

test('ward status --json: the capability matrix, consistent with the running kernel', () => {
  const r = ward(['status', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const { items } = JSON.parse(r.stdout) as { items: Array<{ name: string; value: unknown; usable: unknown; meaning: string }> };
  const get = (n: string) => items.find((i) => i.name === n);
  for (const n of ['Landlock ABI', 'Landlock errata', 'AT_EXECVE_CHECK', 'exec securebits', 'fanotify permission events', 'kernel IPE', 'fs-verity', 'dm-verity', 'loadable modules', 'privileges', 'Node.js', 'property boot_verified', 'property fsverity_digest']) {
    assert.ok(get(n), `status has "${n}"`);
    assert.ok(get(n)!.meaning.length > 10, `"${n}" says what it means`);
  }
  const [major, minor] = release().split('.').map(Number) as [number, number];
  assert.equal(get('AT_EXECVE_CHECK')!.value, major > 6 || (major === 6 && minor >= 14));
  // fanotify never claims every exec: what it cannot decide on this machine is named, with the
  // sysctl values read independently here.
  const fan = get('fanotify permission events')!;
  if (fan.value === true) {
    assert.equal(fan.usable, 'partial');
    assert.match(fan.meaning, /not decided here: .*mmap\(PROT_EXEC\)/);
    const memfd = existsSync('/proc/sys/vm/memfd_noexec') ? readFileSync('/proc/sys/vm/memfd_noexec', 'utf8').trim() : undefined;
    if (memfd !== '2') assert.match(fan.meaning, new RegExp(`memfd execution \\(sysctl vm\\.memfd_noexec=${memfd ?? 'absent'};`));
    else assert.doesNotMatch(fan.meaning, /memfd execution/);
    // Filesystems mounted in user namespaces are named while this machine allows them.
    const userns = existsSync('/proc/sys/user/max_user_namespaces') ? readFileSync('/proc/sys/user/max_user_namespaces', 'utf8').trim() : undefined;
    if (userns !== '0') assert.match(fan.meaning, new RegExp(`filesystems users mount in their own user namespaces \\(user\\.max_user_namespaces=${userns ?? '\\?'}; 0 closes it\\)`));
    else assert.doesNotMatch(fan.meaning, /user namespaces/);
  }
  assert.equal(get('Node.js')!.value, process.versions.node);
  if (IN_CI) {
    // The CI machine: Linux 6.18, Landlock ABI 7 with errata 1-3, root, no IPE.
    assert.ok(Number(get('Landlock ABI')!.value) >= 7);
    assert.equal(get('fanotify permission events')!.value, true);
    assert.equal(get('privileges')!.value, 'root');
  }
  const human = ward(['status']);
  assert.match(human.stdout, /^\+ Landlock ABI\s+\d+\n/);
});

test('ward status: every IPE property line says who backs it and what ward reads, in JSON and in text', () => {
  const { items } = JSON.parse(ward(['status', '--json']).stdout) as { items: Array<{ name: string; value: unknown; source?: string; usable: unknown }> };
  const props = items.filter((i) => i.name.startsWith('property '));
  assert.deepEqual(props.map((p) => p.name).sort(), ['boot_verified', 'dmverity_roothash', 'dmverity_signature', 'fsverity_digest', 'fsverity_signature'].map((n) => `property ${n}`));
  for (const p of props) {
    assert.ok(['kernel', 'user-space', 'absent'].includes(String(p.value)), `${p.name}: ${String(p.value)}`);
    assert.ok(typeof p.source === 'string' && p.source.length > 3, `${p.name} has a source`);
    assert.equal(p.usable, p.value !== 'absent', `${p.name}: absent is the only unusable backing`);
  }
  // Without device-mapper in the kernel (this machine's and CI's 6.18), the dm-verity properties
  // are absent and say why; the guest test (dmverity.vm.test.ts) checks the kernel-backed lines.
  if (!existsSync('/dev/mapper/control') && !existsSync('/sys/module/dm_verity')) {
    for (const n of ['dmverity_roothash', 'dmverity_signature']) {
      const p = props.find((x) => x.name === `property ${n}`)!;
      assert.deepEqual([p.value, p.source], ['absent', 'no dm-verity'], n);
    }
  }
  const human = ward(['status']).stdout;
  const escape = (s: string) => s.replace(/[()/\\.*+?[\]{}|^$]/g, '\\$&');
  for (const p of props) assert.match(human, new RegExp(`${p.name}\\s+${String(p.value)} \\(${escape(p.source!)}\\)\\n`), `text line for ${p.name}`);
});

test("ward status names ward run's layers beyond Landlock, with the libseccomp version dpkg installed", () => {
  const { items } = JSON.parse(ward(['status', '--json']).stdout) as { items: Array<{ name: string; value: unknown; usable: unknown; meaning: string }> };
  const layers = items.find((i) => i.name === 'ward run layers');
  assert.ok(layers, 'status has "ward run layers"');
  for (const l of ['session of its own', 'every capability dropped', 'fds 0-2 only', 'clean environment', 'never restricted: memfd']) assert.match(layers.meaning, new RegExp(l));
  // The oracle: the libseccomp2 package dpkg knows (Debian's version string starts with upstream's).
  const r = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'libseccomp2'], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout) {
    assert.equal(layers.value, 'landlock+seccomp');
    assert.equal(layers.usable, true);
    const upstream = r.stdout.split('-')[0]!.replace(/^\d+:/, '');
    assert.match(layers.meaning, new RegExp(`seccomp through libseccomp ${upstream.replaceAll('.', '\\.')}: TIOCSTI/TIOCLINUX, io_uring`));
  } else {
    assert.equal(IN_CI, false, 'CI machines have libseccomp2 (scripts/test-deps.sh)');
    assert.equal(layers.value, 'landlock only');
    assert.match(layers.meaning, /libseccomp cannot be loaded/);
  }
});
