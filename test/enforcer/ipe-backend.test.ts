// ward daemon's IPE backend on this host, whose kernel has no IPE (the backend itself is tested
// against the real IPE in the 6.12 guest: ipe-daemon.vm-6.12.test.ts): asking for it here is a
// clear refusal; the signing configuration is checked before anything starts; and ward's own
// PKCS#7 signer makes blobs that openssl and ward's verifier both accept.

import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ward } from '../helpers/cli.ts';
import { requires } from '../helpers/kernel.ts';
import { loadSigner, signPkcs7 } from '../../src/enforcer/pkcs7-sign.ts';
import { readCertificates, verifySignedPolicy } from '../../src/enforcer/signature.ts';

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
