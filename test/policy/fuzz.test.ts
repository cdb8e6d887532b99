// Fuzzing the parser (>= 100k cases per run): random bytes and mutations of valid policies
// must only ever produce a policy or a typed PolicyParseError; accepted inputs must format
// and re-parse to the same policy.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatPolicy, parsePolicy, parsePolicyLazy, policySemantics, PolicyParseError, ruleCount, validatePolicy } from '../../src/policy/index.ts';
import { mutatedPolicy } from '../helpers/policy-arbitraries.ts';
import { fastRule, isCommonRule } from '../../src/policy/fastpath.ts';

const ERRNOS = new Set(['EBADMSG', 'EINVAL', 'ERANGE']);

function checkOutcome(input: Uint8Array): void {
  let r;
  try {
    r = parsePolicy(input);
  } catch (e) {
    assert.fail(`parsePolicy threw ${String(e)} for ${JSON.stringify(Buffer.from(input).toString('latin1'))}`);
  }
  // The fast path's two forms (building a rule, or only recognising one) agree line by line.
  for (const line of Buffer.from(input).toString('latin1').split(/\r\n|\r|\n/)) {
    assert.equal(isCommonRule(line), fastRule(line, 1) !== undefined, JSON.stringify(line));
  }
  // The fast path and validate-only mode give exactly the answers of the general lexer.
  const reference = parsePolicy(input, { fastPath: false });
  assert.deepEqual(r, reference, 'fast path = general path');
  const v = validatePolicy(input);
  assert.equal(v.ok, r.ok);
  if (!v.ok && !r.ok) assert.deepEqual(v.error, r.error);
  if (v.ok && r.ok) assert.deepEqual(v.value, { name: r.value.name, rawName: r.value.rawName, version: r.value.version, rules: r.value.rules.length });
  // The lazy form (validated now, rules built on first read) is the same policy, or the same error.
  const lazy = parsePolicyLazy(input);
  assert.equal(lazy.ok, r.ok);
  if (!lazy.ok && !r.ok) assert.deepEqual(lazy.error, r.error);
  if (lazy.ok && r.ok) {
    assert.equal(ruleCount(lazy.value), r.value.rules.length, 'counted without building');
    assert.deepEqual({ ...lazy.value }, r.value);
  }
  if (!r.ok) {
    assert.ok(r.error instanceof PolicyParseError);
    assert.ok(ERRNOS.has(r.error.code), r.error.code);
    assert.ok(Number.isInteger(r.error.line) && r.error.line >= 1);
    assert.ok(Number.isInteger(r.error.column) && r.error.column >= 1);
    assert.equal(typeof r.error.token, 'string');
    assert.ok(r.error.message.length > 0);
    return;
  }
  const formatted = formatPolicy(r.value);
  const again = parsePolicy(formatted);
  assert.ok(again.ok, 'the canonical form must parse');
  assert.deepEqual(policySemantics(again.value), policySemantics(r.value));
  assert.deepEqual(Buffer.from(formatPolicy(again.value)), Buffer.from(formatted), 'formatting is idempotent');
}

test('fuzz: random bytes never raise (60k cases)', () => {
  const bytes = fc.oneof(
    fc.uint8Array({ maxLength: 120 }),
    fc.array(fc.constantFrom(...'policy_name=a policy_version=1.0.0\nDEFAULT op=EXECUTE action=ALLOW#\r\t\0\xA0:.'.split('')), { maxLength: 120 })
      .map((a) => Buffer.from(a.join(''), 'latin1')),
  );
  fc.assert(fc.property(bytes, (b) => checkOutcome(b)), { numRuns: 60_000 });
});

test('fuzz: mutations of valid policies never raise, and accepted ones round-trip (50k cases)', () => {
  fc.assert(fc.property(mutatedPolicy, (b) => checkOutcome(b)), { numRuns: 50_000 });
});
