// The canonical form of a policy. Statements keep their file order (rule order is what the
// kernel's first-match walks, per op), tokens are single-space separated, version parts are
// plain decimals, digests are lower-case hex; comments are kept (whole-line and trailing),
// runs of blank lines become one. format(parse(x)) re-parses to the same policy, and
// formatting is idempotent. Input must be a valid policy (parse it first).

import { lex, toBinaryString } from './lexer.ts';
import { defaultRuleText, propertyText, versionString, type Policy } from './model.ts';

/** Returns the canonical text as bytes (policy names may hold non-UTF-8 bytes). */
export function formatPolicy(policy: Policy): Uint8Array {
  const byLine = new Map<number, string>();
  byLine.set(policy.headerLine, `policy_name=${policy.rawName} policy_version=${versionString(policy.version)}`);
  if (policy.globalDefault) byLine.set(policy.globalDefault.line, defaultRuleText(policy.globalDefault));
  for (const d of Object.values(policy.opDefaults)) if (d) byLine.set(d.line, defaultRuleText(d));
  for (const r of policy.rules) {
    byLine.set(r.line, ['op=' + r.op, ...r.properties.map((p) => propertyText(p)), `action=${r.action}`].join(' '));
  }
  const out: string[] = [];
  let pendingBlank = false;
  for (const line of lex(toBinaryString(policy.text)).lines) {
    const statement = byLine.get(line.number);
    const comment = line.comment === undefined ? undefined : `#${line.comment}`;
    if (statement === undefined && comment === undefined) {
      pendingBlank = out.length > 0;
      continue;
    }
    if (pendingBlank) out.push('');
    pendingBlank = false;
    out.push(statement !== undefined && comment !== undefined ? `${statement} ${comment}` : (statement ?? comment)!);
  }
  return Buffer.from(out.join('\n') + '\n', 'latin1');
}
