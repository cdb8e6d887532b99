// ward daemon's IPE backend on this host, whose kernel has no IPE (the backend itself is tested
// against the real IPE in the 6.12 guest: ipe-daemon.vm-6.12.test.ts): asking for it here is a
// clear refusal; the signing configuration is checked before anything starts; ward's own
// PKCS#7 signer makes blobs that openssl and ward's verifier both accept; and a policy that
// allows by fsverity_digest (which the kernel's IPE matches only on fs-verity files) is warned
// about at every step, through a stand-in for securityfs.

import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WARD_BIN, ward } from '../helpers/cli.ts';
import { IS_ROOT, requires } from '../helpers/kernel.ts';
import { loadSigner, signPkcs7 } from '../../src/enforcer/pkcs7-sign.ts';
import { readCertificates, verifySignedPolicy } from '../../src/enforcer/signature.ts';
import { IpeBackend } from '../../src/enforcer/ipe-backend.ts';
import { Manager } from '../../src/enforcer/manage.ts';
import { PolicyState } from '../../src/enforcer/state.ts';
import { ControlServer } from '../../src/enforcer/control.ts';
import type { kernelIpe } from '../../src/enforcer/securityfs.ts';
import { allowRulesNaming } from '../../src/policy/property-rules.ts';
import { displayText } from '../../src/policy/model.ts';
import { parsePolicyOrThrow } from '../../src/policy/parser.ts';

let dir = '';
const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ward-ipe-backend-'));
  if (!hasOpenssl) return;
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'rsa.key'), '-out', join(dir, 'rsa.crt'), '-days', '2', '-subj', '/CN=ward ipe backend test'], { stdio: 'ignore' });
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'ec.key'), '-out', join(dir, 'ec.crt'), '-days', '2', '-subj', '/CN=ward ec'], { stdio: 'ignore' });
});

after(() => rmSync(dir, { recursive: true, force: true }));

// Through requires(): a missing openssl fails the test under CI=true (scripts/test-deps.sh installs it).
const needOpenssl = (t: TestContext): boolean => requires(t, hasOpenssl, 'openssl (scripts/test-deps.sh installs it)');

