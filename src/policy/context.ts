// What a policy can ask about a file. Providers (user-space digests, kernel measurements, a
// JSON document) implement FileContext; the engine never knows where a value came from.

import { ok, type Result } from '../errors.ts';
import { bool, checkObject, nullOr, type FieldCheck } from '../util/json.ts';
import { BOOL_PROPERTIES, DIGEST_PROPERTIES, type BoolPropertyName, type DigestPropertyName } from './model.ts';
import { hex2bin } from './numbers.ts';

export interface FileContext {
  /**
   * true/false, or undefined when no provider can tell. In the kernel, when a property's provider
   * is not built in, both NAME=TRUE and NAME=FALSE evaluate false; undefined mirrors that.
   */
  boolean(name: BoolPropertyName): boolean | undefined;
  /** The file's digest as "alg:lowerhex", or undefined when it has none (the rule does not match). */
  digest(name: DigestPropertyName): string | undefined;
}

export type StaticContextValues = Partial<Record<BoolPropertyName, boolean>> & Partial<Record<DigestPropertyName, string>>;

/** A context of fixed values (e.g. from `ward policy eval --context JSON`). */
export class StaticFileContext implements FileContext {
  readonly values: Readonly<StaticContextValues>;
  constructor(values: StaticContextValues) {
    this.values = values;
  }
  boolean(name: BoolPropertyName): boolean | undefined {
    return this.values[name];
  }
  digest(name: DigestPropertyName): string | undefined {
    return this.values[name];
  }
}

/** "ALG:HEX" → "ALG:lowerhex", validated like a policy digest value. */
export function normalizeDigest(value: string): string | undefined {
  const colon = value.indexOf(':');
  if (colon < 0) return undefined;
  const hex = value.slice(colon + 1);
  const r = hex2bin(hex);
  if ('offset' in r || hex.length === 0) return undefined;
  return `${value.slice(0, colon)}:${r.hex}`;
}

const digestValue: FieldCheck = (v) =>
  typeof v === 'string' && normalizeDigest(v) !== undefined ? undefined : 'must be a digest "ALG:HEX" with an even number of hex digits (e.g. "sha256:ab12..."), or null';

const CONTEXT_FIELDS = Object.fromEntries([
  ...BOOL_PROPERTIES.map((k) => [k, nullOr(bool)] as const),
  ...DIGEST_PROPERTIES.map((k) => [k, nullOr(digestValue)] as const),
]) as Record<BoolPropertyName | DigestPropertyName, FieldCheck>;

/** Validates a JSON context document: keys are property names, values booleans/digests/null (unknown). */
export function contextFromJson(doc: unknown, source = 'context'): Result<StaticFileContext> {
  const r = checkObject(doc, CONTEXT_FIELDS, source, '{"boot_verified":true,"fsverity_digest":"sha256:<hex>"}');
  if (!r.ok) return r;
  const values: StaticContextValues = {};
  for (const key of BOOL_PROPERTIES) {
    const v = r.value[key];
    if (typeof v === 'boolean') values[key] = v;
  }
  for (const key of DIGEST_PROPERTIES) {
    const v = r.value[key];
    if (typeof v === 'string') values[key] = normalizeDigest(v);
  }
  return ok(new StaticFileContext(values));
}

/** Wraps a context and records every property the engine asked for, with its answer. */
export class RecordingContext implements FileContext {
  readonly #inner: FileContext;
  /** Property → answer (null: no provider could tell), in the order they were asked. */
  readonly asked: Record<string, boolean | string | null> = {};
  constructor(inner: FileContext) {
    this.#inner = inner;
  }
  boolean(name: BoolPropertyName): boolean | undefined {
    const v = this.#inner.boolean(name);
    this.asked[name] = v ?? null;
    return v;
  }
  digest(name: DigestPropertyName): string | undefined {
    const v = this.#inner.digest(name);
    this.asked[name] = v ?? null;
    return v;
  }
}
