// Real-file contexts for the policy engine: boot_verified by superblock, digests through the fd.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, fstatSync, openSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, Scratch, requires } from '../helpers/kernel.ts';
import { PropertyReader, computeVerityDigest } from '../../src/properties/index.ts';
import { ward, REPO_ROOT } from '../helpers/cli.ts';

let scratch: Scratch;
before(() => {
  scratch = new Scratch('ward-props-');
});
after(() => scratch.cleanup());

test('boot_verified: true on the root filesystem, false on a fresh tmpfs', (t) => {
  if (!requires(t, IS_ROOT, 'root (to mount tmpfs)')) return;
  const mnt = scratch.tmpfs('fresh');
  const copy = join(mnt, 'true');
  copyFileSync('/bin/true', copy);
  const reader = new PropertyReader();
  for (const [path, expected] of [['/bin/true', true], [copy, false]] as const) {
    const fd = openSync(path, 'r');
    try {
      assert.equal(reader.contextForFd(fd).boolean('boot_verified'), expected, path);
    } finally {
      closeSync(fd);
    }
  }
});

test('absent providers answer undefined (both =TRUE and =FALSE never match)', () => {
  const fd = openSync('/bin/true', 'r');
  try {
    const ctx = new PropertyReader({ machine: { bootDev: -1n, kernelFsverity: false, kernelFsveritySignatures: false, kernelDmverity: false } }).contextForFd(fd);
    assert.equal(ctx.boolean('fsverity_signature'), undefined);
    assert.equal(ctx.boolean('dmverity_signature'), undefined);
    assert.equal(ctx.digest('dmverity_roothash'), undefined);
    assert.equal(ctx.boolean('boot_verified'), false);
  } finally {
    closeSync(fd);
  }
});

test('the digest is read through the fd: the path may change afterwards', () => {
  const a = join(scratch.root, 'a');
  copyFileSync('/bin/true', a);
  const fd = openSync(a, 'r');
  try {
    const expected = `sha256:${computeVerityDigest(fd, fstatSync(fd).size).toString('hex')}`;
    // Replace the path with another file: the open fd still names the original content.
    copyFileSync('/bin/false', a + '.new');
    renameSync(a + '.new', a);
    assert.equal(new PropertyReader().contextForFd(fd).digest('fsverity_digest'), expected);
  } finally {
    closeSync(fd);
  }
});

test('ward policy eval decides real files with their properties', (t) => {
  if (!requires(t, IS_ROOT, 'root (to mount tmpfs)')) return;
  const mnt = scratch.tmpfs('eval');
  const copy = join(mnt, 'true');
  copyFileSync('/bin/true', copy);
  const r = ward(['policy', 'eval', join(REPO_ROOT, 'examples/boot-verified-only.pol'), '/bin/true', copy, '--json']);
  assert.equal(r.status, 1);
  const doc = JSON.parse(r.stdout) as { results: Array<{ path: string; action: string; line: number }> };
  assert.deepEqual(doc.results.map((x) => [x.path, x.action, x.line]), [['/bin/true', 'ALLOW', 10], [copy, 'DENY', 9]]);
  const pol = join(scratch.root, 'digest.pol');
  const digest = ward(['digest', copy]).stdout.split(' ')[0];
  writeFileSync(pol, `policy_name=d policy_version=1.0.0\nDEFAULT action=DENY\nop=EXECUTE fsverity_digest=${digest} action=ALLOW\n`);
  const allow = ward(['policy', 'eval', pol, copy]);
  assert.equal(allow.status, 0, allow.stderr);
  assert.equal(allow.stdout, `${copy}: ALLOW by rule at line 3: op=EXECUTE fsverity_digest=${digest} action=ALLOW\n  properties: fsverity_digest=${digest}\n`);
  // The properties it used, as the engine asked for them (boot_verified decides the first policy).
  const used = doc as unknown as { results: Array<{ properties: Record<string, unknown> }> };
  assert.deepEqual(used.results.map((x) => x.properties.boot_verified), [true, false]);
  assert.equal(ward(['policy', 'eval', pol, '/bin/false']).status, 1); // other content, other digest
});
