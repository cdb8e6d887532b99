// IPE's management rules (security/ipe/policy.c, fs.c): load, activate, update, delete.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activatePolicy, deletePolicy, emptyPolicySet, loadPolicy, updatePolicy, type PolicySet } from '../../src/policy/index.ts';

type P = { rawName: string; version: { major: number; minor: number; rev: number } };
const pol = (rawName: string, v: string): P => {
  const [major, minor, rev] = v.split('.').map(Number) as [number, number, number];
  return { rawName, version: { major, minor, rev } };
};

function must(r: { ok: true; value: PolicySet<P> } | { ok: false; error: { code: string; message: string } }): PolicySet<P> {
  if (!r.ok) assert.fail(`${r.error.code}: ${r.error.message}`);
  return r.value;
}
function code(r: { ok: boolean; error?: { code: string } }): string | undefined {
  return r.ok ? undefined : r.error?.code;
}

test('load: new names only (EEXIST), and loading does not activate', () => {
  let s = must(loadPolicy(emptyPolicySet<P>(), pol('a', '1.0.0')));
  assert.equal(s.active, undefined);
  assert.equal(code(loadPolicy(s, pol('a', '2.0.0'))), 'EEXIST');
  s = must(loadPolicy(s, pol('b', '0.0.1')));
  assert.equal(s.policies.size, 2);
});

test('activate: ENOENT for unknown, EINVAL below the active version, equal allowed', () => {
  let s = must(loadPolicy(emptyPolicySet<P>(), pol('a', '1.2.0')));
  s = must(loadPolicy(s, pol('b', '1.1.9')));
  s = must(loadPolicy(s, pol('c', '1.2.0')));
  assert.equal(code(activatePolicy(s, 'zz')), 'ENOENT');
  s = must(activatePolicy(s, 'a'));
  assert.equal(code(activatePolicy(s, 'b')), 'EINVAL');
  s = must(activatePolicy(s, 'c'));
  assert.equal(s.active, 'c');
  s = must(activatePolicy(s, 'c')); // re-activating the active policy is a no-op
  assert.equal(s.active, 'c');
});

test('activate: the floor survives even when the active policy is replaced by an equal one', () => {
  let s = must(loadPolicy(emptyPolicySet<P>(), pol('a', '2.0.0')));
  s = must(activatePolicy(s, 'a'));
  s = must(loadPolicy(s, pol('b', '2.0.0')));
  s = must(activatePolicy(s, 'b'));
  s = must(deletePolicy(s, 'a'));
  s = must(loadPolicy(s, pol('old', '1.0.0')));
  assert.equal(code(activatePolicy(s, 'old')), 'EINVAL');
  assert.deepEqual(s.floor, { major: 2, minor: 0, rev: 0 });
});

test('update: same name (EINVAL), higher version (ESTALE), keeps the active policy active', () => {
  let s = must(loadPolicy(emptyPolicySet<P>(), pol('a', '1.0.0')));
  s = must(activatePolicy(s, 'a'));
  assert.equal(code(updatePolicy(s, 'a', pol('b', '2.0.0'))), 'EINVAL');
  assert.equal(code(updatePolicy(s, 'a', pol('a', '1.0.0'))), 'ESTALE');
  assert.equal(code(updatePolicy(s, 'a', pol('a', '0.9.9'))), 'ESTALE');
  assert.equal(code(updatePolicy(s, 'missing', pol('missing', '1.0.0'))), 'ENOENT');
  s = must(updatePolicy(s, 'a', pol('a', '1.0.1')));
  assert.equal(s.active, 'a');
  assert.deepEqual(s.policies.get('a')?.version, { major: 1, minor: 0, rev: 1 });
  assert.deepEqual(s.floor, { major: 1, minor: 0, rev: 1 });
});

test('delete: EPERM for the active policy, ENOENT when gone', () => {
  let s = must(loadPolicy(emptyPolicySet<P>(), pol('a', '1.0.0')));
  s = must(loadPolicy(s, pol('b', '1.0.0')));
  s = must(activatePolicy(s, 'a'));
  assert.equal(code(deletePolicy(s, 'a')), 'EPERM');
  s = must(deletePolicy(s, 'b'));
  assert.equal(code(deletePolicy(s, 'b')), 'ENOENT');
});

test('version order is (major, minor, rev) as the kernel ver_to_u64 builds it', () => {
  let s = must(loadPolicy(emptyPolicySet<P>(), pol('a', '1.65535.65535')));
  s = must(activatePolicy(s, 'a'));
  s = must(loadPolicy(s, pol('b', '2.0.0')));
  s = must(activatePolicy(s, 'b'));
  assert.equal(s.active, 'b');
});
