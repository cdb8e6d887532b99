// Signed policies: PKCS#7 DER with the content attached, as IPE's new_policy takes them, made
// here with OpenSSL (an independent tool) and verified by ward daemon against trustedCerts.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, requires } from '../helpers/kernel.ts';
import { TestDaemon } from '../helpers/daemon.ts';

const HAVE_OPENSSL = spawnSync('openssl', ['version']).status === 0;
const canRun = IS_ROOT && HAVE_OPENSSL;
let d: TestDaemon;
let cert: string, key: string, otherCert: string, otherKey: string;

function keypair(dir: string, name: string): [string, string] {
  const c = join(dir, `${name}.pem`);
  const k = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', k, '-out', c, '-days', '30', '-subj', `/CN=${name}`], { stdio: 'ignore' });
  return [c, k];
}

function sign(policyFile: string, c: string, k: string): string {
  const out = `${policyFile}.p7s`;
  execFileSync('openssl', ['smime', '-sign', '-in', policyFile, '-signer', c, '-inkey', k, '-noattr', '-nodetach', '-nosmimecap', '-binary', '-outform', 'der', '-out', out]);
  return out;
}

before(async () => {
  if (!canRun) return;
  d = new TestDaemon();
  [cert, key] = keypair(d.scratch.root, 'signer');
  [otherCert, otherKey] = keypair(d.scratch.root, 'stranger');
  await d.start({ extraArgs: ['--trusted-cert', cert] });
});
after(async () => d?.cleanup());

test('a policy signed by a trusted certificate loads; the audit digest is of the PKCS#7 blob', async (t) => {
  if (!requires(t, canRun, 'root and openssl (scripts/test-deps.sh)')) return;
  const pol = d.policy('s1.pol', 'policy_name=signed policy_version=1.0.0\nDEFAULT action=ALLOW\n');
  const p7s = sign(pol, cert, key);
  const r = d.ctl(['policy', 'load', pol, '--signed', p7s]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /loaded "signed" version 1.0.0 \(signature verified\)/);
  const rec = await d.waitAudit((x) => x.type === 'IPE_POLICY_LOAD' && x.policy_name === 'signed');
  assert.equal(rec?.policy_digest, `sha256:${createHash('sha256').update(readFileSync(p7s)).digest('hex')}`);
  const shown = JSON.parse(d.ctl(['policy', 'show', 'signed', '--json']).stdout) as { signed: boolean };
  assert.equal(shown.signed, true);
});

test('untrusted signer → ENOKEY; changed content → EKEYREJECTED; not PKCS#7 → EBADMSG; other content → EINVAL', (t) => {
  if (!requires(t, canRun, 'root and openssl')) return;
  const pol = d.policy('s2.pol', 'policy_name=signed2 policy_version=1.0.0\nDEFAULT action=ALLOW\n');
  assert.match(d.ctl(['policy', 'load', pol, '--signed', sign(pol, otherCert, otherKey)]).stderr, /^ward: ENOKEY: /);
  const good = sign(pol, cert, key);
  const tampered = Buffer.from(readFileSync(good));
  const at = tampered.indexOf('action=ALLOW');
  tampered.write('action=DENY!', at);
  const tamperedFile = join(d.scratch.root, 'tampered.p7s');
  writeFileSync(tamperedFile, tampered);
  const polDeny = d.policy('s2deny.pol', 'policy_name=signed2 policy_version=1.0.0\nDEFAULT action=DENY!\n');
  assert.match(d.ctl(['policy', 'load', polDeny, '--signed', tamperedFile]).stderr, /^ward: EKEYREJECTED: the signature does not verify/);
  const junk = join(d.scratch.root, 'junk.p7s');
  writeFileSync(junk, 'not a signature');
  assert.match(d.ctl(['policy', 'load', pol, '--signed', junk]).stderr, /^ward: EBADMSG: not a DER PKCS#7 signed message/);
  const other = d.policy('s3.pol', 'policy_name=signed2 policy_version=2.0.0\nDEFAULT action=ALLOW\n');
  assert.match(d.ctl(['policy', 'load', other, '--signed', good]).stderr, /^ward: EINVAL: the signed content differs from the policy file given with it/);
  assert.equal(d.ctl(['policy', 'load', pol, '--signed', good]).status, 0);
});

test('requireSigned refuses unsigned policies; signatures survive a restart', async (t) => {
  if (!requires(t, canRun, 'root and openssl')) return;
  await d.stop();
  await d.start({ extraArgs: ['--trusted-cert', cert, '--require-signed'] });
  const pol = d.policy('u.pol', 'policy_name=unsigned policy_version=1.0.0\nDEFAULT action=ALLOW\n');
  const r = d.ctl(['policy', 'load', pol]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /EBADMSG: this daemon accepts only signed policies \(requireSigned\)/);
  const shown = JSON.parse(d.ctl(['policy', 'show', 'signed', '--json']).stdout) as { signed: boolean; digest: string };
  assert.equal(shown.signed, true);
  const v2 = d.policy('s1v2.pol', 'policy_name=signed policy_version=1.0.1\nDEFAULT action=ALLOW\n');
  assert.equal(d.ctl(['policy', 'update', 'signed', v2, '--signed', sign(v2, cert, key)]).status, 0);
  assert.equal(d.ctl(['policy', 'update', 'signed', v2]).status, 1, 'unsigned update refused too');
});
