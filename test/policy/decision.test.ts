// How a decision is told (src/policy/decision.ts), how a parse error is rendered
// (src/policy/errors.ts) and the version-string round trip (src/policy/model.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CompiledPolicy,
  StaticFileContext,
  decisionJson,
  decisionText,
  decidingRuleText,
  parseErrorLine,
  parsePolicy,
  parseVersionString,
  renderParseError,
  versionString,
  evaluate,
  OPS,
} from '../../src/policy/index.ts';

const TEXT = [
  'policy_name=t policy_version=1.2.3',
  'DEFAULT action=ALLOW',
  'DEFAULT op=EXECUTE action=DENY',
  'op=EXECUTE fsverity_digest=sha256:ab12 action=ALLOW',
  '',
].join('\n');

function policy() {
  const r = parsePolicy(TEXT);
  assert.ok(r.ok);
  return r.value;
}

test('a rule, an op default and the global default are each told with their line and kernel text', () => {
  const p = policy();
  const engine = new CompiledPolicy(p);
  const byRule = engine.decide('EXECUTE', new StaticFileContext({ fsverity_digest: 'sha256:ab12' }));
  assert.equal(decidingRuleText(byRule), 'op=EXECUTE fsverity_digest=sha256:ab12 action=ALLOW');
  assert.equal(decisionText(byRule), 'ALLOW by rule at line 4: op=EXECUTE fsverity_digest=sha256:ab12 action=ALLOW');
  assert.deepEqual(decisionJson(byRule, 'EXECUTE'), { op: 'EXECUTE', action: 'ALLOW', match: 'rule', rule: 'op=EXECUTE fsverity_digest=sha256:ab12 action=ALLOW', line: 4 });
  const byOpDefault = engine.decide('EXECUTE', new StaticFileContext({}));
  assert.equal(decisionText(byOpDefault), 'DENY by op default at line 3: DEFAULT op=EXECUTE action=DENY');
  const byGlobal = engine.decide('KMODULE', new StaticFileContext({}));
  assert.equal(decisionText(byGlobal), 'ALLOW by global default at line 2: DEFAULT action=ALLOW');
  assert.deepEqual(decisionJson(byGlobal, 'KMODULE').line, 2);
});

test('no policy and an unknown op with no global default name no rule', () => {
  const none = evaluate(undefined, 'EXECUTE', new StaticFileContext({}));
  assert.equal(decidingRuleText(none), undefined);
  assert.equal(decisionText(none), 'ALLOW: no policy');
  assert.deepEqual(decisionJson(none, 'EXECUTE'), { op: 'EXECUTE', action: 'ALLOW', match: 'no_policy', rule: null, line: null });
  const r = parsePolicy(['policy_name=t policy_version=0.0.1', ...OPS.map((op) => `DEFAULT op=${op} action=DENY`), ''].join('\n'));
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  const unknown = evaluate(r.value, 'NOT_AN_OP', new StaticFileContext({}));
  assert.equal(decisionText(unknown), 'ALLOW: unknown op and no global DEFAULT');
});

test('parse errors: one line, or with the offending line and a caret under the column (tabs kept)', () => {
  const text = Buffer.from('policy_name=t policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE\tboot_verified=MAYBE action=ALLOW\n');
  const r = parsePolicy(text);
  assert.ok(!r.ok);
  assert.equal(parseErrorLine('x.pol', r.error), `x.pol:3:12: ${r.error.code}: ${r.error.message}`);
  const shown = renderParseError('x.pol', text, r.error).split('\n');
  assert.equal(shown.length, 3);
  assert.equal(shown[1], '  op=EXECUTE\tboot_verified=MAYBE action=ALLOW');
  assert.equal(shown[2], '  ' + ' '.repeat(10) + '\t^');
  const empty = parsePolicy('');
  assert.ok(!empty.ok);
  assert.equal(renderParseError('<stdin>', Buffer.alloc(0), empty.error), parseErrorLine('<stdin>', empty.error), 'no line to show');
});

test('parseVersionString inverts versionString, and refuses anything else', () => {
  for (const v of [{ major: 0, minor: 0, rev: 0 }, { major: 1, minor: 2, rev: 3 }, { major: 65535, minor: 65535, rev: 65535 }]) {
    assert.deepEqual(parseVersionString(versionString(v)), v);
  }
  for (const bad of ['', '1.2', '1.2.3.4', '65536.0.0', '-1.0.0', '1.2.x', ' 1.2.3', '1.2.3\n', '1..3', '123456.0.0']) {
    assert.equal(parseVersionString(bad), undefined, JSON.stringify(bad));
  }
});
