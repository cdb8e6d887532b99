// `ward policy … --kernel` / `ward enforce --kernel` managing Linux 6.12's IPE through
// securityfs (in the guest): load, activate, update, delete, enforce, with the kernel's errnos,
// step by step against ward daemon's store rules (src/policy/store.ts) on the same sequence.
// The CLI runs in-process (main() returns the exit status) to keep the guest's work small.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { inGuest, VM_IPE_CERT, VM_IPE_KEY, VM_SCRATCH } from '../helpers/vm.ts';
import { loadSigner, signPkcs7 } from '../vm/pkcs7.ts';
import { main } from '../../src/cli/main.ts';
import { parsePolicy } from '../../src/policy/index.ts';
import { activatePolicy, deletePolicy, emptyPolicySet, loadPolicy, updatePolicy, type PolicySet } from '../../src/policy/lifecycle.ts';
import type { Policy } from '../../src/policy/model.ts';

const IPE = '/sys/kernel/security/ipe';

async function cli(argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => ((stdout += String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => ((stderr += String(s)), true)) as typeof process.stderr.write;
  try {
    return { status: await main(argv), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

test('ward policy --kernel drives the kernel\'s IPE, and the kernel answers as ward\'s store rules do', async (t) => {
  if (!inGuest(t, '6.12')) return;
  const dir = join(VM_SCRATCH, 'ipe-kernel-mode');
  mkdirSync(dir, { recursive: true });
  const signer = loadSigner(VM_IPE_KEY!, VM_IPE_CERT!);
  const files: Record<string, { pol: string; p7s: string; policy: Policy }> = {};
  for (const [id, name, version] of [['a5', 'kmode', '50.0.0'], ['a6', 'kmode', '60.0.0'], ['b1', 'kmode-b', '1.0.0'], ['b70', 'kmode-b', '70.0.0'], ['c6', 'kmode-c', '60.0.0']] as const) {
    const text = Buffer.from(`policy_name=${name} policy_version=${version}\nDEFAULT action=ALLOW\n`);
    const pol = join(dir, `${id}.pol`);
    const p7s = join(dir, `${id}.p7s`);
    writeFileSync(pol, text);
    writeFileSync(p7s, signPkcs7(text, signer));
    const r = parsePolicy(text);
    assert.ok(r.ok);
    files[id] = { pol, p7s, policy: r.value };
  }
  // ward's model starts from what the kernel has now (another test may have activated a policy).
  let store: PolicySet<Policy> = emptyPolicySet<Policy>();
  const listed = await cli(['policy', 'list', '--kernel', '--json']);
  assert.equal(listed.status, 0, listed.stderr);
  for (const { name, version, active } of (JSON.parse(listed.stdout) as { policies: Array<{ name: string; version: string; active: boolean }> }).policies) {
    const r = parsePolicy(`policy_name=${name} policy_version=${version}\nDEFAULT action=ALLOW\n`);
    assert.ok(r.ok);
    store = (loadPolicy(store, r.value) as { ok: true; value: PolicySet<Policy> }).value;
    if (active) store = { ...store, active: r.value.rawName, floor: r.value.version };
  }

  const steps: Array<[string, string[], (s: PolicySet<Policy>) => ReturnType<typeof loadPolicy<Policy>>]> = [
    ['load kmode 50', ['policy', 'load', '--kernel', files.a5!.pol, '--signed', files.a5!.p7s], (s) => loadPolicy(s, files.a5!.policy)],
    ['load kmode 50 again', ['policy', 'load', '--kernel', files.a5!.pol, '--signed', files.a5!.p7s], (s) => loadPolicy(s, files.a5!.policy)],
    ['activate kmode', ['policy', 'activate', '--kernel', 'kmode'], (s) => activatePolicy(s, 'kmode')],
    ['update kmode to the same version', ['policy', 'update', '--kernel', 'kmode', files.a5!.pol, '--signed', files.a5!.p7s], (s) => updatePolicy(s, 'kmode', files.a5!.policy)],
    ['update kmode with another name', ['policy', 'update', '--kernel', 'kmode', files.c6!.pol, '--signed', files.c6!.p7s], (s) => updatePolicy(s, 'kmode', files.c6!.policy)],
    ['update kmode to 60', ['policy', 'update', '--kernel', 'kmode', files.a6!.pol, '--signed', files.a6!.p7s], (s) => updatePolicy(s, 'kmode', files.a6!.policy)],
    ['load kmode-b 1', ['policy', 'load', '--kernel', files.b1!.pol, '--signed', files.b1!.p7s], (s) => loadPolicy(s, files.b1!.policy)],
    ['activate the older kmode-b', ['policy', 'activate', '--kernel', 'kmode-b'], (s) => activatePolicy(s, 'kmode-b')],
    ['delete the active kmode', ['policy', 'delete', '--kernel', 'kmode'], (s) => deletePolicy(s, 'kmode')],
    ['update kmode-b to 70', ['policy', 'update', '--kernel', 'kmode-b', files.b70!.pol, '--signed', files.b70!.p7s], (s) => updatePolicy(s, 'kmode-b', files.b70!.policy)],
    ['activate kmode-b 70', ['policy', 'activate', '--kernel', 'kmode-b'], (s) => activatePolicy(s, 'kmode-b')],
    ['delete kmode, no longer active', ['policy', 'delete', '--kernel', 'kmode'], (s) => deletePolicy(s, 'kmode')],
    ['delete kmode again', ['policy', 'delete', '--kernel', 'kmode'], (s) => deletePolicy(s, 'kmode')],
  ];
  const got: string[] = [];
  const want: string[] = [];
  for (const [label, argv, rule] of steps) {
    const r = await cli(argv);
    const errno = r.status === 0 ? 'OK' : (/ward: (E[A-Z]+)/.exec(r.stderr)?.[1] ?? `status ${r.status}: ${r.stderr}`);
    const m = rule(store);
    if (m.ok) store = m.value;
    got.push(`${label}: ${errno}`);
    want.push(`${label}: ${m.ok ? 'OK' : m.error.code}`);
  }
  assert.deepEqual(got, want);
  // The errnos the kernel documents, so that the comparison above cannot pass vacuously.
  assert.deepEqual(got.map((g) => g.split(': ')[1]), ['OK', 'EEXIST', 'OK', 'ESTALE', 'EINVAL', 'OK', 'OK', 'EINVAL', 'EPERM', 'OK', 'OK', 'OK', 'ENOENT']);
  assert.match((await cli(['policy', 'list', '--kernel'])).stdout, /^\* kmode-b 70\.0\.0 active$/m);
  assert.equal((await cli(['policy', 'show', '--kernel', 'kmode-b'])).stdout, readFileSync(files.b70!.pol, 'latin1'));
  // An unsigned policy is refused by the kernel (ward daemon would take it only without requireSigned).
  assert.match((await cli(['policy', 'load', '--kernel', files.c6!.pol])).stderr, /EBADMSG/);
  for (const v of ['off', 'on']) {
    assert.equal((await cli(['enforce', '--kernel', v])).status, 0);
    assert.equal(readFileSync(`${IPE}/enforce`, 'utf8').trim(), v === 'on' ? '1' : '0');
  }
});

test('ward policy --kernel addresses a policy whose name is not ASCII by its bytes (load, list, show, update, delete)', async (t) => {
  if (!inGuest(t, '6.12')) return;
  const dir = join(VM_SCRATCH, 'ipe-kernel-mode-utf8');
  mkdirSync(dir, { recursive: true });
  const signer = loadSigner(VM_IPE_KEY!, VM_IPE_CERT!);
  const name = 'kmödé-ü';
  const files = ['1.0.0', '2.0.0'].map((version, i) => {
    const text = Buffer.from(`policy_name=${name} policy_version=${version}\nDEFAULT action=ALLOW\n`, 'utf8');
    const pol = join(dir, `${i}.pol`);
    const p7s = join(dir, `${i}.p7s`);
    writeFileSync(pol, text);
    writeFileSync(p7s, signPkcs7(text, signer));
    return { pol, p7s, text };
  });
  assert.equal((await cli(['policy', 'load', '--kernel', files[0]!.pol, '--signed', files[0]!.p7s])).status, 0);
  // The kernel named the directory with the name's UTF-8 bytes (the oracle: the directory itself).
  const { readdirSync } = await import('node:fs');
  assert.ok(readdirSync(`${IPE}/policies`, { encoding: 'buffer' }).some((d) => d.equals(Buffer.from(name, 'utf8'))));
  const listed = JSON.parse((await cli(['policy', 'list', '--kernel', '--json'])).stdout) as { policies: Array<{ name: string; version: string }> };
  assert.deepEqual(listed.policies.find((p) => p.name === name), { name, version: '1.0.0', active: false, rules: null });
  // Byte for byte (the capture decodes what was written as UTF-8).
  assert.equal((await cli(['policy', 'show', '--kernel', name])).stdout, files[0]!.text.toString('utf8'));
  const up = await cli(['policy', 'update', '--kernel', name, files[1]!.pol, '--signed', files[1]!.p7s]);
  assert.equal(up.status, 0, up.stderr);
  assert.equal(readFileSync(Buffer.from(`${IPE}/policies/${name}/version`, 'utf8'), 'utf8').trim(), '2.0.0');
  const del = await cli(['policy', 'delete', '--kernel', name]);
  assert.equal(del.status, 0, del.stderr);
  assert.ok(!readdirSync(`${IPE}/policies`, { encoding: 'buffer' }).some((d) => d.equals(Buffer.from(name, 'utf8'))));
});
