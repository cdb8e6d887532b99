// Evaluation semantics (security/ipe/eval.c) and the compiled evaluator's agreement with them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CompiledPolicy,
  OPS,
  StaticFileContext,
  compilePolicy,
  contextFromJson,
  evaluate,
  kernelRuleText,
  parsePolicyOrThrow,
  policySemantics,
  type StaticContextValues,
} from '../../src/policy/index.ts';
import { contextValues, renderedPolicy, type GenPolicy } from '../helpers/policy-arbitraries.ts';

const D1 = 'sha256:' + 'ab'.repeat(32);
const D2 = 'sha256:' + 'cd'.repeat(32);
const policy = parsePolicyOrThrow(`policy_name=t policy_version=1.0.0
DEFAULT action=ALLOW
DEFAULT op=EXECUTE action=DENY
op=EXECUTE fsverity_digest=${D1.toUpperCase().replace('SHA256', 'sha256')} action=ALLOW
op=EXECUTE boot_verified=TRUE action=ALLOW
op=EXECUTE fsverity_digest=${D2} action=DENY
op=KMODULE boot_verified=FALSE action=DENY
op=FIRMWARE action=DENY
`);

function both(op: string, values: StaticContextValues) {
  const ctx = new StaticFileContext(values);
  const ref = evaluate(policy, op, ctx);
  const fast = new CompiledPolicy(policy).decide(op, ctx);
  assert.deepEqual(fast, ref);
  return ref;
}

test('first matching rule decides, in file order', () => {
  const d = both('EXECUTE', { boot_verified: true, fsverity_digest: D2 });
  assert.equal(d.match, 'rule');
  assert.equal(d.rule?.line, 5);
  assert.equal(d.action, 'ALLOW');
});

test('digests match on algorithm and bytes; the policy may use upper-case hex', () => {
  assert.equal(both('EXECUTE', { fsverity_digest: D1 }).rule?.line, 4);
  assert.equal(both('EXECUTE', { fsverity_digest: D2 }).action, 'DENY');
  assert.equal(both('EXECUTE', { fsverity_digest: D2 }).rule?.line, 6);
  assert.equal(both('EXECUTE', { fsverity_digest: 'sha512:' + 'ab'.repeat(32) }).match, 'op_default');
});

test('no match → op default, else global default; unknown op → global default', () => {
  assert.deepEqual([both('EXECUTE', {}).match, both('EXECUTE', {}).action], ['op_default', 'DENY']);
  assert.deepEqual([both('POLICY', {}).match, both('POLICY', {}).action], ['global_default', 'ALLOW']);
  assert.deepEqual([both('NOT_AN_OP', {}).match, both('NOT_AN_OP', {}).action], ['global_default', 'ALLOW']);
});

test('unknown op without a global default is allowed; no policy allows everything', () => {
  const perOp = parsePolicyOrThrow(`policy_name=t policy_version=1.0.0\n${OPS.map((o) => `DEFAULT op=${o} action=DENY`).join('\n')}`);
  assert.deepEqual(evaluate(perOp, 'BOGUS', new StaticFileContext({})), { action: 'ALLOW', match: 'unknown_op_allow' });
  assert.equal(evaluate(perOp, 'EXECUTE', new StaticFileContext({})).action, 'DENY');
  assert.equal(evaluate(undefined, 'EXECUTE', new StaticFileContext({})).match, 'no_policy');
  assert.equal(compilePolicy(undefined).decide('EXECUTE', new StaticFileContext({})).action, 'ALLOW');
});

test('a rule with no properties matches everything', () => {
  assert.equal(both('FIRMWARE', {}).match, 'rule');
});

test('an absent provider makes both =TRUE and =FALSE false', () => {
  assert.equal(both('KMODULE', {}).match, 'global_default');
  assert.equal(both('KMODULE', { boot_verified: false }).match, 'rule');
  assert.equal(both('KMODULE', { boot_verified: true }).match, 'global_default');
});

test('kernelRuleText prints a rule as the kernel audits it, digests in lower case as everywhere in ward', () => {
  assert.equal(kernelRuleText(policy.rulesByOp.EXECUTE[0]!), `op=EXECUTE fsverity_digest=sha256:${'ab'.repeat(32)} action=ALLOW`);
  assert.equal(kernelRuleText(policy.rulesByOp.FIRMWARE[0]!), 'op=FIRMWARE action=DENY');
});

test('contexts from JSON are validated', () => {
  assert.ok(contextFromJson({ boot_verified: true, fsverity_digest: 'sha256:AB' }).ok);
  for (const bad of [[], 1, { boot_verified: 'yes' }, { fsverity_digest: 'abc' }, { fsverity_digest: 'sha256:abc' }, { bogus: 1 }]) {
    const r = contextFromJson(bad);
    assert.equal(r.ok, false, JSON.stringify(bad));
    if (!r.ok) assert.equal(r.error.code, 'EINVAL');
  }
});

function semanticsOf(gen: GenPolicy): unknown {
  // What the generated structure means, computed independently of the parser.
  const hex = (d: string) => d.replace(/:(.*)$/, (_, h: string) => `:${h.toLowerCase()}`);
  return {
    rawName: gen.name,
    version: gen.version.join('.'),
    globalDefault: gen.globalDefault,
    opDefaults: Object.fromEntries(OPS.map((o) => [o, gen.opDefaults[o]])),
    rules: OPS.map((o) =>
      gen.rules
        .filter((r) => r.op === o)
        .map((r) => `op=${r.op} ${r.props.map((p) => (p.includes('digest') || p.includes('roothash') ? p.replace(/=(.*)$/, (_, d: string) => `=${hex(d)}`) : p)).join(' ')} action=${r.action}`),
    ),
  };
}

test('property: generated policies parse to what they say, with any spacing and comments', () => {
  fc.assert(
    fc.property(renderedPolicy, ({ gen, bytes }) => {
      const p = parsePolicyOrThrow(bytes);
      assert.deepEqual(policySemantics(p), semanticsOf(gen));
    }),
    { numRuns: 3000 },
  );
});

test('property: the compiled evaluator agrees with the reference on random policies and contexts', () => {
  fc.assert(
    fc.property(renderedPolicy, fc.array(contextValues, { minLength: 1, maxLength: 20 }), ({ bytes }, contexts) => {
      const p = parsePolicyOrThrow(bytes);
      const compiled = new CompiledPolicy(p);
      for (const values of contexts) {
        const ctx = new StaticFileContext(values);
        for (const op of [...OPS, 'UNKNOWN']) assert.deepEqual(compiled.decide(op, ctx), evaluate(p, op, ctx));
      }
    }),
    { numRuns: 3000 },
  );
});
