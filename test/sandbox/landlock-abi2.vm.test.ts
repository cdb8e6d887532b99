// Landlock negotiation against a real old ABI: Debian's 6.1 has Landlock ABI 2 (files with
// refer; no truncate, TCP, device ioctl or scopes). Strict refuses naming what is missing,
// --best-effort runs with what ABI 2 enforces and says what it dropped, --soft runs unsandboxed
// and says so, and `ward status` reports ABI 2.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ward } from '../helpers/cli.ts';
import { inGuest, VM_SCRATCH } from '../helpers/vm.ts';
import { landlockAbi } from '../../src/kernel/landlock.ts';

const BASE = ['--rox', '/usr', '--ro', '/etc/ld.so.cache'];

test('the 6.1 kernel has Landlock ABI 2 and ward status says so', (t) => {
  if (!inGuest(t, '6.1')) return;
  assert.equal(landlockAbi(), 2);
  const r = ward(['status', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const items = (JSON.parse(r.stdout) as { items: Array<{ name: string; value: unknown; usable: unknown }> }).items;
  const ll = items.find((i) => i.name === 'Landlock ABI');
  assert.deepEqual([ll?.value, ll?.usable], [2, 'partial']);
});

test('strict (the default) refuses on ABI 2, naming every missing right; nothing runs', (t) => {
  if (!inGuest(t, '6.1')) return;
  const r = ward(['run', ...BASE, '--', '/bin/echo', 'ran']);
  assert.equal(r.status, 125, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /this kernel has Landlock ABI 2 but the sandbox needs ABI 6 for: /);
  for (const missing of [/truncate \(ABI 3\)/, /(bind|connect)_tcp \(ABI 4\)/, /ioctl_dev \(ABI 5\)/, /signal \(ABI 6\)/, /abstract_unix_socket \(ABI 6\)/]) {
    assert.match(r.stderr, missing);
  }
  assert.match(r.stderr, /Nothing was run/);
  // Asking for no more than ABI 2 gives is fully enforced, strict or not.
  const two = ward(['run', ...BASE, '--abi', '2', '--', '/bin/echo', 'ran']);
  assert.equal(two.status, 0, two.stderr);
  assert.equal(two.stdout, 'ran\n');
});

test('--best-effort runs under the ABI 2 sandbox and reports what it dropped', (t) => {
  if (!inGuest(t, '6.1')) return;
  const dir = join(VM_SCRATCH, 'landlock');
  mkdirSync(join(dir, 'a'), { recursive: true });
  mkdirSync(join(dir, 'b'), { recursive: true });
  writeFileSync(join(dir, 'a', 'f'), 'x');
  writeFileSync(join(dir, 'secret'), 'secret');
  const sh = (script: string, extra: string[] = []) => ward(['run', ...BASE, '--best-effort', ...extra, '--', '/bin/sh', '-c', script]);
  // Still sandboxed: reading outside the rules is denied by the 6.1 kernel.
  const read = sh(`cat ${dir}/secret`);
  assert.notEqual(read.status, 0);
  assert.match(read.stderr, /Permission denied/);
  assert.match(read.stderr, /warning: not enforced: filesystem right truncate \(ABI 3\): not restricted/);
  assert.match(read.stderr, /warning: not enforced: scope signal \(ABI 6\): not restricted/);
  // What ABI 2 does enforce: writes under --rw work, writes elsewhere fail, and refer (ABI 2)
  // makes a cross-directory rename EXDEV (handled with no right for it), not EACCES.
  const rw = sh(`echo y > ${dir}/a/g && ! echo z > ${dir}/secret && cat ${dir}/a/g && python3 -c "import os; os.rename('${dir}/a/f', '${dir}/b/f')"`, ['--rw', join(dir, 'a'), '--rw', join(dir, 'b')]);
  assert.match(rw.stdout, /^y\n/, rw.stderr);
  assert.match(rw.stderr, /Errno 18\] Invalid cross-device link/);
});

test('--soft runs without any sandbox on ABI 2, and says so', (t) => {
  if (!inGuest(t, '6.1')) return;
  const soft = ward(['run', ...BASE, '--soft', '--', '/bin/sh', '-c', 'cat /etc/hostname >/dev/null && echo read']);
  assert.equal(soft.status, 0, soft.stderr);
  assert.equal(soft.stdout, 'read\n');
  assert.match(soft.stderr, /warning: not enforced: the whole sandbox, because the kernel lacks/);
});
