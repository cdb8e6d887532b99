// Checking JSON documents people write (configuration, profiles, contexts, requests): one set of
// field checks and one message shape — `SOURCE: field "NAME" must be …, got VALUE` — so every
// validator reports bad input the same way. Pure: returns Results, never throws.

import { WardError, fail, ok, type Result } from '../errors.ts';

/**
 * What is wrong below a field (inside a list or a nested object): `at` continues the field's
 * name ("[2]", ".level", ".allow.paths[0]") and either the value there fails (`why`, `got`) or
 * its name is unknown (`known`: the names allowed there).
 */
export type FieldProblem = { at: string; why: string; got: unknown } | { at: string; known: readonly string[] };

/**
 * A field check: undefined if the value is fine, else what it must be ("must be …"), or for a
 * list or nested object the problem found inside it.
 */
export type FieldCheck = (v: unknown) => string | FieldProblem | undefined;

export const str: FieldCheck = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'must be a non-empty string');
export const bool: FieldCheck = (v) => (typeof v === 'boolean' ? undefined : 'must be true or false');
export const int =
  (min: number, max: number): FieldCheck =>
  (v) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? undefined : `must be an integer ${min}-${max}`;
export const strList: FieldCheck = (v) =>
  Array.isArray(v) && v.every((x) => typeof x === 'string' && x.length > 0) ? undefined : 'must be an array of non-empty strings';
export const oneOf =
  (...values: readonly string[]): FieldCheck =>
  (v) =>
    typeof v === 'string' && values.includes(v) ? undefined : `must be one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
/** null is accepted (meaning "unknown" or "not set"), else `check`. */
export const nullOr =
  (check: FieldCheck): FieldCheck =>
  (v) =>
    v === null ? undefined : check(v);

/** An array whose every element passes `check`; a bad element is named by its index. */
export const listOf =
  (check: FieldCheck, what: string): FieldCheck =>
  (v) => {
    if (!Array.isArray(v)) return `must be an array of ${what}`;
    for (const [i, x] of v.entries()) {
      const p = check(x);
      if (typeof p === 'string') return { at: `[${i}]`, why: p, got: x };
      if (p) return { ...p, at: `[${i}]${p.at}` };
    }
    return undefined;
  };

/** A nested JSON object with its own fields (unknown ones refused, named by their full path). */
export const objectOf =
  (fields: Readonly<Record<string, FieldCheck>>): FieldCheck =>
  (v) => {
    if (!isJsonObject(v)) return `must be a JSON object with the fields ${Object.keys(fields).join(', ')}`;
    const p = problemIn(v, fields);
    return p && { ...p, at: `.${p.at}` };
  };

export function isJsonObject(doc: unknown): doc is Record<string, unknown> {
  return typeof doc === 'object' && doc !== null && !Array.isArray(doc);
}

/** JSON.parse, with a failure that says which input was not JSON. */
export function parseJsonText(text: string, source: string): Result<unknown> {
  try {
    return ok(JSON.parse(text) as unknown);
  } catch (e) {
    return fail(new WardError('EINVAL', `${source}: not valid JSON: ${(e as Error).message}`));
  }
}

/**
 * Checks a JSON object against its fields: no unknown field, every present field passes its
 * check. `example` shows what a valid document looks like when `doc` is not an object.
 */
export function checkObject<K extends string>(doc: unknown, fields: Readonly<Record<K, FieldCheck>>, source: string, example: string): Result<Partial<Record<K, unknown>>> {
  if (!isJsonObject(doc)) return fail(new WardError('EINVAL', `${source}: must be a JSON object, e.g. ${example}`));
  const p = problemIn(doc, fields);
  if (!p) return ok(doc as Partial<Record<K, unknown>>);
  if ('known' in p) {
    const near = closest(p.at.slice(p.at.lastIndexOf('.') + 1), p.known);
    return fail(new WardError('EINVAL', `${source}: unknown field "${p.at}"; known fields: ${p.known.join(', ')}${near ? `; did you mean "${near}"?` : ''}`));
  }
  return fail(new WardError('EINVAL', `${source}: field "${p.at}" ${p.why}, got ${JSON.stringify(p.got)}`));
}

/** The first problem of an object's fields, in document order. */
function problemIn(doc: Record<string, unknown>, fields: Readonly<Record<string, FieldCheck>>): FieldProblem | undefined {
  for (const [k, v] of Object.entries(doc)) {
    const check = Object.hasOwn(fields, k) ? fields[k] : undefined;
    if (!check) return { at: k, known: Object.keys(fields) };
    const p = check(v);
    if (typeof p === 'string') return { at: k, why: p, got: v };
    if (p) return { ...p, at: k + p.at };
  }
  return undefined;
}

/** The known name a typo most likely meant (edit distance ≤ 2, ignoring case and "_" vs "-"), if any. */
function closest(key: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/_/g, '-');
  let best: string | undefined;
  let bestD = 3;
  for (const x of known) {
    const d = editDistance(norm(key), norm(x));
    if (d < bestD) [best, bestD] = [x, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}
