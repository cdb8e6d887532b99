// A fast path for the line a large policy is made of: "op=OP PROPERTY… action=ALLOW|DENY" with
// single spaces, no tab, no comment and no trailing space. On such a line the kernel's tokens
// (runs of ' ' and '\t' separate them, IPE_POLICY_DELIM) are exactly split(' '), so the rule can
// be read without the general lexer. Anything else — and any line with an error — returns
// undefined and goes through the full parser, which accepts, rejects and reports exactly as
// before (the fuzz and kernel-case tests hold both to the same answers).

import { BOOL_PROPERTIES, DIGEST_PROPERTIES, OPS, type Action, type Op, type Property, type Rule } from './model.ts';
import { isKernelSpace } from './lexer.ts';

// Boolean properties are exact tokens; their Property values are shared (they are read-only).
const BOOL_TOKENS: ReadonlyArray<readonly [string, Property]> = BOOL_PROPERTIES.flatMap((name) => [
  [`${name}=TRUE`, { kind: 'bool', name, value: true }] as const,
  [`${name}=FALSE`, { kind: 'bool', name, value: false }] as const,
]);
const DIGEST_PREFIXES = DIGEST_PROPERTIES.map((name) => [name, `${name}=`] as const);
const OP_PREFIXES = OPS.map((op) => [op, `op=${op} `] as const);

// Hex digits: 1 for 0-9 a-f, 2 for A-F (the policy may write upper-case; the key is lower-case).
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdef') HEX[c.charCodeAt(0)] = 1;
for (const c of 'ABCDEF') HEX[c.charCodeAt(0)] = 2;

/** 0 if raw[from, to) is not all hex, 1 if all lower-case hex, 2 if some digit is upper-case. */
function hexRun(raw: string, from: number, to: number): 0 | 1 | 2 {
  let seen = 1;
  for (let i = from; i < to; i++) {
    const c = raw.charCodeAt(i);
    const h = c > 0xff ? 0 : HEX[c]!;
    if (h === 0) return 0;
    seen |= h;
  }
  return seen === 1 ? 1 : 2;
}

/** The property in raw[from, to), or undefined (not one, or not valid: the full parser reports). */
function propertyAt(raw: string, from: number, to: number): Property | undefined {
  for (const [token, p] of BOOL_TOKENS) if (to - from === token.length && raw.startsWith(token, from)) return p;
  for (const [name, prefix] of DIGEST_PREFIXES) {
    if (!raw.startsWith(prefix, from)) continue;
    const value = from + prefix.length;
    const colon = raw.indexOf(':', value);
    if (value >= to || colon < 0 || colon >= to) return undefined;
    // hex2bin over (len+1)/2 bytes succeeds exactly when the length is even and every char is hex.
    if ((to - colon - 1) % 2 !== 0) return undefined;
    const run = hexRun(raw, colon + 1, to);
    if (run === 0) return undefined;
    const upper = run === 2;
    const algorithm = colon - value === 6 && raw.startsWith('sha256', value) ? 'sha256' : raw.slice(value, colon);
    const hex = upper ? raw.slice(colon + 1, to).toLowerCase() : raw.slice(colon + 1, to);
    return { kind: 'digest', name, digest: { algorithm, hex, key: upper ? `${algorithm}:${hex}` : raw.slice(value, to) } };
  }
  return undefined;
}

/** The rule on `raw` (line number `line`) if it has the common shape and no error; else undefined. */
export function fastRule(raw: string, line: number): Rule | undefined {
  const len = raw.length;
  // "op=" first (no leading blank, not DEFAULT); the last byte must survive trailing-space stripping.
  if (raw.charCodeAt(0) !== 0x6f || raw.charCodeAt(1) !== 0x70 || raw.charCodeAt(2) !== 0x3d || isKernelSpace(raw.charCodeAt(len - 1))) return undefined;
  let op: Op | undefined;
  let pos = 0;
  for (const [o, prefix] of OP_PREFIXES) {
    if (raw.startsWith(prefix)) {
      op = o;
      pos = prefix.length;
      break;
    }
  }
  if (op === undefined) return undefined;
  const action: Action | undefined = raw.endsWith(' action=ALLOW') ? 'ALLOW' : raw.endsWith(' action=DENY') ? 'DENY' : undefined;
  if (action === undefined) return undefined;
  const end = len - (action === 'ALLOW' ? 13 : 12); // the space before action=
  if (pos - 1 > end || raw.includes('\t') || raw.includes('#')) return undefined;
  const properties: Property[] = [];
  while (pos <= end) {
    let next = raw.indexOf(' ', pos);
    if (next < 0 || next > end) next = end;
    if (next === pos) return undefined; // two spaces in a row
    const p = propertyAt(raw, pos, next);
    if (p === undefined) return undefined;
    properties.push(p);
    pos = next + 1;
  }
  return { op, properties, action, line };
}

// The same common shape as one regular expression, for validating without building a rule:
// "op=OP", then single-space-separated boolean tokens or digest tokens ("NAME=ALG:HEX", ALG
// without ':' — the first ':' ends it — and HEX an even number of hex digits), then the action,
// and nothing after it (no trailing blank, no comment). Compiled to native code by the engine.
const COMMON_RULE = new RegExp(
  `^op=(?:${OPS.join('|')})` +
    `(?: (?:(?:${BOOL_PROPERTIES.join('|')})=(?:TRUE|FALSE)|(?:${DIGEST_PROPERTIES.join('|')})=[^ \\t#:]*:(?:[0-9A-Fa-f]{2})*))*` +
    ' action=(?:ALLOW|DENY)$',
);

/** Whether `raw` is a valid rule of the common shape (what fastRule would build a rule for). */
export function isCommonRule(raw: string): boolean {
  return COMMON_RULE.test(raw);
}
