// A byte-exact port of security/ipe/policy_parser.c (ipe_parse_policy and helpers). The same
// inputs are accepted and rejected with the same errno class; the first error in token order
// wins, as in the kernel. ward adds the line, column, token and a message that says how to fix it.

import { fail, ok, type Result } from '../errors.ts';
import { PolicyParseError, type PolicyErrno } from './errors.ts';
import { splitLine, splitLines, toBinaryString, type Line, type Token } from './lexer.ts';
import { fastRule, isCommonRule } from './fastpath.ts';
import {
  BOOL_PROPERTIES,
  DIGEST_PROPERTIES,
  OPS,
  displayText,
  isOp,
  type Action,
  type DefaultRule,
  type Digest,
  type Op,
  type Policy,
  type Property,
  type Rule,
  type Version,
} from './model.ts';
import { hex2bin, kstrtou16 } from './numbers.ts';

export type ParseResult = Result<Policy, PolicyParseError>;

const NAME_KEY = 'policy_name=';
const VERSION_KEY = 'policy_version=';

class Failure {
  readonly error: PolicyParseError;
  constructor(error: PolicyParseError) {
    this.error = error;
  }
}

function error(code: PolicyErrno, line: number, column: number, token: string, message: string): Failure {
  return new Failure(new PolicyParseError(code, line, column, displayText(token), message));
}

function quote(binary: string): string {
  return JSON.stringify(displayText(binary));
}

/**
 * Parses a policy. `fastPath: false` reads every line with the general lexer: the reference the
 * fast path (fastpath.ts) is tested against; the answers are the same either way.
 */
export function parsePolicy(input: Uint8Array | string, options: { fastPath?: boolean } = {}): ParseResult {
  const binary = toBinaryString(input);
  const result = parseBinary(binary, true, options.fastPath ?? true);
  if (result instanceof Failure) return fail(result.error);
  const text = typeof input === 'string' ? Buffer.from(input, 'utf8') : new Uint8Array(input);
  return ok(policyOf(result, text));
}

/** What `ward policy check` reports of a valid policy. */
export interface PolicySummary {
  readonly name: string;
  readonly rawName: string;
  readonly version: Version;
  readonly rules: number;
}

/**
 * Accepts and rejects exactly as parsePolicy (same errors), without building the rules: for
 * validating large policies, where building 10^5 rule objects is most of the time.
 */
export function validatePolicy(input: Uint8Array | string): Result<PolicySummary, PolicyParseError> {
  const result = parseBinary(toBinaryString(input), false, true);
  if (result instanceof Failure) return fail(result.error);
  return ok({ name: displayText(result.name!), rawName: result.name!, version: result.version!, rules: result.counted });
}

/**
 * parsePolicy's answer (the same acceptance, the same errors), with the rules built only when
 * first read. For a holder that mostly needs the name, version and text — ward daemon's store,
 * whose event threads parse the text themselves — checking 100,000 rules without building
 * them is several times cheaper (validatePolicy); the rules are built once if anything asks.
 */
export function parsePolicyLazy(input: Uint8Array): ParseResult {
  const checked = parseBinary(toBinaryString(input), false, true);
  if (checked instanceof Failure) return fail(checked.error);
  const text = new Uint8Array(input);
  let built: Policy | undefined;
  const full = (): Policy => {
    if (!built) {
      const r = parseBinary(toBinaryString(text), true, true);
      // The same bytes were just accepted; a different answer would be a parser bug.
      if (r instanceof Failure) throw new Error(`parsePolicyLazy: ${r.error.message}`);
      built = policyOf(r, text);
    }
    return built;
  };
  const policy: Policy = {
    name: displayText(checked.name!),
    rawName: checked.name!,
    version: checked.version!,
    text,
    get rules() {
      return full().rules;
    },
    get rulesByOp() {
      return full().rulesByOp;
    },
    get opDefaults() {
      return full().opDefaults;
    },
    get globalDefault() {
      return full().globalDefault;
    },
    headerLine: checked.headerLine,
  };
  COUNTED.set(policy, checked.counted);
  return ok(policy);
}

