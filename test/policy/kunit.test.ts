// The kernel's own parser cases (security/ipe/policy_tests.c, KUnit suite "ipe-parser"),
// expected errno and all. Each input goes through ward's parser as the same bytes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy } from '../../src/policy/index.ts';

// One table of the kernel's cases, shared with the differential against the real IPE (test/vm).
import { KUNIT_CASES as cases } from '../vm/ipe-cases.ts';

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
