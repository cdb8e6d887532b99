// fast-check generators for IPE policies: structured valid policies (rendered with random
// spacing and comments), file contexts drawn from the same digest pool, and byte mutations.

import fc from 'fast-check';
import { BOOL_PROPERTIES, DIGEST_PROPERTIES, OPS, type Action, type Op } from '../../src/policy/index.ts';

export interface GenRule {
  op: Op;
  props: string[];
  action: Action;
}
export interface GenPolicy {
  name: string;
  version: [number, number, number];
  globalDefault: Action | undefined;
  opDefaults: Partial<Record<Op, Action>>;
  rules: GenRule[];
}

const hexPool = ['00', 'ab', 'AB01', 'deadbeef', 'ff'.repeat(32), '0123456789abcdef'.repeat(4)];
export const digestPool: string[] = ['sha256', 'sha512', 'SHA256', ''].flatMap((alg) => hexPool.map((h) => `${alg}:${h}`));

const action = fc.constantFrom<Action>('ALLOW', 'DENY');
const op = fc.constantFrom<Op>(...OPS);
const prop = fc.oneof(
  fc.tuple(fc.constantFrom(...BOOL_PROPERTIES), fc.boolean()).map(([n, v]) => `${n}=${v ? 'TRUE' : 'FALSE'}`),
  fc.tuple(fc.constantFrom(...DIGEST_PROPERTIES), fc.constantFrom(...digestPool)).map(([n, d]) => `${n}=${d}`),
);
const rule = fc.record({ op, props: fc.array(prop, { maxLength: 4 }), action });
const nameChar = fc.constantFrom(...'abcXYZ019_-.=:$@!%^&*(){}[];,\'"\\/'.split(''), '\xE9', '\xFF');

export const genPolicy: fc.Arbitrary<GenPolicy> = fc
  .record({
    name: fc.array(nameChar, { minLength: 1, maxLength: 12 }).map((a) => a.join('')),
    version: fc.tuple(fc.nat(65535), fc.nat(65535), fc.nat(65535)),
    globalDefault: fc.option(action, { nil: undefined }),
    opDefaults: fc.dictionary(op, action, { maxKeys: 7 }) as fc.Arbitrary<Partial<Record<Op, Action>>>,
    rules: fc.array(rule, { maxLength: 25 }),
  })
  .map((p) => (p.globalDefault === undefined && Object.keys(p.opDefaults).length < OPS.length ? { ...p, globalDefault: 'DENY' as Action } : p));

const sep = fc.constantFrom(' ', '\t', '  ', ' \t ');
const eol = fc.constantFrom('\n', '\r\n', '\r', ' \n', '\xA0\n', ' # note\n', '\v\n');
const filler = fc.constantFrom('', '', '', '\n', '# a comment line\n', '   \t\n');

/** Renders a GenPolicy to bytes with random separators, line ends, comments and statement order. */
export function renderPolicy(p: GenPolicy, seps: string[], eols: string[], fillers: string[]): Uint8Array {
  let i = 0;
  const s = () => seps[i++ % seps.length]!;
  const e = () => eols[i++ % eols.length]!;
  const f = () => fillers[i++ % fillers.length]!;
  const lines: string[] = [];
  lines.push(`${f()}policy_name=${p.name}${s()}policy_version=${p.version.join('.')}${e()}`);
  const statements: string[] = [];
  if (p.globalDefault) statements.push(`DEFAULT${s()}action=${p.globalDefault}`);
  for (const [o, a] of Object.entries(p.opDefaults)) statements.push(`DEFAULT${s()}op=${o}${s()}action=${a}`);
  // Rules keep their relative order; defaults are interleaved (their place does not matter).
  const rulesText = p.rules.map((r) => [`op=${r.op}`, ...r.props, `action=${r.action}`].join(s()));
  let d = 0;
  for (let k = 0; k < rulesText.length; k++) {
    if (d < statements.length && (k + i) % 3 === 0) lines.push(`${f()}${statements[d++]}${e()}`);
    lines.push(`${f()}${rulesText[k]}${e()}`);
  }
  while (d < statements.length) lines.push(`${f()}${statements[d++]}${e()}`);
  return Buffer.from(lines.join(''), 'latin1');
}

export const renderedPolicy = fc
  .tuple(genPolicy, fc.array(sep, { minLength: 1, maxLength: 5 }), fc.array(eol, { minLength: 1, maxLength: 5 }), fc.array(filler, { minLength: 1, maxLength: 5 }))
  .map(([p, s, e, f]) => ({ gen: p, bytes: renderPolicy(p, s, e, f) }));

export const contextValues = fc.record(
  {
    boot_verified: fc.option(fc.boolean(), { nil: undefined }),
    dmverity_signature: fc.option(fc.boolean(), { nil: undefined }),
    fsverity_signature: fc.option(fc.boolean(), { nil: undefined }),
    fsverity_digest: fc.option(fc.constantFrom(...digestPool.map((d) => d.replace(/:(.*)$/, (_, h: string) => `:${h.toLowerCase()}`))), { nil: undefined }),
    dmverity_roothash: fc.option(fc.constantFrom(...digestPool.map((d) => d.replace(/:(.*)$/, (_, h: string) => `:${h.toLowerCase()}`))), { nil: undefined }),
  },
  { requiredKeys: [] },
);

const interesting = ['\0', '\n', '\r', '\t', ' ', '#', '=', ':', '.', '\xA0', '\v', '\xFF', 'DEFAULT', 'op=', 'action=', 'ALLOW', 'DENY', 'EXECUTE', 'TRUE', 'FALSE', '+', '-', '0x', '65536', 'fsverity_digest=', 'sha256:', 'zz', 'policy_name=', 'policy_version='];

/** Random edits of valid policies: inserts of interesting tokens, deletions, duplications. */
export const mutatedPolicy = fc
  .tuple(
    renderedPolicy,
    fc.array(
      fc.tuple(fc.constantFrom('insert', 'delete', 'replace', 'dup'), fc.nat(), fc.nat(8), fc.constantFrom(...interesting)),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([{ bytes }, edits]) => {
    let s = Buffer.from(bytes).toString('latin1');
    for (const [kind, pos, len, tok] of edits) {
      const at = s.length === 0 ? 0 : pos % (s.length + 1);
      if (kind === 'insert') s = s.slice(0, at) + tok + s.slice(at);
      else if (kind === 'delete') s = s.slice(0, at) + s.slice(at + len);
      else if (kind === 'replace') s = s.slice(0, at) + tok + s.slice(at + tok.length);
      else s = s.slice(0, at) + s.slice(at, at + len * 4) + s.slice(at);
    }
    return Buffer.from(s, 'latin1');
  });