const COUNTED = new WeakMap<Policy, number>();

/** How many rules (not DEFAULTs) a policy has, without building a lazy policy's rules. */
export function ruleCount(p: Policy): number {
  return COUNTED.get(p) ?? p.rules.length;
}

/** parsePolicy that throws the PolicyParseError instead of returning it. */
export function parsePolicyOrThrow(input: Uint8Array | string): Policy {
  const r = parsePolicy(input);
  if (!r.ok) throw r.error;
  return r.value;
}

interface Draft {
  name?: string;
  /** Rules seen (built or not). */
  counted: number;
  version?: Version;
  headerLine: number;
  rules: Rule[];
  rulesByOp: Record<Op, Rule[]>;
  opDefaults: Partial<Record<Op, DefaultRule>>;
  globalDefault?: DefaultRule;
}

function parseBinary(binary: string, build: boolean, fastPath: boolean): Draft | Failure {
  if (binary.length === 0) {
    return error('EBADMSG', 1, 1, '', 'the policy is empty; a policy starts with a header line such as "policy_name=NAME policy_version=0.0.1"');
  }
  // Everything after the first NUL is ignored (kmemdup_nul + C string handling).
  const nul = binary.indexOf('\0');
  const raws = splitLines(nul >= 0 ? binary.slice(0, nul) : binary);
  const lineCount = raws.length;
  const nulAt = nul >= 0 ? { line: lineCount, column: raws[lineCount - 1]!.length + 1 } : undefined;
  const draft: Draft = {
    headerLine: 0,
    counted: 0,
    rules: [],
    rulesByOp: Object.fromEntries(OPS.map((op) => [op, [] as Rule[]])) as Record<Op, Rule[]>,
    opDefaults: {},
  };
  let headerParsed = false;
  for (let i = 0; i < lineCount; i++) {
    if (headerParsed && fastPath) {
      if (build) {
        const fast = fastRule(raws[i]!, i + 1);
        if (fast) {
          draft.rules.push(fast);
          draft.rulesByOp[fast.op].push(fast);
          draft.counted++;
          continue;
        }
      } else if (isCommonRule(raws[i]!)) {
        draft.counted++;
        continue;
      }
    }
    const line = splitLine(raws[i]!, i + 1);
    if (line.tokens.length === 0) continue;
    const r = headerParsed ? parseRule(line, draft) : parseHeader(line, draft);
    if (r) return r;
    headerParsed = true;
  }
  const nulNote = nulAt ? ` (note: everything after the NUL byte at line ${nulAt.line}, column ${nulAt.column} is ignored, as the kernel does)` : '';
  const endLine = nulAt?.line ?? lineCount;
  if (!headerParsed) {
    return error(
      'EBADMSG',
      endLine,
      1,
      '',
      `the policy has no header; its first non-comment line must be "policy_name=NAME policy_version=X.Y.Z"${nulNote}`,
    );
  }
  if (!draft.globalDefault) {
    const missing = OPS.filter((op) => !draft.opDefaults[op]);
    if (missing.length > 0) {
      return error(
        'EBADMSG',
        endLine,
        1,
        '',
        `the policy has no global DEFAULT and no DEFAULT for ${missing.map((o) => `op=${o}`).join(', ')}; ` +
          `add "DEFAULT action=ALLOW" or "DEFAULT action=DENY" (or a "DEFAULT op=OP action=..." line for each op)${nulNote}`,
      );
    }
  }
  return draft;
}

function policyOf(draft: Draft, text: Uint8Array): Policy {
  return {
    name: displayText(draft.name!),
    rawName: draft.name!,
    version: draft.version!,
    text,
    rules: draft.rules,
    rulesByOp: draft.rulesByOp,
    opDefaults: draft.opDefaults,
    globalDefault: draft.globalDefault,
    headerLine: draft.headerLine,
  };
}

