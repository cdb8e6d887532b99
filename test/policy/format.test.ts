import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPolicy, parsePolicyOrThrow, policySemantics } from '../../src/policy/index.ts';

const fmt = (s: string | Uint8Array) => Buffer.from(formatPolicy(parsePolicyOrThrow(s))).toString('latin1');

test('canonical form: single spaces, plain versions, lower-case hex, comments kept, blank runs folded', () => {
  const input =
    '\n\n# leading comment\r\n' +
    'policy_name=demo\t \tpolicy_version=+01.002.0003   # trailing\n' +
    '\n\n\n' +
    '   DEFAULT\t action=DENY\xA0\n' +
    'op=EXECUTE   fsverity_digest=sha256:ABCD\tboot_verified=TRUE action=ALLOW\n' +
    '#tight comment   \n' +
    'DEFAULT op=KMODULE action=ALLOW\n\n';
  assert.equal(
    fmt(Buffer.from(input, 'latin1')), // 0xA0 as one byte: a kernel space
    '# leading comment\n' +
      'policy_name=demo policy_version=1.2.3 # trailing\n' +
      '\n' +
      'DEFAULT action=DENY\n' +
      'op=EXECUTE fsverity_digest=sha256:abcd boot_verified=TRUE action=ALLOW\n' +
      '#tight comment\n' +
      'DEFAULT op=KMODULE action=ALLOW\n',
  );
});

test('format is idempotent and keeps the semantics; bytes >= 0x80 in names survive', () => {
  const input = 'policy_name=caf\xE9\xFF policy_version=0.0.1\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_roothash=:00 action=DENY\n\0tail';
  const once = fmt(Buffer.from(input, 'latin1'));
  assert.equal(fmt(Buffer.from(once, 'latin1')), once);
  assert.ok(once.startsWith('policy_name=caf\xE9\xFF '));
  assert.ok(!once.includes('tail'), 'what follows a NUL is not part of the policy');
  assert.deepEqual(
    policySemantics(parsePolicyOrThrow(Buffer.from(once, 'latin1'))),
    policySemantics(parsePolicyOrThrow(Buffer.from(input, 'latin1'))),
  );
});
