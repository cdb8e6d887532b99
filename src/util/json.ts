// Checking JSON documents people write (configuration, profiles, contexts, requests): one set of
// field checks and one message shape — `SOURCE: field "NAME" must be …, got VALUE` — so every
// validator reports bad input the same way. Pure: returns Results, never throws.

import { WardError, fail, ok, type Result } from '../errors.ts';

/** A field check: undefined if the value is fine, else what it must be ("must be …"). */
export type FieldCheck = (v: unknown) => string | undefined;

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
  for (const [k, v] of Object.entries(doc)) {
    const check = (fields as Record<string, FieldCheck | undefined>)[k];
    if (!check) return fail(new WardError('EINVAL', `${source}: unknown field "${k}"; known fields: ${Object.keys(fields).join(', ')}`));
    const why = check(v);
    if (why) return fail(new WardError('EINVAL', `${source}: field "${k}" ${why}, got ${JSON.stringify(v)}`));
  }
  return ok(doc as Partial<Record<K, unknown>>);
}