// parse_header(): exactly policy_name=%s then policy_version=%s (match_token's %s is non-empty).
function parseHeader(line: Line, draft: Draft): Failure | undefined {
  const [first, second, third] = line.tokens;
  const n = line.number;
  if (!first) return undefined;
  if (!first.text.startsWith(NAME_KEY) || first.text.length === NAME_KEY.length) {
    let why: string;
    if (first.text === NAME_KEY) why = 'the policy name is empty';
    else if (first.text.startsWith(VERSION_KEY)) why = 'policy_name= must come before policy_version=';
    else if (first.text.startsWith('op=') || first.text === 'DEFAULT') why = 'the policy has no header before its first rule';
    else if (first.text.toLowerCase().startsWith(NAME_KEY)) why = 'header keys are case-sensitive';
    else why = `expected policy_name=NAME, found ${quote(first.text)}`;
    return error('EBADMSG', n, first.column, first.text, `${why}; the first line must be "policy_name=NAME policy_version=X.Y.Z"`);
  }
  draft.name = first.text.slice(NAME_KEY.length);
  if (!second) {
    const col = first.column + first.text.length;
    return error('EBADMSG', n, col, '', 'the header has no policy_version=; write "policy_name=NAME policy_version=X.Y.Z" (separate them with a space)');
  }
  if (!second.text.startsWith(VERSION_KEY) || second.text.length === VERSION_KEY.length) {
    const why = second.text === VERSION_KEY ? 'the policy version is empty' : `expected policy_version=X.Y.Z, found ${quote(second.text)}`;
    return error('EBADMSG', n, second.column, second.text, `${why}; the header is "policy_name=NAME policy_version=X.Y.Z"`);
  }
  const v = parseVersion(second, n);
  if (v instanceof Failure) return v;
  draft.version = v;
  draft.headerLine = n;
  if (third) {
    return error('EBADMSG', n, third.column, third.text, `unexpected ${quote(third.text)} after the policy version; the header line holds exactly two tokens (policy names cannot contain spaces)`);
  }
  return undefined;
}

// parse_version(): strsep on '.', at most 3 parts (a 4th is EBADMSG before it is parsed),
// each through kstrtou16(part, 10); fewer than 3 is EBADMSG.
function parseVersion(token: Token, line: number): Version | Failure {
  const value = token.text.slice(VERSION_KEY.length);
  const parts: number[] = [];
  let offset = VERSION_KEY.length;
  for (const part of value.split('.')) {
    if (parts.length >= 3) {
      return error('EBADMSG', line, token.column + offset - 1, token.text, `the version has more than three parts; write it as MAJOR.MINOR.REVISION, e.g. "1.0.0"`);
    }
    const r = kstrtou16(part);
    if ('errno' in r) {
      const col = token.column + offset + r.offset;
      const which = ['major', 'minor', 'revision'][parts.length];
      const msg =
        r.errno === 'ERANGE'
          ? `the ${which} version ${quote(part)} is larger than 65535; each version part is a 16-bit number`
          : `the ${which} version ${quote(part)} is not a decimal number (${r.reason}); use digits 0-9 only, e.g. "1.0.0"`;
      return error(r.errno, line, col, token.text, msg);
    }
    parts.push(r.value);
    offset += part.length + 1;
  }
  if (parts.length !== 3) {
    return error('EBADMSG', line, token.column, token.text, `the version has ${parts.length} part${parts.length === 1 ? '' : 's'}; write it as MAJOR.MINOR.REVISION, e.g. "1.0.0"`);
  }
  return { major: parts[0]!, minor: parts[1]!, rev: parts[2]! };
}

function parseAction(t: string): Action | undefined {
  return t === 'action=ALLOW' ? 'ALLOW' : t === 'action=DENY' ? 'DENY' : undefined;
}

function parseOp(t: string): Op | undefined {
  if (!t.startsWith('op=')) return undefined;
  const op = t.slice(3);
  return isOp(op) ? op : undefined;
}

