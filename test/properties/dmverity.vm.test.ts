// dm-verity on a kernel that has it (Debian's 6.1, in the guest): a `veritysetup` device with an
// ext4 filesystem on it. What ward reads from the kernel for files there (dmverity_signature:
// FALSE off device-mapper, unknown on it; dmverity_roothash: not read yet, so it never matches —
// docs/kernels.md lists what is missing), what `ward status` says, and a corrupted block refused
// by the kernel and reported by ward as an I/O error, not a digest.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ward } from '../helpers/cli.ts';
import { inGuest, VM_SCRATCH } from '../helpers/vm.ts';

const dir = join(VM_SCRATCH, 'dmverity');
const src = join(dir, 'src');
const mnt = join(dir, 'mnt');
const NAME = 'ward-vm-verity';
let rootHash = '';
let dataImg = '';

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

before(() => {
  if (process.env.WARD_VM_KERNEL !== '6.1') return;
  mkdirSync(src, { recursive: true });
  mkdirSync(mnt, { recursive: true });
  copyFileSync('/bin/true', join(src, 'true'));
  writeFileSync(join(src, 'big'), Buffer.alloc(256 * 1024, 0x61));
  dataImg = join(dir, 'data.img');
  const hashImg = join(dir, 'hash.img');
  execFileSync('truncate', ['-s', '8M', dataImg]);
  execFileSync('mkfs.ext4', ['-q', '-b', '4096', '-d', src, dataImg]);
  const format = sh('veritysetup', ['format', dataImg, hashImg]);
  rootHash = /Root hash:\s+([0-9a-f]+)/.exec(format)![1]!;
  sh('modprobe', ['loop']);
  sh('veritysetup', ['open', dataImg, NAME, hashImg, rootHash]);
  sh('mount', ['-o', 'ro', `/dev/mapper/${NAME}`, mnt]);
});

after(() => {
  if (process.env.WARD_VM_KERNEL !== '6.1') return;
  spawnSync('umount', [mnt]);
  spawnSync('veritysetup', ['close', NAME]);
  rmSync(dir, { recursive: true, force: true });
});

test('the kernel verifies the device: its table carries the root hash veritysetup made', (t) => {
  if (!inGuest(t, '6.1')) return;
  assert.match(sh('dmsetup', ['table', NAME]), new RegExp(` verity .* sha256 ${rootHash} `));
  assert.deepEqual(readFileSync(join(mnt, 'true')), readFileSync('/bin/true'));
});

test('ward status: dm-verity is present (and says the root hash is not read yet)', (t) => {
  if (!inGuest(t, '6.1')) return;
  const items = (JSON.parse(ward(['status', '--json']).stdout) as { items: Array<{ name: string; value: unknown; meaning: string }> }).items;
  const dm = items.find((i) => i.name === 'dm-verity');
  assert.equal(dm?.value, true);
  assert.match(dm!.meaning, /does not read root hashes/);
  assert.equal(items.find((i) => i.name === 'property dmverity_signature')?.value, 'kernel');
});

test('policies on dmverity_* decide files on and off the verity device as documented', (t) => {
  if (!inGuest(t, '6.1')) return;
  const policy = join(dir, 'dm.pol');
  writeFileSync(
    policy,
    [
      'policy_name=vm-dm policy_version=0.0.1',
      'DEFAULT action=ALLOW',
      'DEFAULT op=EXECUTE action=DENY',
      `op=EXECUTE dmverity_roothash=sha256:${rootHash} action=ALLOW`,
      'op=EXECUTE dmverity_signature=FALSE action=ALLOW',
      '',
    ].join('\n'),
  );
  const offDevice = join(dir, 'true-off-device');
  copyFileSync('/bin/true', offDevice);
  const r = ward(['policy', 'eval', policy, join(mnt, 'true'), offDevice, '--op', 'EXECUTE', '--json']);
  const results = (JSON.parse(r.stdout) as { results: Array<{ action: string; line: number }> }).results;
  // On the device: the kernel's IPE would match line 4 (the root hash) and, for an unsigned
  // root hash, line 5; ward reads neither yet, so neither matches: DENY (the safe side).
  assert.deepEqual(results.map((x) => `${x.action}@${x.line}`), ['DENY@3', 'ALLOW@5']);
});

test('a corrupted block is refused by the kernel, and ward reports an I/O error, not a digest', (t) => {
  if (!inGuest(t, '6.1')) return;
  // Find the file's data on the image and flip a byte under the mounted verity device.
  const img = readFileSync(dataImg);
  const at = img.indexOf(Buffer.alloc(4096, 0x61));
  assert.ok(at > 0, 'the file data is on the image');
  const fd = openSync(dataImg, 'r+');
  writeSync(fd, Buffer.from('b'), 0, 1, at + 4096 * 10);
  closeSync(fd);
  sh('sh', ['-c', 'echo 3 > /proc/sys/vm/drop_caches']);
  assert.throws(() => readFileSync(join(mnt, 'big')), { code: 'EIO' });
  const r = ward(['digest', join(mnt, 'big')]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /big: EIO/);
});
