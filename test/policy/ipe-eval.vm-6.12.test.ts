// The evaluation differential on Linux 6.12's IPE (in the guest): one policy, signed and
// activated in the kernel, decides real execs of files with and without fs-verity on ext4;
// `ward policy eval` decides the same files with the same policy. Where the two differ it is a
// documented difference (docs/properties.md, docs/kernels.md), asserted as such so that a
// change on either side shows.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, readdirSync, copyFileSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ward } from '../helpers/cli.ts';
import { inGuest, VM_IPE_CERT, VM_IPE_KEY, VM_SCRATCH } from '../helpers/vm.ts';
import { loadSigner, signPkcs7 } from '../vm/pkcs7.ts';

const IPE = '/sys/kernel/security/ipe';
const dir = join(VM_SCRATCH, 'ipe-eval');
const mnt = join(dir, 'mnt');
const files: Record<string, string> = {};

before(() => {
  if (process.env.WARD_VM_KERNEL !== '6.12') return;
  mkdirSync(mnt, { recursive: true });
  const img = join(dir, 'ext4.img');
  execFileSync('truncate', ['-s', '32M', img]);
  execFileSync('mkfs.ext4', ['-q', '-b', '4096', '-O', 'verity', img]);
  execFileSync('modprobe', ['loop']);
  execFileSync('mount', ['-o', 'loop', img, mnt]);
  const make = (name: string, extra: string, verity: boolean) => {
    const p = join(mnt, name);
    copyFileSync('/bin/true', p);
    if (extra) appendFileSync(p, extra); // still the same program: bytes after the ELF's segments
    if (verity) execFileSync('fsverity', ['enable', p]);
    files[name] = p;
  };
  make('verity-a', '', true); // denied by digest
  make('verity-b', 'b', true); // denied by digest + fsverity_signature=FALSE
  make('verity-c', 'c', true); // no rule: allowed
  make('plain-a', '', false); // same bytes as verity-a, no fs-verity
});

after(() => {
  if (process.env.WARD_VM_KERNEL !== '6.12') return;
  spawnSync('umount', ['-l', mnt]);
});

test('the kernel\'s IPE and ward policy eval decide the same execs (and differ only where documented)', (t) => {
  if (!inGuest(t, '6.12')) return;
  const measure = (p: string) => execFileSync('fsverity', ['measure', p], { encoding: 'utf8' }).split(' ')[0]!;
  // IPE refuses to activate a version older than the active policy's (another test in this boot
  // may have left one active): take the next major version.
  const activeMajor = Math.max(0, ...readdirSync(`${IPE}/policies`)
    .filter((n) => readFileSync(`${IPE}/policies/${n}/active`, 'utf8').trim() === '1')
    .map((n) => Number(readFileSync(`${IPE}/policies/${n}/version`, 'utf8').trim().split('.')[0])));
  const policy = [
    `policy_name=ward-eval policy_version=${activeMajor + 1}.0.0`,
    'DEFAULT action=ALLOW',
    `op=EXECUTE fsverity_digest=${measure(files['verity-a']!)} action=DENY`,
    `op=EXECUTE fsverity_digest=${measure(files['verity-b']!)} fsverity_signature=FALSE action=DENY`,
    '',
  ].join('\n');
  const file = join(dir, 'eval.pol');
  writeFileSync(file, policy);
  const names = Object.keys(files);
  const r = ward(['policy', 'eval', file, ...names.map((n) => files[n]!), '--op', 'EXECUTE', '--json']);
  const wardSays = Object.fromEntries(names.map((n, i) => [n, (JSON.parse(r.stdout) as { results: Array<{ action: string }> }).results[i]!.action]));

  // Deploy to the kernel: signed, loaded, activated (its default ALLOW keeps everything else running).
  const fd = openSync(`${IPE}/new_policy`, 'w');
  writeSync(fd, signPkcs7(Buffer.from(policy), loadSigner(VM_IPE_KEY!, VM_IPE_CERT!)));
  closeSync(fd);
  writeFileSync(`${IPE}/policies/ward-eval/active`, '1');
  assert.equal(readFileSync(`${IPE}/enforce`, 'utf8').trim(), '1');
  const kernelSays = Object.fromEntries(
    names.map((n) => {
      const e = spawnSync(files[n]!, [], { stdio: 'ignore' }).error as NodeJS.ErrnoException | undefined;
      return [n, e === undefined ? 'ALLOW' : e.code === 'EACCES' ? 'DENY' : `error ${e.code}`];
    }),
  );
  assert.deepEqual(kernelSays, { 'verity-a': 'DENY', 'verity-b': 'DENY', 'verity-c': 'ALLOW', 'plain-a': 'ALLOW' });
  // ward agrees on verity-a and verity-c. Documented differences: ward computes the fs-verity
  // digest of a file without fs-verity (plain-a has verity-a's bytes: DENY), and it cannot see
  // whether the kernel verified an fs-verity built-in signature, so fsverity_signature=FALSE
  // never matches a file with fs-verity (verity-b: ALLOW).
  assert.deepEqual(wardSays, { 'verity-a': 'DENY', 'verity-b': 'ALLOW', 'verity-c': 'ALLOW', 'plain-a': 'DENY' });
});