// parse_rule(): every token but the last is DEFAULT (first only), then op=, then properties;
// the last token is the action.
function parseRule(line: Line, draft: Draft): Failure | undefined {
  const n = line.number;
  const tokens = line.tokens;
  const last = tokens[tokens.length - 1]!;
  let isDefault = false;
  let op: Op | undefined;
  const properties: Property[] = [];
  let firstPropertyToken: Token | undefined;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i]!;
    if (i === 0 && t.text === 'DEFAULT') {
      isDefault = true;
    } else if (op === undefined) {
      op = parseOp(t.text);
      if (op === undefined) return badOpToken(t, n, isDefault);
    } else {
      const p = parseProperty(t, n);
      if (p instanceof Failure) return p;
      properties.push(p);
      firstPropertyToken ??= t;
    }
  }
  const action = parseAction(last.text);
  if (action === undefined) return badActionToken(last, n, tokens.length === 1);

  if (isDefault) {
    if (firstPropertyToken) {
      return error('EBADMSG', n, firstPropertyToken.column, firstPropertyToken.text, 'a DEFAULT line takes no properties; write "DEFAULT [op=OP] action=ALLOW|DENY" and put the property in a rule "op=OP PROPERTY action=..."');
    }
    const existing = op === undefined ? draft.globalDefault : draft.opDefaults[op];
    if (existing) {
      const what = op === undefined ? 'a global DEFAULT' : `a DEFAULT for op=${op}`;
      return error('EBADMSG', n, tokens[0]!.column, 'DEFAULT', `the policy already has ${what} (line ${existing.line}); keep only one`);
    }
    const d: DefaultRule = { op, action, line: n };
    if (op === undefined) draft.globalDefault = d;
    else draft.opDefaults[op] = d;
    return undefined;
  }
  if (op === undefined) {
    return error('EBADMSG', n, last.column, last.text, 'the rule has no op=; a rule is "op=OP [PROPERTY...] action=ALLOW|DENY"');
  }
  const rule: Rule = { op, properties, action, line: n };
  draft.rules.push(rule);
  draft.rulesByOp[op].push(rule);
  draft.counted++;
  return undefined;
}

function badOpToken(t: Token, n: number, isDefault: boolean): Failure {
  const s = t.text;
  let msg: string;
  if (s.startsWith('op=')) {
    const near = OPS.find((o) => o.toLowerCase() === s.slice(3).toLowerCase());
    msg = near
      ? `unknown operation ${quote(s.slice(3))}; operations are upper-case: op=${near}`
      : `unknown operation ${quote(s.slice(3))}; use one of ${OPS.join(', ')}`;
  } else if (isDefault) {
    msg = s === 'DEFAULT' ? 'DEFAULT appears twice; write "DEFAULT [op=OP] action=ALLOW|DENY"' : `a DEFAULT line takes only op= and action=, found ${quote(s)}; write "DEFAULT [op=OP] action=ALLOW|DENY"`;
  } else if (s.toLowerCase() === 'default') {
    msg = 'DEFAULT is case-sensitive; write "DEFAULT"';
  } else if (s.startsWith('action=')) {
    msg = `action= must be the last token of a rule, after op=; write "op=OP [PROPERTY...] ${displayText(s)}"`;
  } else if (s.toLowerCase().startsWith('op=')) {
    msg = `keys are case-sensitive; write "op=..."`;
  } else if (propertyKey(s) !== undefined) {
    msg = `a rule must start with op=; write "op=OP ${displayText(s)} ... action=ALLOW|DENY"`;
  } else {
    msg = `unrecognized statement ${quote(s)}; a line is a rule "op=OP [PROPERTY...] action=ALLOW|DENY" or "DEFAULT [op=OP] action=ALLOW|DENY"`;
  }
  return error('EBADMSG', n, t.column, s, msg);
}

