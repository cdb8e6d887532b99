// dm-verity on a kernel that has it (Debian's 6.1, in the guest): `veritysetup` devices with an
// ext4 filesystem on them. ward reads dmverity_roothash and dmverity_signature from the kernel
// (the device-mapper table of the file's block device); the values are compared with
// `veritysetup status` and `dmsetup table` (independent tools), policies decide files on and off
// the devices, and a corrupted block is refused by the kernel and reported by ward as an I/O error.
// A signature the kernel verified (dmverity_signature=TRUE) needs a key the kernel trusts: 6.1
// checks root-hash signatures against the secondary keyring only, which accepts only keys signed
// by a built-in one, so TRUE is tested on 6.12 (test/policy/ipe-dmverity.vm-6.12.test.ts).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { WARD_BIN, ward } from '../helpers/cli.ts';
import { exec, TestDaemon } from '../helpers/daemon.ts';
import { inGuest, VM_SCRATCH } from '../helpers/vm.ts';

const dir = join(VM_SCRATCH, 'dmverity');
const NAME = 'ward-vm-verity';
const OTHER = 'ward-vm-verity-2';
const LINEAR = 'ward-vm-linear';
const mnt = join(dir, 'mnt');
const mnt2 = join(dir, 'mnt2');
const mntLinear = join(dir, 'mnt-linear');
let rootHash = '';
let otherHash = '';
let dataImg = '';

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** An ext4 image holding `true` (and `big`), formatted for dm-verity; returns the root hash. */
function verityImage(name: string, big: boolean): { data: string; hash: string; rootHash: string } {
  const src = join(dir, `${name}-src`);
  mkdirSync(src, { recursive: true });
  copyFileSync('/bin/true', join(src, 'true'));
  if (big) writeFileSync(join(src, 'big'), Buffer.alloc(256 * 1024, 0x61));
  const data = join(dir, `${name}.img`);
  const hash = join(dir, `${name}.hash`);
  execFileSync('truncate', ['-s', '8M', data]);
  execFileSync('mkfs.ext4', ['-q', '-b', '4096', '-d', src, data]);
  const format = sh('veritysetup', ['format', data, hash]);
  return { data, hash, rootHash: /Root hash:\s+([0-9a-f]+)/.exec(format)![1]! };
}

before(() => {
  if (process.env.WARD_VM_KERNEL !== '6.1') return;
  for (const m of [mnt, mnt2, mntLinear]) mkdirSync(m, { recursive: true });
  sh('modprobe', ['loop']);
  const a = verityImage('a', true);
  const b = verityImage('b', false); // another filesystem: another root hash
  dataImg = a.data;
  rootHash = a.rootHash;
  otherHash = b.rootHash;
  sh('veritysetup', ['open', a.data, NAME, a.hash, a.rootHash]);
  sh('veritysetup', ['open', b.data, OTHER, b.hash, b.rootHash]);
  sh('mount', ['-o', 'ro', `/dev/mapper/${NAME}`, mnt]);
  sh('mount', ['-o', 'ro', `/dev/mapper/${OTHER}`, mnt2]);
  // A device-mapper device that is not verity: a linear map of a loop device.
  const lin = join(dir, 'linear.img');
  execFileSync('truncate', ['-s', '8M', lin]);
  const src = join(dir, 'linear-src');
  mkdirSync(src, { recursive: true });
  copyFileSync('/bin/true', join(src, 'true'));
  execFileSync('mkfs.ext4', ['-q', '-b', '4096', '-d', src, lin]);
  const loop = sh('losetup', ['--find', '--show', lin]).trim();
  sh('dmsetup', ['create', LINEAR, '--table', `0 ${(8 * 1024 * 1024) / 512} linear ${loop} 0`]);
  sh('dmsetup', ['mknodes', LINEAR]); // no udev in the guest to make /dev/mapper/NAME
  sh('mount', ['-o', 'ro', `/dev/mapper/${LINEAR}`, mntLinear]);
});

after(() => {
  if (process.env.WARD_VM_KERNEL !== '6.1') return;
  for (const m of [mnt, mnt2, mntLinear]) spawnSync('umount', [m]);
  spawnSync('veritysetup', ['close', NAME]);
  spawnSync('veritysetup', ['close', OTHER]);
  spawnSync('dmsetup', ['remove', LINEAR]);
  rmSync(dir, { recursive: true, force: true });
});

interface EvalResult {
  path: string;
  action: string;
  line: number;
  properties: Record<string, boolean | string | null>;
}

