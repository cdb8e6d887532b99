// Inside the 6.1 guest: this run really is the guest's kernel (so every test:vm run has a test
// that fails if the harness ran the suite on the host by mistake).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, statfsSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { inGuest, VM_SCRATCH } from '../helpers/vm.ts';

test('the 6.1 guest runs Debian bookworm\'s kernel with a writable scratch tmpfs', (t) => {
  if (!inGuest(t, '6.1')) return;
  assert.match(release(), /^6\.1\.\d+-\d+-amd64$/);
  assert.match(readFileSync('/proc/version', 'utf8'), /Debian 6\.1\./);
  writeFileSync(join(VM_SCRATCH, 'probe'), 'x');
  assert.equal(statfsSync(VM_SCRATCH).type, 0x01021994); // TMPFS_MAGIC
});
