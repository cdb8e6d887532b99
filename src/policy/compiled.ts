// The compiled evaluator: same decisions as evaluate() (first matching rule in file order,
// then op default, then global default), at a cost that does not grow with the number of
// digest rules.
//
// Per op, rules are split in two:
// - rules with at least one digest property are indexed by their first digest
//   (fsverity_digest or dmverity_roothash) in a hash map → ascending rule positions;
//   a file can only match rules filed under its own digest;
// - rules with only boolean properties depend on nothing but the three tri-state booleans,
//   so the first such rule is precomputed for all 27 combinations.
// A decision is the smallest position among: the boolean table's answer, and the first
// fully matching candidate under each of the file's two digests.

import type { FileContext } from './context.ts';
import { defaultDecision, UNKNOWN_OP_ALLOW, NO_POLICY, type Decision } from './evaluator.ts';
import { BOOL_PROPERTIES, OPS, isOp, type BoolPropertyName, type Op, type Policy, type Rule } from './model.ts';

const NONE = 0x7fffffff;

interface CompiledRule {
  readonly rule: Rule;
  /** Required booleans as [index in BOOL_PROPERTIES, value]. */
  readonly bools: ReadonlyArray<readonly [number, boolean]>;
  readonly fsverity: readonly string[];
  readonly dmverity: readonly string[];
}

interface CompiledOp {
  readonly rules: readonly CompiledRule[];
  /** First boolean-only rule position for each tri-state combination (see boolCode). */
  readonly boolTable: Int32Array;
  readonly byFsverity: ReadonlyMap<string, readonly number[]>;
  readonly byDmverity: ReadonlyMap<string, readonly number[]>;
  readonly usesBools: boolean;
}

function triState(v: boolean | undefined): number {
  return v === undefined ? 0 : v ? 1 : 2;
}

function boolsHold(bools: CompiledRule['bools'], state: readonly number[]): boolean {
  for (const [i, value] of bools) if (state[i] !== (value ? 1 : 2)) return false;
  return true;
}

function compileOp(rules: readonly Rule[]): CompiledOp {
  const compiled: CompiledRule[] = rules.map((rule) => {
    const bools: Array<[number, boolean]> = [];
    const fsverity: string[] = [];
    const dmverity: string[] = [];
    for (const p of rule.properties) {
      if (p.kind === 'bool') bools.push([BOOL_PROPERTIES.indexOf(p.name), p.value]);
      else (p.name === 'fsverity_digest' ? fsverity : dmverity).push(p.digest.key);
    }
    return { rule, bools, fsverity, dmverity };
  });
  const byFsverity = new Map<string, number[]>();
  const byDmverity = new Map<string, number[]>();
  const boolOnly: number[] = [];
  compiled.forEach((c, i) => {
    const firstDigest = c.rule.properties.find((p) => p.kind === 'digest');
    if (!firstDigest || firstDigest.kind !== 'digest') {
      boolOnly.push(i);
      return;
    }
    const index = firstDigest.name === 'fsverity_digest' ? byFsverity : byDmverity;
    const list = index.get(firstDigest.digest.key);
    if (list) list.push(i);
    else index.set(firstDigest.digest.key, [i]);
  });
  const boolTable = new Int32Array(27).fill(NONE);
  for (let code = 0; code < 27; code++) {
    const state = [code % 3, Math.floor(code / 3) % 3, Math.floor(code / 9)];
    const first = boolOnly.find((i) => boolsHold(compiled[i]!.bools, state));
    if (first !== undefined) boolTable[code] = first;
  }
  const usesBools = compiled.some((c) => c.bools.length > 0);
  return { rules: compiled, boolTable, byFsverity, byDmverity, usesBools };
}

export class CompiledPolicy {
  readonly policy: Policy;
  readonly #ops: Readonly<Record<Op, CompiledOp>>;

  constructor(policy: Policy) {
    this.policy = policy;
    this.#ops = Object.fromEntries(OPS.map((op) => [op, compileOp(policy.rulesByOp[op])])) as Record<Op, CompiledOp>;
  }

  decide(op: string, ctx: FileContext): Decision {
    if (!isOp(op)) {
      const g = this.policy.globalDefault;
      return g ? { action: g.action, match: 'global_default', default: g } : UNKNOWN_OP_ALLOW;
    }
    const c = this.#ops[op];
    const state = c.usesBools ? readBools(ctx) : ZERO_STATE;
    let best = c.boolTable[state[0]! + 3 * state[1]! + 9 * state[2]!]!;
    let fsv: string | undefined | null = null;
    let dmv: string | undefined | null = null;
    if (c.byFsverity.size > 0) {
      fsv = ctx.digest('fsverity_digest');
      if (fsv !== undefined) {
        const list = c.byFsverity.get(fsv);
        if (list) best = firstMatch(c, list, best, state, ctx, fsv, dmv);
      }
    }
    if (c.byDmverity.size > 0) {
      dmv = ctx.digest('dmverity_roothash');
      if (dmv !== undefined) {
        const list = c.byDmverity.get(dmv);
        if (list) best = firstMatch(c, list, best, state, ctx, fsv, dmv);
      }
    }
    if (best !== NONE) {
      const rule = c.rules[best]!.rule;
      return { action: rule.action, match: 'rule', rule };
    }
    return defaultDecision(this.policy, op);
  }
}

const ZERO_STATE: readonly number[] = [0, 0, 0];

function readBools(ctx: FileContext): number[] {
  return BOOL_PROPERTIES.map((name: BoolPropertyName) => triState(ctx.boolean(name)));
}

// null = not read yet; undefined = the file has no such digest.
function firstMatch(
  c: CompiledOp,
  candidates: readonly number[],
  best: number,
  state: readonly number[],
  ctx: FileContext,
  fsvKnown: string | undefined | null,
  dmvKnown: string | undefined | null,
): number {
  let fsv = fsvKnown;
  let dmv = dmvKnown;
  for (const i of candidates) {
    if (i >= best) return best;
    const r = c.rules[i]!;
    if (!boolsHold(r.bools, state)) continue;
    if (r.fsverity.length > 0) {
      if (fsv === null) fsv = ctx.digest('fsverity_digest');
      if (!r.fsverity.every((k) => k === fsv)) continue;
    }
    if (r.dmverity.length > 0) {
      if (dmv === null) dmv = ctx.digest('dmverity_roothash');
      if (!r.dmverity.every((k) => k === dmv)) continue;
    }
    return i;
  }
  return best;
}

/** Compile once, decide many times; undefined policy → allow everything (no active policy). */
export function compilePolicy(policy: Policy | undefined): { decide(op: string, ctx: FileContext): Decision } {
  return policy ? new CompiledPolicy(policy) : { decide: () => NO_POLICY };
}