test('--backend ipe where the kernel has no IPE: refused, naming what is missing, nothing started', (t) => {
  // On a kernel with IPE this is the 6.12 guest test's case (test/enforcer/ipe-daemon.vm-6.12.test.ts).
  if (!requires(t, !existsSync('/sys/kernel/security/ipe'), 'a kernel without IPE (the 6.12 guest test covers one with it)')) return;
  writeFileSync(join(dir, 'daemon.json'), '{}\n');
  const r = ward(['daemon', '--config', join(dir, 'daemon.json'), '--state-dir', join(dir, 'state'), '--socket', join(dir, 'ctl.sock'), '--audit-log', join(dir, 'audit.jsonl'), '--backend', 'ipe'], { timeout: 60_000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /ENOENT.*the IPE backend needs the kernel's IPE: \/sys\/kernel\/security\/ipe does not exist/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(existsSync(join(dir, 'ctl.sock')), false);
});

test('--check-config: the signing key and certificate go together, and only RSA keys sign', (t) => {
  if (!needOpenssl(t)) return;
  const check = (extra: string[]) => JSON.parse(ward(['daemon', '--check-config', '--json', '--config', join(dir, 'daemon.json'), '--state-dir', join(dir, 'cc-state'), ...extra]).stdout) as { ok: boolean; problems: string[] };
  writeFileSync(join(dir, 'daemon.json'), '{}\n');
  assert.deepEqual(check(['--ipe-signing-key', join(dir, 'rsa.key'), '--ipe-signing-cert', join(dir, 'rsa.crt')]).problems, []);
  assert.match(check(['--ipe-signing-key', join(dir, 'rsa.key')]).problems.join('\n'), /ipeSigningKey and ipeSigningCert go together/);
  assert.match(check(['--ipe-signing-key', join(dir, 'ec.key'), '--ipe-signing-cert', join(dir, 'ec.crt')]).problems.join('\n'), /a ec key; ward signs policies with RSA keys only/);
  assert.match(check(['--ipe-signing-key', join(dir, 'none.key'), '--ipe-signing-cert', join(dir, 'rsa.crt')]).problems.join('\n'), /cannot read the signing key .*none\.key: ENOENT/);
});

test('ward\'s PKCS#7 signer: openssl and ward\'s verifier accept its blobs, with the content attached', async (t) => {
  if (!needOpenssl(t)) return;
  const text = Buffer.from('policy_name=signed policy_version=0.0.1\nDEFAULT action=ALLOW\n');
  const blob = signPkcs7(text, loadSigner(join(dir, 'rsa.key'), join(dir, 'rsa.crt')));
  writeFileSync(join(dir, 'p.p7s'), blob);
  const out = execFileSync('openssl', ['smime', '-verify', '-binary', '-inform', 'der', '-in', join(dir, 'p.p7s'), '-CAfile', join(dir, 'rsa.crt'), '-purpose', 'any'], { stdio: ['ignore', 'pipe', 'ignore'] });
  assert.deepEqual(out, text);
  const v = await verifySignedPolicy(blob, readCertificates([join(dir, 'rsa.crt')]));
  assert.ok(v.ok);
  assert.deepEqual(Buffer.from(v.value.content), text);
  const other = await verifySignedPolicy(blob, readCertificates([join(dir, 'ec.crt')]));
  assert.equal(other.ok ? 'ok' : other.error.code, 'ENOKEY');
  assert.equal(readFileSync(join(dir, 'p.p7s')).length, blob.length);
});

test('the signing key must be the owner\'s alone: group/world-readable, foreign-owned or symlinked keys are refused', (t) => {
  if (!needOpenssl(t)) return;
  const check = (key: string) => JSON.parse(ward(['daemon', '--check-config', '--json', '--config', join(dir, 'daemon.json'), '--state-dir', join(dir, 'perm-state'), '--ipe-signing-key', key, '--ipe-signing-cert', join(dir, 'rsa.crt')]).stdout) as { ok: boolean; problems: string[] };
  writeFileSync(join(dir, 'daemon.json'), '{}\n');
  const copy = (name: string, mode: number) => {
    const p = join(dir, name);
    copyFileSync(join(dir, 'rsa.key'), p);
    chmodSync(p, mode);
    return p;
  };
  assert.deepEqual(check(copy('private.key', 0o600)).problems, []);
  assert.match(check(copy('world.key', 0o644)).problems.join('\n'), /EACCES|mode 0644: group or others can use it .*chmod 600/);
  assert.match(check(copy('group.key', 0o640)).problems.join('\n'), /mode 0640/);
  symlinkSync(join(dir, 'private.key'), join(dir, 'link.key'));
  assert.match(check(join(dir, 'link.key')).problems.join('\n'), /is a symbolic link/);
  if (process.geteuid?.() === 0) {
    const foreign = copy('foreign.key', 0o600);
    chownSync(foreign, 65534, 65534);
    assert.match(check(foreign).problems.join('\n'), /belongs to uid 65534, not root/);
  }
});

test('allowRulesNaming counts ALLOW rules on a property as the kernel tokenizes them', () => {
  const d = `sha256:${'ab'.repeat(32)}`;
  const text = [
    'policy_name=p policy_version=0.0.1',
    `# op=EXECUTE fsverity_digest=${d} action=ALLOW (a comment)`,
    'DEFAULT action=ALLOW',
    `op=EXECUTE fsverity_digest=${d} action=ALLOW`,
    `op=EXECUTE\tboot_verified=TRUE  fsverity_digest=${d} action=ALLOW # two properties`,
    `op=KMODULE fsverity_digest=${d} action=ALLOW`,
    `op=EXECUTE fsverity_digest=${d} action=DENY`,
    'op=EXECUTE fsverity_signature=TRUE action=ALLOW',
    `op=EXECUTE dmverity_roothash=${d} action=ALLOW`,
    '',
  ].join('\n');
  assert.equal(allowRulesNaming(text, 'fsverity_digest'), 3);
  assert.equal(allowRulesNaming(text, 'dmverity_roothash'), 1);
  assert.equal(allowRulesNaming(text, 'dmverity_signature'), 0);
  // Everything after a NUL is ignored, as the kernel does.
  assert.equal(allowRulesNaming(`policy_name=p policy_version=0.0.1\nDEFAULT action=ALLOW\n\0op=EXECUTE fsverity_digest=${d} action=ALLOW\n`, 'fsverity_digest'), 0);
});

/** securityfs as the backend uses it; a signed blob carries its text verbatim (content attached). */
function fakeKernel(o: { displayNames?: boolean } = {}): typeof kernelIpe {
  const policies = new Map<string, { text: ReturnType<typeof kernelIpe.show>; version: string; active: boolean }>();
  const put = (blob: Uint8Array) => {
    const b = Buffer.from(blob);
    const m = /policy_name=(\S+) policy_version=(\S+)/.exec(b.toString('latin1'));
    assert.ok(m, 'a signed policy');
    // The attached content runs on to the end of its DER OCTET STRING; its start is enough here.
    policies.set(m[1]!, { text: Buffer.concat([b.subarray(m.index)]), version: m[2]!, active: policies.get(m[1]!)?.active ?? false });
  };
  return {
    load: put,
    update: (_name: string, blob: Uint8Array) => put(blob),
    activate: (name: string) => {
      for (const [n, p] of policies) p.active = n === name;
    },
    delete: (name: string) => void policies.delete(name),
    enforce: () => {},
    auditSuccess: () => {},
    // As securityfs.ts lists them: name for display (UTF-8, invalid bytes replaced), rawName the bytes.
    list: () => [...policies].map(([name, p]) => ({ name: o.displayNames ? displayText(name) : name, rawName: name, version: p.version, active: p.active })),
    show: (name: string) => policies.get(name)!.text,
    present: () => true,
    enforcing: () => true,
  };
}

/** The CLI in a child, without blocking this process (which serves its control socket). */
function wardAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [WARD_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

test('the kernel\'s IPE matches fsverity_digest only on fs-verity files: a generated policy is warned about at load, activation and update, in the log and in daemon-status', async (t) => {
  if (!needOpenssl(t)) return;
  if (!requires(t, IS_ROOT, 'root (the control socket admits root)')) return;
  const base = join(dir, 'verity-warning');
  mkdirSync(join(base, 'app'), { recursive: true });
  for (const n of ['a', 'b']) {
    writeFileSync(join(base, 'app', n), `#!/bin/sh\necho ${n}\n`);
    chmodSync(join(base, 'app', n), 0o755);
  }
  const generated = join(base, 'app.pol');
  const gen = ward(['policy', 'generate', '--from-dir', join(base, 'app'), '--name', 'app', '-o', generated]);
  assert.equal(gen.status, 0, gen.stderr);
  // The generated file says it itself (and trust check still reads its comments).
  assert.match(readFileSync(generated, 'utf8'), /^# The kernel's IPE .* matches fsverity_digest only on$/m);
  assert.equal(ward(['trust', 'check', generated]).status, 0);
  const denyOnly = join(base, 'deny.pol');
  writeFileSync(denyOnly, `policy_name=deny policy_version=2.0.0\nDEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=sha256:${'cd'.repeat(32)} action=DENY\n`);

  const logs: string[] = [];
  const backend = new IpeBackend({ signingKey: join(dir, 'rsa.key'), signingCert: join(dir, 'rsa.crt'), kernel: fakeKernel() });
  const st = PolicyState.open(join(base, 'state'), { enforce: true, auditSuccess: false });
  assert.ok(st.ok);
  // Wired as ward daemon wires its backend (daemon.ts, #newManager).
  const m = new Manager(st.value, { trustedCerts: [], requireSigned: false }, {
    activePolicy: (p) => backend.swapPolicy(p),
    mode: (mode) => backend.setMode(mode),
    audit: () => {},
    status: () => ({ backend: 'ipe', gaps: backend.status().gaps }),
    admit: (p, pkcs7, how) => backend.admit(p, pkcs7, how),
  });
  await backend.start(undefined, { enforce: true, auditSuccess: false }, { audit: () => {}, log: (l) => void logs.push(l), failed: () => {} });
  const socket = join(base, 'ctl.sock');
  const server = new ControlServer(socket, undefined, (req, peer) => m.handle(req, peer));
  await server.listen();
  t.after(() => server.close());
  const warning = /^ward: warning: policy "app" allows by fsverity_digest \(2 ALLOW rules\), which the kernel's IPE matches only on files with fs-verity enabled/m;

  const load = await wardAsync(['policy', 'load', generated, '--socket', socket]);
  assert.equal(load.status, 0, load.stderr);
  assert.match(load.stdout, /^loaded "app"/);
  assert.match(load.stderr, warning);
  const activate = await wardAsync(['policy', 'activate', 'app', '--socket', socket]);
  assert.equal(activate.status, 0, activate.stderr);
  assert.match(activate.stderr, warning);
  assert.ok(logs.some((l) => /^warning: policy "app" allows by fsverity_digest/.test(l)), logs.join('\n'));
  const status = await wardAsync(['daemon-status', '--socket', socket, '--json']);
  assert.ok((JSON.parse(status.stdout) as { gaps: string[] }).gaps.some((g) => /allows by fsverity_digest \(2 ALLOW rules\)/.test(g)));
  // --json carries them in the answer.
  writeFileSync(generated, readFileSync(generated, 'utf8').replace('policy_version=1.0.0', 'policy_version=1.0.1'));
  const update = await wardAsync(['policy', 'update', 'app', generated, '--socket', socket, '--json']);
  assert.equal(update.status, 0, update.stderr);
  assert.match((JSON.parse(update.stdout) as { warnings: string[] }).warnings.join('\n'), /allows by fsverity_digest \(2 ALLOW rules\)/);

  // DENY rules on a digest are not warned about: with no fs-verity they deny nothing, which the
  // DEFAULT already decides. Once that policy is active, daemon-status says nothing either.
  const other = await wardAsync(['policy', 'load', denyOnly, '--socket', socket]);
  assert.equal(other.status, 0, other.stderr);
  assert.doesNotMatch(other.stderr, /warning/);
  assert.equal((await wardAsync(['policy', 'activate', 'deny', '--socket', socket])).status, 0);
  assert.ok(!backend.status().gaps.some((g) => /fsverity_digest/.test(g)), backend.status().gaps.join('\n'));
});

// securityfs.ts lists each kernel policy with a display name and its bytes (rawName); the
// backend compared the display name with ward's raw name, so a policy named in non-ASCII UTF-8
// was "not ward's" in daemon-status while the kernel enforced exactly it.
test('a policy with a non-ASCII name, active in the kernel as in ward, is no drift in status and is named as written', async (t) => {
  if (!needOpenssl(t)) return;
  const p = parsePolicyOrThrow(Buffer.from('policy_name=pólicy policy_version=1.0.0\nDEFAULT action=ALLOW\n'));
  assert.notEqual(p.rawName, displayText(p.rawName), 'the name has bytes above 0x7f');
  const logs: string[] = [];
  const backend = new IpeBackend({ signingKey: join(dir, 'rsa.key'), signingCert: join(dir, 'rsa.crt'), kernel: fakeKernel({ displayNames: true }) });
  await backend.start(p, { enforce: true, auditSuccess: false }, { audit: () => {}, log: (l) => void logs.push(l), failed: () => {} });
  const gaps = backend.status().gaps;
  assert.ok(!gaps.some((g) => /the kernel's active IPE policy/.test(g)), gaps.join('\n'));
  // Messages name it as written (a display name decoded once more turned "ó" into U+FFFD).
  await backend.swapPolicy(undefined);
  assert.ok(logs.some((l) => l.includes('keeps enforcing "pólicy" 1.0.0')), logs.join('\n'));
});
