// The harness is honest: the command really runs in the guest's kernel, from the same working
// directory, and its failure is a failure. Runs on the host (each test boots a guest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { runInVm } from '../helpers/vm.ts';
import { REPO_ROOT } from '../helpers/cli.ts';

test('6.1 guest: uname -r is the guest kernel, cwd and exit status pass through', () => {
  const r = runInVm(['sh', '-c', 'uname -r; pwd; cat /proc/version; echo to-stderr >&2; exit 3'], { cwd: REPO_ROOT });
  assert.equal(r.status, 3, r.stderr);
  const [uname, cwd] = r.stdout.split('\n');
  assert.match(uname!, /^6\.1\.\d+-\d+-amd64$/);
  assert.notEqual(uname, release());
  assert.equal(cwd, REPO_ROOT.replace(/\/$/, ''));
  assert.notEqual(r.stdout.split('\n')[2], readFileSync('/proc/version', 'utf8').trim());
  assert.match(r.stderr, /^to-stderr$/m);
});

test('6.1 guest: a failing command fails, writes stay in the guest, kernel arguments reach it', () => {
  const marker = `/tmp/ward-vm-marker-${process.pid}`;
  const r = runInVm(['sh', '-c', `cat /proc/cmdline; touch ${marker} /etc/ward-vm-marker; false`], {
    append: 'ward_vm_test_arg=1',
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /ward_vm_test_arg=1/);
  assert.throws(() => readFileSync(marker), { code: 'ENOENT' });
  assert.throws(() => readFileSync('/etc/ward-vm-marker'), { code: 'ENOENT' });
});

test('6.1 guest: a command that cannot be run is a failure too', () => {
  const r = runInVm(['/nonexistent/ward-vm-command']);
  assert.equal(r.status, 127, r.stderr);
  assert.match(r.stderr, /nonexistent\/ward-vm-command/);
});
