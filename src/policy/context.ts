// What a policy can ask about a file. Providers (user-space digests, kernel measurements, a
// JSON document) implement FileContext; the engine never knows where a value came from.

import { WardError, fail, ok, type Result } from '../errors.ts';
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

/** Validates a JSON context document: keys are property names, values booleans/digests/null. */
export function contextFromJson(doc: unknown): Result<StaticFileContext> {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    return fail(new WardError('EINVAL', 'the context must be a JSON object such as {"boot_verified":true,"fsverity_digest":"sha256:<hex>"}'));
  }
  const values: StaticContextValues = {};
  for (const [key, value] of Object.entries(doc)) {
    if ((BOOL_PROPERTIES as readonly string[]).includes(key)) {
      if (value === null) continue;
      if (typeof value !== 'boolean') {
        return fail(new WardError('EINVAL', `context field "${key}" must be true, false or null (unknown), not ${JSON.stringify(value)}`));
      }
      values[key as BoolPropertyName] = value;
    } else if ((DIGEST_PROPERTIES as readonly string[]).includes(key)) {
      if (value === null) continue;
      const d = typeof value === 'string' ? normalizeDigest(value) : undefined;
      if (d === undefined) {
        return fail(new WardError('EINVAL', `context field "${key}" must be a digest "ALG:HEX" with an even number of hex digits (e.g. "sha256:ab12..."), or null`));
      }
      values[key as DigestPropertyName] = d;
    } else {
      return fail(new WardError('EINVAL', `unknown context field "${key}"; known fields: ${[...BOOL_PROPERTIES, ...DIGEST_PROPERTIES].join(', ')}`));
    }
  }
  return ok(new StaticFileContext(values));
}