function badActionToken(t: Token, n: number, alone: boolean): Failure {
  const s = t.text;
  let msg: string;
  if (s.startsWith('action=')) msg = `unknown action ${quote(s.slice(7))}; use action=ALLOW or action=DENY (upper-case)`;
  else if (s.toLowerCase().startsWith('action=')) msg = 'keys are case-sensitive; write action=ALLOW or action=DENY';
  else if (alone && s === 'DEFAULT') msg = 'DEFAULT needs an action; write "DEFAULT action=ALLOW" or "DEFAULT action=DENY"';
  else msg = `the line must end with action=ALLOW or action=DENY, found ${quote(s)}`;
  return error('EBADMSG', n, t.column, s, msg);
}

function propertyKey(s: string): string | undefined {
  const eq = s.indexOf('=');
  const key = eq >= 0 ? s.slice(0, eq) : s;
  return (BOOL_PROPERTIES as readonly string[]).includes(key) || (DIGEST_PROPERTIES as readonly string[]).includes(key) ? key : undefined;
}

// parse_property(): exact boolean tokens, or dmverity_roothash=%s / fsverity_digest=%s.
function parseProperty(t: Token, n: number): Property | Failure {
  const s = t.text;
  for (const name of BOOL_PROPERTIES) {
    if (s === `${name}=TRUE`) return { kind: 'bool', name, value: true };
    if (s === `${name}=FALSE`) return { kind: 'bool', name, value: false };
  }
  for (const name of DIGEST_PROPERTIES) {
    const prefix = `${name}=`;
    if (s.startsWith(prefix) && s.length > prefix.length) {
      const d = parseDigest(s.slice(prefix.length), t, prefix.length, n);
      return d instanceof Failure ? d : { kind: 'digest', name, digest: d };
    }
  }
  let msg: string;
  const key = propertyKey(s);
  if (key !== undefined && (BOOL_PROPERTIES as readonly string[]).includes(key)) {
    msg = `${key} takes TRUE or FALSE (upper-case), found ${quote(s.slice(key.length + 1))}`;
  } else if (key !== undefined) {
    msg = `${key} needs a digest value: ${key}=ALG:HEX, e.g. ${key}=sha256:<64 hex digits>`;
  } else if (s.startsWith('action=')) {
    msg = 'action= must be the last token of the line (is there a token after it?)';
  } else if (s.startsWith('op=')) {
    msg = 'a rule has exactly one op=; write a separate rule for each op';
  } else {
    const lower = s.toLowerCase();
    const near = [...BOOL_PROPERTIES, ...DIGEST_PROPERTIES].find((p) => lower.startsWith(`${p}=`));
    msg = near
      ? `property names and values are case-sensitive; write ${near}=...`
      : `unknown property ${quote(s)}; properties are ${[...BOOL_PROPERTIES.map((p) => `${p}=TRUE|FALSE`), ...DIGEST_PROPERTIES.map((p) => `${p}=ALG:HEX`)].join(', ')}`;
  }
  return error('EBADMSG', n, t.column, s, msg);
}

// ipe_digest_parse(): ALG ':' HEX, ALG unchecked (may be empty), HEX through hex2bin.
function parseDigest(value: string, t: Token, valueOffset: number, n: number): Digest | Failure {
  const colon = value.indexOf(':');
  if (colon < 0) {
    return error('EBADMSG', n, t.column + valueOffset, t.text, `a digest is written ALG:HEX (e.g. sha256:${'0'.repeat(8)}...); ${quote(value)} has no ':'`);
  }
  const algorithm = value.slice(0, colon);
  const hexText = value.slice(colon + 1);
  const r = hex2bin(hexText);
  if ('offset' in r) {
    const bad = r.offset < hexText.length ? quote(hexText[r.offset]!) : 'end of value';
    const why = r.offset >= hexText.length ? `an odd number of hex digits (${hexText.length})` : `the character ${bad} is not a hex digit`;
    return error('EINVAL', n, t.column + valueOffset + colon + 1 + Math.min(r.offset, hexText.length), t.text, `the digest cannot be decoded: ${why}; write the digest as an even number of hex digits after "${displayText(algorithm)}:"`);
  }
  return { algorithm, hex: r.hex, key: `${algorithm}:${r.hex}` };
}
