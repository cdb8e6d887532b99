// Inside the 6.12 guest: bookworm-backports' kernel, with IPE, booted through OVMF with the
// test key from UEFI's db in the kernel's platform keyring (what IPE verifies policies with).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { inGuest, VM_IPE_CERT } from '../helpers/vm.ts';

test('the 6.12 guest runs the backports kernel with IPE and the test key in .platform', (t) => {
  if (!inGuest(t, '6.12')) return;
  assert.match(release(), /^6\.12\.\d+\+deb12-amd64$/);
  assert.match(readFileSync('/sys/kernel/security/lsm', 'utf8'), /(^|,)ipe(,|$)/);
  const keys = execFileSync('keyctl', ['show', '%:.platform'], { encoding: 'utf8' });
  const subject = execFileSync('openssl', ['x509', '-noout', '-subject', '-nameopt', 'multiline', '-in', VM_IPE_CERT!], { encoding: 'utf8' });
  const cn = /commonName\s*=\s*(.+)/.exec(subject)![1]!.trim();
  assert.match(keys, new RegExp(`asymmetric: ${cn}:`));
});
