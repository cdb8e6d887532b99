// The reference evaluator: security/ipe/eval.c ipe_evaluate_event(), literally. It is the
// specification the compiled evaluator is tested against; use the compiled one on hot paths.

import type { FileContext } from './context.ts';
import { isOp, type Action, type DefaultRule, type Policy, type Property, type Rule } from './model.ts';

export type MatchType = 'rule' | 'op_default' | 'global_default' | 'unknown_op_allow' | 'no_policy';

export interface Decision {
  readonly action: Action;
  readonly match: MatchType;
  /** The matched rule (match === 'rule'). */
  readonly rule?: Rule;
  /** The default that decided (op_default / global_default). */
  readonly default?: DefaultRule;
}

export const NO_POLICY: Decision = { action: 'ALLOW', match: 'no_policy' };
export const UNKNOWN_OP_ALLOW: Decision = { action: 'ALLOW', match: 'unknown_op_allow' };

export function propertyHolds(p: Property, ctx: FileContext): boolean {
  if (p.kind === 'bool') {
    const v = ctx.boolean(p.name);
    return v !== undefined && v === p.value;
  }
  return ctx.digest(p.name) === p.digest.key;
}

export function ruleMatches(rule: Rule, ctx: FileContext): boolean {
  for (const p of rule.properties) if (!propertyHolds(p, ctx)) return false;
  return true;
}

/** Decide `op` for a file; `policy` undefined means no active policy (→ allow, as the kernel). */
export function evaluate(policy: Policy | undefined, op: string, ctx: FileContext): Decision {
  if (!policy) return NO_POLICY;
  if (!isOp(op)) {
    // eval.c: an unknown op takes the global default, or is allowed (with a WARN) without one.
    const g = policy.globalDefault;
    return g ? { action: g.action, match: 'global_default', default: g } : UNKNOWN_OP_ALLOW;
  }
  for (const rule of policy.rulesByOp[op]) {
    if (ruleMatches(rule, ctx)) return { action: rule.action, match: 'rule', rule };
  }
  return defaultDecision(policy, op);
}

export function defaultDecision(policy: Policy, op: keyof Policy['rulesByOp']): Decision {
  const d = policy.opDefaults[op];
  if (d) return { action: d.action, match: 'op_default', default: d };
  // validate_policy() guarantees a global default when an op has none.
  const g = policy.globalDefault!;
  return { action: g.action, match: 'global_default', default: g };
}
