// ward modules autoload and ward exec --module-autoload on this host: bad input is a usage error,
// and where the kernel refuses LSM programs (this host), both say so and run nothing.

import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { probeBpfLsm } from '../../src/kernel/bpf.ts';
import { ward } from '../helpers/cli.ts';
import { IS_ROOT, requires } from '../helpers/kernel.ts';

test('bad levels are usage errors that name the flag', () => {
  const e = ward(['exec', '--module-autoload=3', '--', 'true']);
  assert.equal(e.status, 2);
  assert.match(e.stderr, /--module-autoload must be 0, 1 or 2, not "3"/);
  const g = ward(['modules', 'autoload', '--global', 'high']);
  assert.equal(g.status, 2);
  assert.match(g.stderr, /--global must be 0, 1 or 2, not "high"/);
  const p = ward(['modules', 'autoload', '--pid', '-1']);
  assert.equal(p.status, 2);
});

test('where the kernel refuses LSM programs, nothing runs unrestricted', (t) => {
  if (!requires(t, IS_ROOT, 'root (to load programs)')) return;
  const probe = probeBpfLsm();
  const r = ward(['exec', '--module-autoload=2', '--', 'sh', '-c', 'echo ran']);
  if (probe.accepts) {
    assert.equal(r.status, 0, r.stderr);
    return;
  }
  assert.equal(r.status, 125, r.stderr);
  assert.doesNotMatch(r.stdout, /ran/);
  assert.match(r.stderr, /cannot set the module autoload level: EPERM: this kernel refuses BPF LSM programs/);
  const m = ward(['modules', 'autoload']);
  assert.equal(m.status, 1);
  assert.match(m.stderr, /refuses BPF LSM programs/);
});
