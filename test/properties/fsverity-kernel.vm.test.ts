// fs-verity measured by a kernel that has it (Debian's 6.1, in the guest): an ext4 image made
// with `-b 4096 -O verity` on a loop device, files with fs-verity enabled by Debian's
// `fsverity`. ward takes the kernel's measurement and says so; it equals ward's user-space
// digest, `fsverity digest` and `fsverity measure`; a policy on fsverity_digest decides them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, fstatSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ward } from '../helpers/cli.ts';
import { mountVerityImage } from '../helpers/fsverity.ts';
import { inGuest, VM_SCRATCH } from '../helpers/vm.ts';
import { computeVerityDigest } from '../../src/properties/index.ts';

const dir = join(VM_SCRATCH, 'fsverity');
const mnt = join(dir, 'mnt');
const files: Record<string, { path: string; alg: 'sha256' | 'sha512'; verity: boolean }> = {};

before(() => {
  if (process.env.WARD_VM_KERNEL !== '6.1') return;
  assert.equal(mountVerityImage(dir), mnt);
  const make = (name: string, data: Uint8Array, alg: 'sha256' | 'sha512', verity: boolean) => {
    const path = join(mnt, name);
    writeFileSync(path, data, { mode: 0o755 });
    if (verity) execFileSync('fsverity', ['enable', '--hash-alg', alg, path]);
    files[name] = { path, alg, verity };
  };
  make('empty', new Uint8Array(0), 'sha256', true);
  make('one-byte', Buffer.from('x'), 'sha256', true);
  make('two-levels', randomBytes(128 * 1024 + 1), 'sha256', true);
  make('sha512', randomBytes(5000), 'sha512', true);
  make('plain', randomBytes(3000), 'sha256', false);
  copyFileSync('/bin/true', join(mnt, 'true'));
  execFileSync('fsverity', ['enable', join(mnt, 'true')]);
  files.true = { path: join(mnt, 'true'), alg: 'sha256', verity: true };
});

after(() => {
  if (process.env.WARD_VM_KERNEL !== '6.1') return;
  execFileSync('umount', [mnt]);
  rmSync(dir, { recursive: true, force: true });
});

function userSpace(path: string, alg: 'sha256' | 'sha512'): string {
  const fd = openSync(path, 'r');
  try {
    return `${alg}:${computeVerityDigest(fd, fstatSync(fd).size, alg).toString('hex')}`;
  } finally {
    closeSync(fd);
  }
}

test('ward digest takes the kernel\'s measurement for fs-verity files (and says so), equal to every other source', (t) => {
  if (!inGuest(t, '6.1')) return;
  const names = Object.keys(files);
  const r = ward(['digest', '--json', ...names.map((n) => files[n]!.path)]);
  assert.equal(r.status, 0, r.stderr);
  const results = (JSON.parse(r.stdout) as { results: Array<{ path: string; digest: string; source: string }> }).results;
  for (const [i, name] of names.entries()) {
    const f = files[name]!;
    const got = results[i]!;
    assert.equal(got.source, f.verity ? 'kernel' : 'computed', `${name}: source`);
    const tool = execFileSync('fsverity', ['digest', '--hash-alg', f.alg, f.path], { encoding: 'utf8' }).split(' ')[0];
    assert.equal(got.digest, tool, `${name}: fsverity digest`);
    assert.equal(got.digest, userSpace(f.path, f.alg), `${name}: ward's user-space digest`);
    if (f.verity) {
      const measured = execFileSync('fsverity', ['measure', f.path], { encoding: 'utf8' }).split(' ')[0];
      assert.equal(got.digest, measured, `${name}: the kernel's measurement (fsverity measure)`);
    } else {
      assert.throws(() => execFileSync('fsverity', ['measure', f.path], { stdio: 'pipe' }), 'the kernel has no measurement for a file without fs-verity');
    }
  }
});

test('ward status: fs-verity is backed by the kernel on 6.1', (t) => {
  if (!inGuest(t, '6.1')) return;
  const items = (JSON.parse(ward(['status', '--json']).stdout) as { items: Array<{ name: string; value: unknown; meaning: string }> }).items;
  const fv = items.find((i) => i.name === 'fs-verity');
  assert.equal(fv?.value, true, fv?.meaning);
  assert.equal(items.find((i) => i.name === 'property fsverity_digest')?.value, 'kernel');
});

test('a policy on fsverity_digest decides the fs-verity files by the kernel\'s digest', (t) => {
  if (!inGuest(t, '6.1')) return;
  const measure = (p: string) => execFileSync('fsverity', ['measure', p], { encoding: 'utf8' }).split(' ')[0]!;
  const policy = join(dir, 'digest.pol');
  writeFileSync(
    policy,
    [
      'policy_name=vm-digest policy_version=0.0.1',
      'DEFAULT action=ALLOW',
      'DEFAULT op=EXECUTE action=DENY',
      `op=EXECUTE fsverity_digest=${measure(files.true!.path)} action=ALLOW`,
      `op=EXECUTE fsverity_digest=${measure(files.sha512!.path)} action=ALLOW`,
      '',
    ].join('\n'),
  );
  const names = ['true', 'sha512', 'one-byte', 'two-levels', 'plain', 'empty'];
  const r = ward(['policy', 'eval', policy, ...names.map((n) => files[n]!.path), '--op', 'EXECUTE', '--json']);
  const results = (JSON.parse(r.stdout) as { results: Array<{ action: string; line?: number }> }).results;
  const got = Object.fromEntries(names.map((n, i) => [n, `${results[i]!.action}@${results[i]!.line}`]));
  assert.deepEqual(got, { true: 'ALLOW@4', sha512: 'ALLOW@5', 'one-byte': 'DENY@3', 'two-levels': 'DENY@3', plain: 'DENY@3', empty: 'DENY@3' });
  // The kernel keeps the file from changing: writing to an fs-verity file is refused.
  assert.throws(() => writeFileSync(files.true!.path, 'changed'), { code: 'EPERM' });
});
