// The evaluation differential for dm-verity on Linux 6.12's IPE (in the guest): one policy,
// signed and activated in the kernel, decides real execs of files on dm-verity devices (one with
// a root-hash signature the kernel verified against the test key in its platform keyring, two
// without), on a plain ext4 loop device (not device-mapper) and on the guest's root filesystem;
// `ward policy eval` decides the same files with the same policy. They must agree on every file.
//
// Why a signature can verify here: 6.12 is built with CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG and
// ..._PLATFORM_KEYRING (verity_verify_root_hash() retries against the platform keyring, which
// OVMF's db fills with the test key); the signature is a detached PKCS#7 over the hex root hash
// string, as veritysetup --root-hash-signature passes it (root_hash_sig_key_desc in the table).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ward } from '../helpers/cli.ts';
import { inGuest, VM_IPE_CERT, VM_IPE_KEY, VM_SCRATCH } from '../helpers/vm.ts';
import { loadSigner, signPkcs7 } from '../vm/pkcs7.ts';

const IPE = '/sys/kernel/security/ipe';
const dir = join(VM_SCRATCH, 'ipe-dmverity');
const devices: Record<string, { mnt: string; rootHash: string }> = {};
const files: Record<string, string> = {};
const mounts: string[] = [];

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function verityDevice(name: string, signed: boolean): void {
  const src = join(dir, `${name}-src`);
  const mnt = join(dir, `${name}-mnt`);
  mkdirSync(src, { recursive: true });
  mkdirSync(mnt, { recursive: true });
  copyFileSync('/bin/true', join(src, 'true'));
  const data = join(dir, `${name}.img`);
  const hash = join(dir, `${name}.hash`);
  execFileSync('truncate', ['-s', '8M', data]);
  execFileSync('mkfs.ext4', ['-q', '-b', '4096', '-d', src, data]); // a fresh UUID: every image has its own root hash
  const rootHash = /Root hash:\s+([0-9a-f]+)/.exec(sh('veritysetup', ['format', data, hash]))![1]!;
  const args = ['open', data, `ward-ipe-${name}`, hash, rootHash];
  if (signed) {
    const text = join(dir, `${name}.roothash`);
    const sig = join(dir, `${name}.p7s`);
    writeFileSync(text, rootHash); // the hex string, no newline: what verity_ctr() verifies
    execFileSync('openssl', ['smime', '-sign', '-nocerts', '-noattr', '-binary', '-in', text, '-inkey', VM_IPE_KEY!, '-signer', VM_IPE_CERT!, '-outform', 'der', '-out', sig]);
    args.push(`--root-hash-signature=${sig}`);
  }
  sh('veritysetup', args);
  sh('mount', ['-o', 'ro', `/dev/mapper/ward-ipe-${name}`, mnt]);
  mounts.push(mnt);
  devices[name] = { mnt, rootHash };
  files[name] = join(mnt, 'true');
}

before(() => {
  if (process.env.WARD_VM_KERNEL !== '6.12') return;
  mkdirSync(dir, { recursive: true });
  sh('modprobe', ['loop']);
  verityDevice('unsigned', false);
  verityDevice('signed', true);
  verityDevice('other', false);
  // Not device-mapper: ext4 on a loop device, with fs-verity so a digest rule can single it out.
  const plain = join(dir, 'plain-mnt');
  mkdirSync(plain, { recursive: true });
  const img = join(dir, 'plain.img');
  execFileSync('truncate', ['-s', '16M', img]);
  execFileSync('mkfs.ext4', ['-q', '-b', '4096', '-O', 'verity', img]);
  sh('mount', ['-o', 'loop', img, plain]);
  mounts.push(plain);
  // Bytes after the ELF's segments: the same program with a digest no other file here has (ward
  // computes fs-verity digests of files without fs-verity too, so /bin/true's own would match
  // every copy of it in ward but only fs-verity files in the kernel: a documented difference).
  for (const [name, extra] of [['plain', 'p'], ['plain2', 'q']] as const) {
    files[name] = join(plain, name);
    copyFileSync('/bin/true', files[name]);
    writeFileSync(files[name], extra, { flag: 'a' });
    sh('fsverity', ['enable', files[name]]);
  }
  files.root = '/bin/true'; // the guest's root: an overlay over 9p, no block device
});

after(() => {
  if (process.env.WARD_VM_KERNEL !== '6.12') return;
  for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
});

test('dm-verity in the kernel: the signed device carries root_hash_sig_key_desc, the others do not', (t) => {
  if (!inGuest(t, '6.12')) return;
  assert.match(sh('dmsetup', ['table', 'ward-ipe-signed']), / 2 root_hash_sig_key_desc \S+\n?$/);
  assert.doesNotMatch(sh('dmsetup', ['table', 'ward-ipe-unsigned']), /root_hash_sig_key_desc/);
  // A signature by a key the kernel does not trust is refused: the table never goes live.
  const text = join(dir, 'forged.roothash');
  writeFileSync(text, devices.other!.rootHash);
  const cert = join(dir, 'self.crt');
  const key = join(dir, 'self.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=untrusted', '-days', '1'], { stdio: 'ignore' });
  execFileSync('openssl', ['smime', '-sign', '-nocerts', '-noattr', '-binary', '-in', text, '-inkey', key, '-signer', cert, '-outform', 'der', '-out', `${text}.p7s`]);
  const r = spawnSync('veritysetup', ['open', join(dir, 'other.img'), 'ward-ipe-forged', join(dir, 'other.hash'), devices.other!.rootHash, `--root-hash-signature=${text}.p7s`], { encoding: 'utf8' });
  assert.notEqual(r.status, 0, 'the kernel refused a root hash signed by an untrusted key');
});