function evalFiles(policyLines: string[], files: string[], opts: Parameters<typeof ward>[1] = {}): EvalResult[] {
  const policy = join(dir, 'p.pol');
  writeFileSync(policy, ['policy_name=vm-dm policy_version=0.0.1', ...policyLines, ''].join('\n'));
  chmodSync(policy, 0o644);
  const r = ward(['policy', 'eval', policy, ...files, '--op', 'EXECUTE', '--json'], opts);
  return (JSON.parse(r.stdout) as { results: EvalResult[] }).results;
}

test('the kernel verifies the devices: their tables carry the root hashes veritysetup made', (t) => {
  if (!inGuest(t, '6.1')) return;
  assert.match(sh('dmsetup', ['table', NAME]), new RegExp(` verity .* sha256 ${rootHash} `));
  assert.match(sh('veritysetup', ['status', OTHER]), new RegExp(`root hash:\\s+${otherHash}`));
  assert.notEqual(rootHash, otherHash);
  assert.deepEqual(readFileSync(join(mnt, 'true')), readFileSync('/bin/true'));
});

/** A file on the guest's scratch tmpfs: no block device at all. */
function tmpfsFile(): string {
  const p = join(dir, 'true-on-tmpfs');
  copyFileSync('/bin/true', p);
  chmodSync(p, 0o755);
  return p;
}

test('ward reads each file\'s root hash from the kernel: equal to veritysetup status and dmsetup table', (t) => {
  if (!inGuest(t, '6.1')) return;
  const files = [join(mnt, 'true'), join(mnt2, 'true'), join(mntLinear, 'true'), tmpfsFile(), '/bin/true'];
  // A policy that asks both properties of every file (no rule matches before them).
  const got = evalFiles(['DEFAULT action=ALLOW', 'op=EXECUTE dmverity_roothash=sha256:00 action=DENY', 'op=EXECUTE dmverity_signature=TRUE action=DENY'], files);
  const hashOf = (name: string) => {
    const status = sh('veritysetup', ['status', name]);
    const alg = /hash name:\s+(\S+)/.exec(status)![1]!;
    const hex = /root hash:\s+([0-9a-f]+)/.exec(status)![1]!;
    // dmsetup reads the same table through libdevmapper: field 8 is the algorithm, 9 the digest.
    const fields = sh('dmsetup', ['table', name]).trim().split(' ');
    assert.equal(`${fields[10]}:${fields[11]}`, `${alg}:${hex}`, 'dmsetup and veritysetup agree');
    return `${alg}:${hex}`;
  };
  assert.deepEqual(
    got.map((r) => [r.properties.dmverity_roothash, r.properties.dmverity_signature]),
    [
      [hashOf(NAME), false], // unsigned verity device: FALSE (6.1 has CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG)
      [hashOf(OTHER), false],
      [null, false], // a linear dm device: no root hash, not signed
      [null, false], // tmpfs: no block device
      // The guest's root is overlayfs, whose st_dev is not the block device the kernel would
      // use (the real inode's): ward cannot tell, so both are unknown (never a match).
      [null, null],
    ],
  );
  assert.equal(got[0]!.properties.dmverity_roothash, `sha256:${rootHash}`);
});

test('a policy on dmverity_roothash decides files on the device; other root hashes and other devices do not match', (t) => {
  if (!inGuest(t, '6.1')) return;
  const files = [join(mnt, 'true'), join(mnt2, 'true'), join(mntLinear, 'true'), tmpfsFile()];
  const allowOnly = evalFiles(['DEFAULT action=ALLOW', 'DEFAULT op=EXECUTE action=DENY', `op=EXECUTE dmverity_roothash=sha256:${rootHash} action=ALLOW`], files);
  assert.deepEqual(allowOnly.map((r) => `${r.action}@${r.line}`), ['ALLOW@4', 'DENY@3', 'DENY@3', 'DENY@3']);
  // The algorithm is part of the match (IPE compares it by name), and so is every byte.
  const near = evalFiles(['DEFAULT action=ALLOW', 'DEFAULT op=EXECUTE action=DENY', `op=EXECUTE dmverity_roothash=sha512:${rootHash} action=ALLOW`, `op=EXECUTE dmverity_roothash=sha256:${rootHash.slice(0, -2)}00 action=ALLOW`], files.slice(0, 1));
  assert.equal(near[0]!.action, 'DENY');
  // Upper-case hex in the policy is the same digest (hex2bin accepts both cases).
  const upper = evalFiles(['DEFAULT action=DENY', `op=EXECUTE dmverity_roothash=sha256:${rootHash.toUpperCase()} action=ALLOW`], files.slice(0, 1));
  assert.equal(upper[0]!.action, 'ALLOW');
  // dmverity_signature=FALSE holds for unsigned verity, linear and tmpfs files alike.
  const unsigned = evalFiles(['DEFAULT action=DENY', 'op=EXECUTE dmverity_signature=FALSE action=ALLOW'], files);
  assert.deepEqual(unsigned.map((r) => r.action), ['ALLOW', 'ALLOW', 'ALLOW', 'ALLOW']);
});

