// What user space writes into ward's BPF maps: device numbers in the kernel's encoding, the
// uncovered table by IPE's evaluation rules, digest keys, and audit events.

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import {
  ALLOW, DENY, OP_INVALID, decodeConfig, decodeEvent, encodeConfig, encodeDigestKey, kernelDev, uncoveredTable, digestTable, EVENT_SIZE,
} from '../../src/enforcer/bpf-maps.ts';
import { bpfAccessRecord } from '../../src/enforcer/audit.ts';
import { parsePolicyOrThrow } from '../../src/policy/parser.ts';
import { OPS } from '../../src/policy/model.ts';

test('kernelDev: st_dev → MKDEV(major, minor), as /proc/self/mountinfo prints it', () => {
  // mountinfo's third field is the superblock's s_dev as major:minor (fs/proc_namespace.c).
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === '/')!;
  const [maj, min] = line.split(' ')[2]!.split(':').map(Number) as [number, number];
  assert.equal(kernelDev(statSync('/', { bigint: true }).dev), (maj << 20) | min);
  // A large minor (glibc's makedev, computed by python3's os.makedev): bits beyond 8 move.
  const dev = BigInt(execFileSync('python3', ['-c', 'import os; print(os.makedev(259, 300000))'], { encoding: 'utf8' }).trim());
  assert.equal(kernelDev(dev), ((259 << 20) | 300000) >>> 0);
});

test('uncovered table: IPE\'s rules with only boot_verified known', () => {
  const p = parsePolicyOrThrow('policy_name=t policy_version=0.0.1\nop=EXECUTE boot_verified=TRUE action=ALLOW\nDEFAULT op=EXECUTE action=DENY\nDEFAULT action=ALLOW\nop=KMODULE fsverity_digest=sha256:00 action=DENY\n');
  const u = uncoveredTable(p);
  const ex = OPS.indexOf('EXECUTE');
  assert.deepEqual(u[ex]!.slice(0, 3), [DENY, DENY, ALLOW], 'no file / off the boot sb / on it');
  assert.deepEqual(u[OPS.indexOf('KMODULE')]!.slice(0, 3), [ALLOW, ALLOW, ALLOW], 'a digest rule never matches without a digest');
  assert.deepEqual(u[OP_INVALID]!.slice(0, 3), [ALLOW, ALLOW, ALLOW], 'an unknown read id: the global DEFAULT');
  const noGlobal = parsePolicyOrThrow(`policy_name=t policy_version=0.0.1\n${OPS.map((o) => `DEFAULT op=${o} action=ALLOW`).join('\n')}\n`);
  assert.deepEqual(uncoveredTable(noGlobal)[OP_INVALID]!.slice(0, 3), [DENY, DENY, DENY], 'no global DEFAULT: IPE denies');
  assert.deepEqual(uncoveredTable(undefined)[ex]!.slice(0, 3), [ALLOW, ALLOW, ALLOW], 'no policy');
  const d = digestTable(p, 'sha256:00');
  assert.deepEqual(d[OPS.indexOf('KMODULE')], [DENY, DENY]);
  assert.deepEqual(d[ex], [DENY, ALLOW]);
});

test('config, digest keys and events round-trip in the C layout', () => {
  const uncovered = Array.from({ length: 8 }, (_, op) => [ALLOW, op % 2 ? DENY : ALLOW, ALLOW, DENY]);
  const c = { gen: 7, flags: 3, bootDev: (8 << 20) | 1, daemonTgid: 1234, uncovered };
  assert.deepEqual(decodeConfig(encodeConfig(c)), c);
  const k = Buffer.from(encodeDigestKey(5, `sha512:${'ab'.repeat(64)}`)!);
  assert.equal(k.readUInt32LE(0), 5);
  assert.equal(k.readUInt16LE(4), 2, 'FS_VERITY_HASH_ALG_SHA512');
  assert.equal(k.readUInt16LE(6), 64);
  assert.equal(encodeDigestKey(1, 'md5:00'), undefined, 'fs-verity has no md5');
  const e = Buffer.alloc(EVENT_SIZE);
  e.writeBigUInt64LE(42n, 0);
  e.writeUInt32LE((8 << 20) | 3, 8);
  e.writeUInt32LE(101, 12);
  e.writeUInt32LE(100, 16);
  e.writeUInt32LE(9, 20);
  e.set([2, 3, 2, 1, 1], 24);
  e.write('insmod', 32, 'latin1');
  assert.deepEqual(decodeEvent(e), { ino: 42n, dev: (8 << 20) | 3, pid: 101, tgid: 100, gen: 9, op: 'KMODULE', hook: 'KERNEL_READ', source: 'verdict', denied: true, enforced: true, comm: 'insmod' });
});

test('an event becomes an IPE_ACCESS record in audit.ts: dev as mountinfo prints it, no path, the verdict source as rule', () => {
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === '/')!;
  const e = Buffer.alloc(EVENT_SIZE);
  e.writeBigUInt64LE(42n, 0);
  e.writeUInt32LE(kernelDev(statSync('/', { bigint: true }).dev), 8);
  e.writeUInt32LE(101, 12);
  e.writeUInt32LE(100, 16);
  e.set([OPS.indexOf('EXECUTE'), 0, 3, 0, 1], 24);
  e.write('sh', 32, 'latin1');
  const policy = parsePolicyOrThrow('policy_name=p policy_version=1.2.3\nDEFAULT action=ALLOW\n');
  const r = bpfAccessRecord(decodeEvent(e), false, policy);
  const { time, ...rest } = r;
  assert.ok(!Number.isNaN(Date.parse(time)));
  assert.deepEqual(rest, {
    type: 'IPE_ACCESS', audit_type: 1420, ipe_op: 'EXECUTE', ipe_hook: 'BPRM_CHECK', enforcing: 0, pid: 100, comm: 'sh', path: '',
    dev: line.split(' ')[2], ino: '42', rule: 'bpf:kernel_fsverity', rule_line: null, decision: 'ALLOW', policy_name: 'p', policy_version: '1.2.3',
  });
  const anon = Buffer.alloc(EVENT_SIZE);
  anon.set([OPS.indexOf('EXECUTE'), 1, 0, 1, 1], 24);
  const a = bpfAccessRecord(decodeEvent(anon), true, undefined);
  assert.deepEqual([a.dev, a.ino, a.rule, a.decision, a.ipe_hook, a.enforcing, a.policy_name, a.policy_version], ['', '', 'bpf:no_file', 'DENY', 'MMAP', 1, null, null]);
});