test('the kernel\'s IPE and ward policy eval decide the same execs on dm-verity, non-dm and root files', (t) => {
  if (!inGuest(t, '6.12')) return;
  const measure = (p: string) => sh('fsverity', ['measure', p]).split(' ')[0]!;
  const activeMajor = Math.max(0, ...readdirSync(`${IPE}/policies`)
    .filter((n) => readFileSync(`${IPE}/policies/${n}/active`, 'utf8').trim() === '1')
    .map((n) => Number(readFileSync(`${IPE}/policies/${n}/version`, 'utf8').trim().split('.')[0])));
  const policy = [
    `policy_name=ward-dmverity policy_version=${activeMajor + 1}.0.0`,
    'DEFAULT action=ALLOW',
    // unsigned device by root hash: DENY (its signature is FALSE)
    `op=EXECUTE dmverity_roothash=sha256:${devices.unsigned!.rootHash} dmverity_signature=FALSE action=DENY`,
    // the signed device: TRUE first, so the DENY by its root hash below never decides it
    'op=EXECUTE dmverity_signature=TRUE action=ALLOW',
    `op=EXECUTE dmverity_roothash=sha256:${devices.signed!.rootHash} action=DENY`,
    // another root hash than the other device's (one byte off), and another algorithm name
    `op=EXECUTE dmverity_roothash=sha256:${devices.other!.rootHash.slice(0, -2)}${devices.other!.rootHash.endsWith('00') ? '01' : '00'} action=DENY`,
    `op=EXECUTE dmverity_roothash=sha512:${devices.other!.rootHash} action=DENY`,
    // off device-mapper: dmverity_signature is FALSE (plain: DENY), never TRUE (plain2: no match)
    `op=EXECUTE fsverity_digest=${measure(files.plain!)} dmverity_signature=FALSE action=DENY`,
    `op=EXECUTE fsverity_digest=${measure(files.plain2!)} dmverity_signature=TRUE action=DENY`,
    // the boot filesystem: the kernel means the initramfs; nothing here is on it (ward: on "/" at start)
    'op=EXECUTE boot_verified=TRUE action=DENY',
    '',
  ].join('\n');
  const file = join(dir, 'dmverity.pol');
  writeFileSync(file, policy);
  const names = Object.keys(files);
  const r = ward(['policy', 'eval', file, ...names.map((n) => files[n]!), '--op', 'EXECUTE', '--json']);
  const results = (JSON.parse(r.stdout) as { results: Array<{ action: string; line: number; properties: Record<string, unknown> }> }).results;
  const wardSays = Object.fromEntries(names.map((n, i) => [n, results[i]!.action]));
  assert.equal(results[names.indexOf('signed')]!.properties.dmverity_signature, true, 'ward read the verified signature');
  // The guest's root is an overlay: a file there reports a layer's device, not the overlay's,
  // so ward's boot_verified is FALSE, as the kernel's is for everything after switch_root; and
  // ward cannot name the block device the kernel would use (the real inode's), so the dm-verity
  // properties are unknown there. No rule depends on them for that file, so both still allow it.
  assert.equal(results[names.indexOf('root')]!.properties.boot_verified, false);
  assert.equal(results[names.indexOf('root')]!.properties.dmverity_signature, null);

  // Deploy to the kernel: signed, loaded, activated (its default ALLOW keeps everything else running).
  const fd = openSync(`${IPE}/new_policy`, 'w');
  writeSync(fd, signPkcs7(Buffer.from(policy), loadSigner(VM_IPE_KEY!, VM_IPE_CERT!)));
  closeSync(fd);
  writeFileSync(`${IPE}/policies/ward-dmverity/active`, '1');
  assert.equal(readFileSync(`${IPE}/enforce`, 'utf8').trim(), '1');
  const kernelSays = Object.fromEntries(
    names.map((n) => {
      const e = spawnSync(files[n]!, [], { stdio: 'ignore' }).error as NodeJS.ErrnoException | undefined;
      return [n, e === undefined ? 'ALLOW' : e.code === 'EACCES' ? 'DENY' : `error ${e.code}`];
    }),
  );
  const expected = { unsigned: 'DENY', signed: 'ALLOW', other: 'ALLOW', plain: 'DENY', plain2: 'ALLOW', root: 'ALLOW' };
  assert.deepEqual(kernelSays, expected, 'the kernel decided as the policy says');
  assert.deepEqual(wardSays, kernelSays, `ward decides every file as the kernel does: ${JSON.stringify(results)}`);
});
