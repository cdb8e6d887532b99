// How a decision is told: the text of the rule (or default) that decided it, one line for a
// person, one JSON object for a program. The CLI, `ward policy eval` and the daemon's audit
// records all take the rule text from here, so they cannot drift apart.

import type { Decision } from './evaluator.ts';
import { defaultRuleText, kernelRuleText } from './model.ts';

/** The kernel's text of the rule or DEFAULT that decided, or undefined (no policy, unknown op). */
export function decidingRuleText(d: Decision): string | undefined {
  if (d.rule) return kernelRuleText(d.rule);
  if (d.default) return defaultRuleText(d.default);
  return undefined;
}

/** The line of the policy that decided, if a line did. */
export function decidingLine(d: Decision): number | undefined {
  return d.rule?.line ?? d.default?.line;
}

export interface DecisionJson {
  op: string;
  action: Decision['action'];
  match: Decision['match'];
  rule: string | null;
  line: number | null;
}

export function decisionJson(d: Decision, op: string): DecisionJson {
  return { op, action: d.action, match: d.match, rule: decidingRuleText(d) ?? null, line: decidingLine(d) ?? null };
}

/** "DENY by rule at line 4: op=EXECUTE … action=DENY", and the like. */
export function decisionText(d: Decision): string {
  switch (d.match) {
    case 'rule':
    case 'op_default':
    case 'global_default': {
      const by = d.match === 'rule' ? 'rule' : d.match === 'op_default' ? 'op default' : 'global default';
      return `${d.action} by ${by} at line ${decidingLine(d)}: ${decidingRuleText(d)}`;
    }
    case 'unknown_op_allow':
      return 'ALLOW: unknown op and no global DEFAULT';
    case 'no_policy':
      return 'ALLOW: no policy';
  }
}
