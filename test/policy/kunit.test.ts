// The kernel's own parser cases (security/ipe/policy_tests.c, KUnit suite "ipe-parser"),
// expected errno and all. Each input goes through ward's parser as the same bytes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy } from '../../src/policy/index.ts';

const cases: Array<[string, 0 | 'EBADMSG' | 'EINVAL' | 'ERANGE', string]> = [
  ['policy_name=allowall policy_version=0.0.0\nDEFAULT action=ALLOW', 0, 'basic'],
  ['policy_name=trailing_comment policy_version=152.0.0 #This is comment\nDEFAULT action=ALLOW', 0, 'trailing comment'],
  ['policy_name=allowallnewline policy_version=0.2.0\nDEFAULT action=ALLOW\n\n', 0, 'trailing newline'],
  ['policy_name=carriagereturnlinefeed policy_version=0.0.1\nDEFAULT action=ALLOW\n\r\n', 0, 'clrf newline'],
  [
    'policy_name=whitespace policy_version=0.0.0\n' +
      'DEFAULT\taction=ALLOW\n' +
      '     \t     DEFAULT \t    op=EXECUTE      action=DENY\n' +
      'op=EXECUTE boot_verified=TRUE action=ALLOW\n' +
      '# this is a\tcomment\t\t\t\t\n' +
      'DEFAULT \t op=KMODULE\t\t\t  action=DENY\r\n' +
      'op=KMODULE boot_verified=TRUE action=ALLOW\n',
    0,
    'various whitespaces and nested default',
  ],
  ['policy_name=boot_verified policy_version=-1236.0.0\nDEFAULT\taction=ALLOW\n', 'EINVAL', 'negative version'],
  ['policy_name=$@!*&^%%\\:;{}() policy_version=0.0.0\nDEFAULT action=ALLOW', 0, 'special characters'],
  ['policy_name=test policy_version=999999.0.0\nDEFAULT action=ALLOW', 'ERANGE', 'overflow version'],
  ['policy_name=test policy_version=255.0\nDEFAULT action=ALLOW', 'EBADMSG', 'incomplete version'],
  ['policy_name=test policy_version=111.0.0.0\nDEFAULT action=ALLOW', 'EBADMSG', 'extra version'],
  ['', 'EBADMSG', '0-length policy'],
  ['policy_name=test\0policy_version=0.0.0\nDEFAULT action=ALLOW', 'EBADMSG', 'random null in header'],
  ['policy_name=test policy_version=0.0.0\n\0DEFAULT action=ALLOW', 'EBADMSG', 'incomplete policy from NULL'],
  [
    'policy_name=test policy_version=0.0.0\nDEFAULT action=DENY\n\0op=EXECUTE dmverity_signature=TRUE action=ALLOW\n',
    0,
    'NULL truncates policy',
  ],
  [
    'policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_signature=abc action=ALLOW',
    'EBADMSG',
    'invalid property type',
  ],
  ['DEFAULT action=ALLOW', 'EBADMSG', 'missing policy header'],
  ['policy_name=test policy_version=0.0.0\n', 'EBADMSG', 'missing default definition'],
  [
    'policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\ndmverity_signature=TRUE op=EXECUTE action=ALLOW',
    'EBADMSG',
    'invalid rule ordering',
  ],
  [
    'policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\naction=ALLOW op=EXECUTE dmverity_signature=TRUE',
    'EBADMSG',
    'invalid rule ordering (2)',
  ],
  [
    'policy_name=test policy_version=0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_signature=TRUE action=ALLOW',
    'EBADMSG',
    'invalid version',
  ],
  [
    'policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nop=UNKNOWN dmverity_signature=TRUE action=ALLOW',
    'EBADMSG',
    'unknown operation',
  ],
  ['policy_name=asdvpolicy_version=0.0.0\nDEFAULT action=ALLOW\n', 'EBADMSG', 'missing space after policy name'],
  [
    'policy_name=test\xFF\xEF policy_version=0.0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_signature=TRUE action=ALLOW',
    0,
    'expanded ascii',
  ],
  [
    'policy_name=test\xFF\xEF policy_version=0.0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_roothash=GOOD_DOG action=ALLOW',
    'EBADMSG',
    'invalid property value (2)',
  ],
  [
    'policy_name=test policy_version=0.0.0\npolicy_name=test policy_version=0.1.0\nDEFAULT action=ALLOW',
    'EBADMSG',
    'double header',
  ],
  ['policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nDEFAULT action=ALLOW\n', 'EBADMSG', 'double default'],
  [
    'policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\nDEFAULT op=EXECUTE action=ALLOW\n',
    'EBADMSG',
    'double operation default',
  ],
  ['policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DEN\n', 'EBADMSG', 'invalid action value'],
  ['policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action\n', 'EBADMSG', 'invalid action value (2)'],
  ['policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nUNKNOWN value=true\n', 'EBADMSG', 'unrecognized statement'],
  [
    'policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_roothash=1c0d7ee1f8343b7fbe418378e8eb22c061d7dec7 action=DENY\n',
    'EBADMSG',
    'old-style digest',
  ],
  [
    'policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=1c0d7ee1f8343b7fbe418378e8eb22c061d7dec7 action=DENY\n',
    'EBADMSG',
    'old-style digest (fsverity)',
  ],
];

// The C test writes "\xFF\xEF" as raw bytes, not UTF-8: pass those strings as latin1 bytes.
const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');

for (const [policy, errno, desc] of cases) {
  test(`kernel KUnit ipe-parser: ${desc}`, () => {
    const r = parsePolicy(bytes(policy));
    if (errno === 0) {
      assert.ok(r.ok, r.ok ? '' : `${r.error.code} ${r.error.message}`);
      // KUNIT_EXPECT_STREQ(pol->text, p->policy): the text is kept exactly as given.
      assert.deepEqual(Buffer.from(r.value.text), Buffer.from(bytes(policy)));
    } else {
      assert.equal(r.ok, false, 'must be rejected');
      if (!r.ok) assert.equal(r.error.code, errno);
    }
  });
}

test('kernel KUnit ipe-parser: wide-string policy is rejected', () => {
  const wide = Buffer.from('policy_name=Test policy_version=0.0.0\nDEFAULT action=ALLOW', 'utf16le');
  const r = parsePolicy(wide);
  assert.equal(r.ok, false);
});
