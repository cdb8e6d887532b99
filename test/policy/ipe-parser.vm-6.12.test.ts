// ward against the real IPE (Debian's 6.12, in the guest): the kernel's parser is the oracle.
// Every policy is signed with the key enrolled in the guest's UEFI db and written to
// /sys/kernel/security/ipe/new_policy; ward's answer (parsePolicy, then the name rule of
// new_policy) must be the same: accepted, or the same errno; accepted policies must read back
// with the same name and version. The KUnit cases, edge cases, then fuzzed policies (a child
// process: OPENSSL_ia32cap=:0 halves RSA signing time under TCG). Signature handling too:
// ward daemon's PKCS#7 verification against the kernel's, on the same blobs.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { inGuest, VM_IPE_CERT, VM_IPE_KEY, VM_SCRATCH } from '../helpers/vm.ts';
import { ward } from '../helpers/cli.ts';
import { EDGE_CASES, KUNIT_CASES } from '../vm/ipe-cases.ts';
import { Differential, agrees, wardOutcome, type Summary } from '../vm/ipe-differential.ts';
import { loadSigner, signPkcs7 } from '../vm/pkcs7.ts';
import { readCertificates, verifySignedPolicy } from '../../src/enforcer/signature.ts';

const DIFF = fileURLToPath(new URL('../vm/ipe-differential.ts', import.meta.url));
const COUNT = Number(process.env.WARD_IPE_DIFF_COUNT ?? 2000);
const SEED = Number(process.env.WARD_IPE_DIFF_SEED ?? 20261126);
const dir = join(VM_SCRATCH, 'ipe-parser');
let d: Differential | undefined;

before(() => {
  if (process.env.WARD_VM_KERNEL !== '6.12') return;
  mkdirSync(dir, { recursive: true });
  d = new Differential(VM_IPE_KEY!, VM_IPE_CERT!);
});
after(() => d?.close());

const bytes = (s: string) => Buffer.from(s, 'latin1');

test('the KUnit parser cases: the kernel answers the KUnit errno, and ward the same', (t) => {
  if (!inGuest(t, '6.12')) return;
  const got: string[] = [];
  const want: string[] = [];
  for (const [text, errno, label] of KUNIT_CASES) {
    const o = d!.run({ kind: 'kunit', label, bytes: bytes(text) });
    got.push(`${label}: kernel ${o.kernel}, ward ${o.ward}${agrees(o) ? '' : ` (${o.wardLoaded} / ${o.kernelLoaded})`}`);
    want.push(`${label}: kernel ${errno || 'OK'}, ward ${errno || 'OK'}`);
  }
  assert.deepEqual(got, want);
});

test('edge cases of the grammar: ward answers as the kernel does', (t) => {
  if (!inGuest(t, '6.12')) return;
  const got: string[] = [];
  for (const [text, label] of EDGE_CASES) {
    const o = d!.run({ kind: 'edge', label, bytes: bytes(text) });
    got.push(agrees(o) ? `${label}: agree` : `${label}: kernel ${o.kernel} ${o.kernelLoaded ?? ''}, ward ${o.ward} ${o.wardLoaded ?? ''}`);
  }
  assert.deepEqual(got, EDGE_CASES.map(([, label]) => `${label}: agree`));
});

test('names securityfs cannot hold: the kernel refuses them at new_policy, and so does ward', (t) => {
  if (!inGuest(t, '6.12')) return;
  const cases: Array<[string, string]> = [['a/b', 'EACCES'], ['.', 'EACCES'], ['..', 'EACCES'], ['n'.repeat(256), 'ENAMETOOLONG'], ['..a', 'OK'], ['n'.repeat(255), 'OK']];
  for (const [name, errno] of cases) {
    const text = bytes(`policy_name=${name} policy_version=1.0.0\nDEFAULT action=ALLOW\n`);
    const o = d!.run({ kind: 'edge', label: name, bytes: text });
    assert.deepEqual([o.kernel, o.ward], [errno, errno], name.slice(0, 20));
  }
});

