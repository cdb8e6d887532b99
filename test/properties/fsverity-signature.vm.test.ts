// fsverity_signature read from a kernel that verifies fs-verity built-in signatures (Debian's
// 6.1, in the guest): a test certificate in the kernel's `.fs-verity` keyring, files signed with
// `fsverity sign` and enabled with `fsverity enable --signature=…`. ward's answer — TRUE for a
// signed fs-verity file (the kernel verified it before the file could be opened), FALSE for an
// unsigned fs-verity file and for a file without fs-verity — is compared with what `fsverity
// dump_metadata signature` reads back and with what the kernel does with an untrusted signature.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ward } from '../helpers/cli.ts';
import { inGuest, VM_SCRATCH } from '../helpers/vm.ts';
import { makeSigningCert, makeVerityFile, mountVerityImage, trustForFsverity, type SigningCert } from '../helpers/fsverity.ts';
import { readVeritySignature } from '../../src/kernel/files.ts';

const dir = join(VM_SCRATCH, 'fsverity-sig');
let mnt = '';
let trusted: SigningCert;
let serial = '';
const files: Record<string, string> = {};
const sigs: Record<string, string> = {};

before(() => {
  if (process.env.WARD_VM_KERNEL !== '6.1') return;
  execFileSync('mkdir', ['-p', dir]);
  mnt = mountVerityImage(dir);
  trusted = makeSigningCert(dir, 'trusted');
  serial = trustForFsverity(trusted);
  for (const [name, o] of Object.entries({ signed: { verity: true, signer: trusted }, unsigned: { verity: true }, plain: { verity: false } })) {
    files[name] = join(mnt, name);
    const sig = makeVerityFile(files[name], { ...o, extra: name });
    if (sig) sigs[name] = sig;
  }
});

after(() => {
  if (process.env.WARD_VM_KERNEL !== '6.1') return;
  spawnSync('umount', ['-l', mnt]);
});

function wardProperty(paths: string[]): Array<boolean | null> {
  const policy = join(dir, 'any.pol');
  // eval reports the properties its policy uses: one rule names fsverity_signature.
  writeFileSync(policy, 'policy_name=sig policy_version=0.0.1\nDEFAULT action=ALLOW\nop=EXECUTE fsverity_signature=TRUE action=ALLOW\n');
  const r = ward(['policy', 'eval', policy, ...paths, '--op', 'EXECUTE', '--json']);
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { results: Array<{ properties: { fsverity_signature: boolean | null } }> }).results.map((x) => x.properties.fsverity_signature);
}

test('fsverity_signature: TRUE for a signed fs-verity file, FALSE unsigned and without fs-verity, as fsverity dump_metadata reads them', (t) => {
  if (!inGuest(t, '6.1')) return;
  assert.ok(readFileSync('/proc/sys/fs/verity/require_signatures', 'utf8').trim() === '0', 'this kernel verifies built-in signatures and does not require them');
  const names = ['signed', 'unsigned', 'plain'];
  assert.deepEqual(wardProperty(names.map((n) => files[n]!)), [true, false, false]);
  // The independent reading: the signature the kernel stored is the one `fsverity sign` made,
  // and ward's ioctl returns the same bytes; the others have none (ENODATA).
  const dumped = execFileSync('fsverity', ['dump_metadata', 'signature', files.signed!]);
  assert.deepEqual(dumped, readFileSync(sigs.signed!));
  const fd = openSync(files.signed!, 'r');
  try {
    const mine = readVeritySignature(fd);
    assert.ok(mine.ok);
    assert.deepEqual(mine.value, dumped);
  } finally {
    closeSync(fd);
  }
  for (const n of ['unsigned', 'plain']) {
    const r = spawnSync('fsverity', ['dump_metadata', 'signature', files[n]!], { encoding: 'utf8' });
    assert.notEqual(r.status, 0, `${n}: fsverity finds no signature`);
    const f = openSync(files[n]!, 'r');
    try {
      assert.deepEqual(readVeritySignature(f), { ok: false, error: 'ENODATA' }, n);
    } finally {
      closeSync(f);
    }
  }
  // A policy decides on it: the signed file is allowed, the rest falls to the default.
  const policy = join(dir, 'signed-only.pol');
  writeFileSync(policy, 'policy_name=signed-only policy_version=0.0.1\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\nop=EXECUTE fsverity_signature=TRUE action=ALLOW\n');
  const r = ward(['policy', 'eval', policy, ...names.map((n) => files[n]!), '--op', 'EXECUTE', '--json']);
  assert.deepEqual((JSON.parse(r.stdout) as { results: Array<{ action: string }> }).results.map((x) => x.action), ['ALLOW', 'DENY', 'DENY']);
});

test('ward status: fsverity_signature is backed by the kernel where it verifies built-in signatures', (t) => {
  if (!inGuest(t, '6.1')) return;
  const items = (JSON.parse(ward(['status', '--json']).stdout) as { items: Array<{ name: string; value: unknown; meaning: string }> }).items;
  const sig = items.find((i) => i.name === 'property fsverity_signature');
  assert.equal(sig?.value, 'kernel', sig?.meaning);
  assert.match(sig!.meaning, /TRUE for fs-verity files carrying a built-in signature/);
});

test('the kernel refuses a signature it cannot verify, so no file carries one unverified', (t) => {
  if (!inGuest(t, '6.1')) return;
  const other = makeSigningCert(dir, 'untrusted');
  const path = join(mnt, 'untrusted');
  assert.throws(() => makeVerityFile(path, { verity: true, signer: other, extra: 'u' }), 'FS_IOC_ENABLE_VERITY verifies the signature and fails (ENOKEY)');
  assert.equal(spawnSync('fsverity', ['measure', path]).status === 0, false, 'the file did not get fs-verity');
  assert.deepEqual(wardProperty([path]), [false]);
});

test('a key removed later: a file already open-able stays TRUE (as for the kernel); evicted, it can no longer be opened', (t) => {
  if (!inGuest(t, '6.1')) return;
  execFileSync('keyctl', ['unlink', serial, '%keyring:.fs-verity']);
  // The inode keeps its fsverity_info (verified when it was built): the kernel still opens the
  // file, IPE's inode blob still says signed, and ward says TRUE.
  assert.deepEqual(wardProperty([files.signed!]), [true]);
  // Evicted (unmounted and mounted again), the next open builds the fsverity_info again and
  // verifies again: now it fails.
  execFileSync('umount', [mnt]);
  execFileSync('mount', ['-o', 'loop', join(dir, 'ext4.img'), mnt]);
  let errno: number | undefined;
  try {
    closeSync(openSync(files.signed!, 'r'));
  } catch (e) {
    errno = (e as NodeJS.ErrnoException).errno; // Node has no name for ENOKEY
  }
  assert.equal(errno, -126, 'the kernel refuses to open a signed file whose certificate left the keyring (ENOKEY)');
  const r = ward(['policy', 'eval', join(dir, 'any.pol'), files.signed!, '--op', 'EXECUTE', '--json']);
  assert.equal(r.status, 2, 'ward cannot decide a file it cannot open');
  assert.deepEqual((JSON.parse(r.stdout) as { results: Array<{ error?: string }> }).results.map((x) => x.error), ['ENOKEY']);
});
