import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ward, REPO_ROOT } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'ward-cli-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string | Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

test('policy check: every example is valid (exit 0) with a summary', () => {
  for (const f of readdirSync(join(REPO_ROOT, 'examples'))) {
    const r = ward(['policy', 'check', join(REPO_ROOT, 'examples', f)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /: ok: policy "/);
  }
});

test('policy check: invalid → exit 1, file:line:col: ERRNO: message, the line and a caret', () => {
  const p = file('bad.pol', 'policy_name=x policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE\tfsverity_digest=sha256:0g action=DENY\n');
  const r = ward(['policy', 'check', p]);
  assert.equal(r.status, 1);
  const [head, line, caret] = r.stderr.trimEnd().split('\n');
  assert.equal(head, `${p}:3:36: EINVAL: the digest cannot be decoded: the character "g" is not a hex digit; write the digest as an even number of hex digits after "sha256:"`);
  assert.equal(line, '  op=EXECUTE\tfsverity_digest=sha256:0g action=DENY');
  assert.equal(caret, '  ' + ' '.repeat(10) + '\t' + ' '.repeat(24) + '^');
});

test('policy check --json: exactly one object, for valid and invalid input', () => {
  const good = ward(['policy', 'check', '--json', join(REPO_ROOT, 'examples/digest-allowlist.pol')]);
  assert.equal(good.status, 0);
  assert.deepEqual(JSON.parse(good.stdout), { ok: true, name: 'digest_allowlist', version: '1.0.0', rules: 4 });
  const bad = ward(['policy', 'check', '--json', '-'], { input: 'policy_name=x policy_version=1.0\nDEFAULT action=ALLOW\n' });
  assert.equal(bad.status, 1);
  assert.deepEqual(JSON.parse(bad.stdout), {
    ok: false,
    errno: 'EBADMSG',
    line: 1,
    column: 15,
    token: 'policy_version=1.0',
    message: 'the version has 2 parts; write it as MAJOR.MINOR.REVISION, e.g. "1.0.0"',
  });
  assert.equal(bad.stdout.trim().split('\n').length, 1);
});

test('policy check: usage errors exit 2 with a clear message', () => {
  const missing = ward(['policy', 'check', join(dir, 'nope.pol')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /ENOENT: cannot read .*nope\.pol: no such file/);
  const noArg = ward(['policy', 'check']);
  assert.equal(noArg.status, 2);
  assert.match(noArg.stderr, /missing required argument 'file'/);
  const unknownFlag = ward(['policy', 'check', '--frobnicate', 'x']);
  assert.equal(unknownFlag.status, 2);
  assert.match(unknownFlag.stderr, /unknown option '--frobnicate'/);
  const unknownCommand = ward(['polcy']);
  assert.equal(unknownCommand.status, 2);
  assert.match(unknownCommand.stderr, /unknown command 'polcy'[\s\S]*Did you mean policy/);
});

test('policy fmt prints the canonical form; --check and --write', () => {
  const p = file('messy.pol', 'policy_name=m   policy_version=01.0.0\n\n\n  DEFAULT   action=ALLOW # ok\n');
  const r = ward(['policy', 'fmt', p]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'policy_name=m policy_version=1.0.0\n\nDEFAULT action=ALLOW # ok\n');
  assert.equal(ward(['policy', 'fmt', '--check', p]).status, 1);
  assert.equal(ward(['policy', 'fmt', '--write', p]).status, 0);
  assert.equal(readFileSync(p, 'utf8'), r.stdout);
  assert.equal(ward(['policy', 'fmt', '--check', p]).status, 0);
  // An invalid policy is never written.
  const bad = file('bad2.pol', 'policy_name=m policy_version=1.0.0\n');
  assert.equal(ward(['policy', 'fmt', '--write', bad]).status, 1);
  assert.equal(readFileSync(bad, 'utf8'), 'policy_name=m policy_version=1.0.0\n');
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), []);
});

test('policy eval: decision, match type and rule with its line; exit 0 allow / 1 deny', () => {
  const pol = join(REPO_ROOT, 'examples/digest-allowlist.pol');
  const allowed = 'sha256:3d4b1e9f0c6a7b2d5e8f1a4c7b0d3e6f9a2c5b8e1d4f7a0c3b6e9d2f5a8c1b4e';
  const r = ward(['policy', 'eval', pol, '--op', 'EXECUTE', '--context', JSON.stringify({ fsverity_digest: allowed }), '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    op: 'EXECUTE',
    action: 'ALLOW',
    match: 'rule',
    rule: `op=EXECUTE fsverity_digest=${allowed} action=ALLOW`,
    line: 14,
  });
  const d = ward(['policy', 'eval', pol, '--op', 'EXECUTE', '--context', '{"boot_verified":true}']);
  assert.equal(d.status, 1);
  assert.equal(d.stdout, 'DENY by op default at line 8: DEFAULT op=EXECUTE action=DENY\n');
  const g = ward(['policy', 'eval', pol, '--op', 'FIRMWARE']);
  assert.equal(g.stdout, 'ALLOW by global default at line 7: DEFAULT action=ALLOW\n');
});

test('policy eval: bad op, bad JSON, bad context fields, invalid policy → exit 2', () => {
  const pol = join(REPO_ROOT, 'examples/allow-all.pol');
  const badOp = ward(['policy', 'eval', pol, '--op', 'execute']);
  assert.equal(badOp.status, 2);
  assert.match(badOp.stderr, /unknown op "execute"; use one of EXECUTE/);
  const badJson = ward(['policy', 'eval', pol, '--op', 'EXECUTE', '--context', '{']);
  assert.equal(badJson.status, 2);
  assert.match(badJson.stderr, /--context is not valid JSON/);
  const badField = ward(['policy', 'eval', pol, '--op', 'EXECUTE', '--context', '{"boot":true}']);
  assert.equal(badField.status, 2);
  assert.match(badField.stderr, /--context: unknown field "boot"; known fields: boot_verified/);
  const both = ward(['policy', 'eval', pol, '/bin/true', '--context', '{}']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /either files to evaluate or --context, not both/);
  const invalid = ward(['policy', 'eval', '-', '--op', 'EXECUTE'], { input: 'nothing' });
  assert.equal(invalid.status, 2);
  assert.match(invalid.stderr, /^<stdin>:1:1: EBADMSG: /);
});

test('help and version', () => {
  const h = ward(['--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /Usage: ward/);
  const hp = ward(['help', 'policy']);
  assert.equal(hp.status, 0);
  assert.match(hp.stdout, /check \[options\] <file>/);
  const v = ward(['--version']);
  assert.equal(v.status, 0);
  assert.equal(v.stdout.trim(), JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version);
});