test('without CAP_SYS_ADMIN the table cannot be read: both properties are unknown, never guessed', (t) => {
  if (!inGuest(t, '6.1')) return;
  const got = evalFiles(['DEFAULT action=ALLOW', 'op=EXECUTE dmverity_roothash=sha256:00 action=DENY', 'op=EXECUTE dmverity_signature=TRUE action=DENY'], [join(mnt, 'true'), tmpfsFile()], { uid: 65534, gid: 65534 });
  // tmpfs needs no table: it has no block device, so it is still FALSE.
  assert.deepEqual(got.map((r) => [r.properties.dmverity_roothash, r.properties.dmverity_signature]), [[null, null], [null, false]]);
});

test('with sysfs not mounted (a namespace\'s private /sys) a verity file is not taken for a non-dm one', (t) => {
  if (!inGuest(t, '6.1')) return;
  // ward told device-mapper devices from others by /sys/dev/block/M:m/dm alone: with no sysfs
  // every device looked non-dm, and a file on the verity device read dmverity_roothash as
  // absent (FALSE), which a DENY rule on that root hash then wrongly lets through.
  const policy = join(dir, 'nosys.pol');
  writeFileSync(policy, `policy_name=vm-dm-nosys policy_version=0.0.1\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_roothash=sha256:${rootHash} action=DENY\n`);
  chmodSync(policy, 0o644);
  const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount --make-rprivate / && mount -t tmpfs none /sys && exec "$@"', 'sh', process.execPath, WARD_BIN, 'policy', 'eval', policy, join(mnt, 'true'), join(mntLinear, 'true'), '--op', 'EXECUTE', '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status === 0 || r.status === 1, true, r.stderr);
  const got = (JSON.parse(r.stdout) as { results: EvalResult[] }).results;
  // The ioctl names the device itself: the verity file is denied by its root hash, the linear one is not verity.
  assert.deepEqual(got.map((x) => [x.action, x.properties.dmverity_roothash]), [['DENY', `sha256:${rootHash}`], ['ALLOW', null]]);
});

test('ward status: dm-verity present, both properties backed by the device-mapper table', (t) => {
  if (!inGuest(t, '6.1')) return;
  const items = (JSON.parse(ward(['status', '--json']).stdout) as { items: Array<{ name: string; value: unknown; source?: string; meaning: string }> }).items;
  const get = (n: string) => items.find((i) => i.name === n);
  assert.equal(get('dm-verity')?.value, true);
  assert.match(get('dm-verity')!.meaning, /root hash and root-hash signature from its device-mapper table/);
  for (const p of ['dmverity_roothash', 'dmverity_signature']) {
    assert.equal(get(`property ${p}`)?.value, 'kernel', p);
    assert.equal(get(`property ${p}`)?.source, 'device-mapper table', p);
  }
  assert.match(ward(['status']).stdout, /property dmverity_roothash\s+kernel \(device-mapper table\)\n/);
});

test('ward daemon decides execs on the verity devices by root hash (the same reader, as root)', async (t) => {
  if (!inGuest(t, '6.1')) return;
  // The daemon marks only the two verity filesystems (read-only ext4 this test made).
  const d = new TestDaemon();
  try {
    const boot = d.policy('boot.pol', `policy_name=dm-daemon policy_version=1.0.0\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\nop=EXECUTE dmverity_roothash=sha256:${rootHash} action=ALLOW\n`);
    await d.start({ bootPolicy: boot, mounts: [mnt, mnt2], readyMs: 600_000 });
    assert.equal(exec(join(mnt, 'true')), 0, 'its root hash is allowed');
    assert.equal(exec(join(mnt2, 'true')), 'EPERM', 'another root hash falls to the DENY default');
  } finally {
    await d.cleanup();
  }
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
  // The device's root hash is still what ward reports: corruption is refused block by block,
  // it does not change the table (the kernel marks the status "C", the table stays).
  assert.match(sh('dmsetup', ['status', NAME]), / verity C\n?$/);
  const again = evalFiles(['DEFAULT action=DENY', `op=EXECUTE dmverity_roothash=sha256:${rootHash} action=ALLOW`], [join(mnt, 'true')]);
  assert.equal(again[0]!.action, 'ALLOW');
});