test(`fuzzed policies (${COUNT}, seed ${SEED}): ward and the kernel agree on every one`, (t) => {
  if (!inGuest(t, '6.12')) return;
  const out = join(dir, 'fuzz.json');
  const r = spawnSync(process.execPath, [DIFF, '--count', String(COUNT), '--seed', String(SEED), '--json', out], {
    encoding: 'utf8',
    env: { ...process.env, OPENSSL_ia32cap: ':0' },
    timeout: 900_000,
  });
  const s = JSON.parse(readFileSync(out, 'utf8')) as Summary;
  t.diagnostic(`${s.agreed}/${s.total} agree in ${s.seconds.toFixed(0)} s; kernel answers ${JSON.stringify(s.byErrno)}`);
  assert.equal(s.total, COUNT + KUNIT_CASES.length + 1 + EDGE_CASES.length);
  // Both outcomes occur: the corpus exercises acceptance and each rejection class.
  for (const k of ['OK', 'EBADMSG', 'EINVAL']) assert.ok((s.byErrno[k] ?? 0) > 0, `the kernel answered ${k} at least once`);
  assert.deepEqual(s.disagreements.slice(0, 10), [], r.stderr);
  assert.equal(r.status, 0, r.stderr);
});

test('ward policy check (the CLI) gives the kernel\'s errno', (t) => {
  if (!inGuest(t, '6.12')) return;
  const picks = KUNIT_CASES.filter((_, i) => i % 11 === 0);
  for (const [i, [text, errno, label]] of picks.entries()) {
    const file = join(dir, `cli-${i}.pol`);
    writeFileSync(file, bytes(text));
    const r = ward(['policy', 'check', '--json', file]);
    const doc = JSON.parse(r.stdout) as { ok: boolean; errno?: string };
    assert.equal(doc.ok ? 'OK' : doc.errno, errno || 'OK', label);
    assert.equal(r.status, errno ? 1 : 0, label);
    assert.equal(wardOutcome(bytes(text)).errno, d!.run({ kind: 'kunit', label, bytes: bytes(text) }).kernel, label);
  }
});

test('signed blobs: ward daemon\'s PKCS#7 verification answers as the kernel does', async (t) => {
  if (!inGuest(t, '6.12')) return;
  const policy = bytes('policy_name=signed policy_version=1.0.0\nDEFAULT action=ALLOW\n');
  const trusted = readCertificates([VM_IPE_CERT!]);
  // Made on the host with the enrolled key (scripts/vm.sh): a key that is not enrolled, and a
  // certificate forged with the enrolled one's issuer and serial but another key.
  const keys = dirname(VM_IPE_CERT!);
  const other = join(keys, 'other');
  const forged = join(keys, 'forged');
  const good = signPkcs7(policy, loadSigner(VM_IPE_KEY!, VM_IPE_CERT!));
  const tampered = Buffer.from(good);
  tampered[tampered.indexOf(bytes('ALLOW'))] = 0x61; // 'a': the content no longer matches the signature
  const blobs: Record<string, Buffer> = {
    signed: good,
    'signed by a key not enrolled': signPkcs7(policy, loadSigner(`${other}.key`, `${other}.crt`)),
    'content changed after signing': tampered,
    'signed by a forged certificate with the enrolled issuer and serial': signPkcs7(policy, loadSigner(`${forged}.key`, `${forged}.crt`)),
    'plain text, unsigned': policy,
    'truncated DER': good.subarray(0, good.length - 40),
  };
  const got: Record<string, string> = {};
  const want: Record<string, string> = {};
  for (const [label, blob] of Object.entries(blobs)) {
    const k = d!.kernel(blob).errno;
    const w = await verifySignedPolicy(blob, trusted);
    got[label] = w.ok ? 'OK' : w.error.code;
    want[label] = k;
  }
  assert.deepEqual(want, {
    signed: 'OK',
    'signed by a key not enrolled': 'ENOKEY',
    'content changed after signing': 'EKEYREJECTED',
    'signed by a forged certificate with the enrolled issuer and serial': 'ENOKEY',
    'plain text, unsigned': 'EBADMSG',
    'truncated DER': 'EBADMSG',
  });
  assert.deepEqual(got, want);
});
