// The control socket's protocol: one JSON request per connection, one JSON response.
// Policy texts travel base64-encoded (they are bytes, not necessarily UTF-8).

export type ControlRequest =
  | { verb: 'load'; text: string; pkcs7?: string }
  | { verb: 'list' }
  | { verb: 'show'; name: string }
  | { verb: 'activate'; name: string }
  | { verb: 'update'; name: string; text: string; pkcs7?: string }
  | { verb: 'delete'; name: string }
  | { verb: 'enforce'; on: boolean }
  | { verb: 'audit-success'; on: boolean }
  | { verb: 'status' };

export type ControlResponse = { ok: true; [k: string]: unknown } | { ok: false; errno: string; message: string; line?: number; column?: number; token?: string };

export const VERBS = ['load', 'list', 'show', 'activate', 'update', 'delete', 'enforce', 'audit-success', 'status'] as const;

/** Validates a decoded request; returns an error message or the request. */
export function parseRequest(doc: unknown): ControlRequest | string {
  if (typeof doc !== 'object' || doc === null) return 'the request must be a JSON object';
  const r = doc as Record<string, unknown>;
  if (!(VERBS as readonly string[]).includes(r.verb as string)) return `unknown verb ${JSON.stringify(r.verb)}; verbs: ${VERBS.join(', ')}`;
  const needs = (k: string, type: string) => (typeof r[k] === type ? undefined : `"${String(r.verb)}" needs "${k}" (${type})`);
  switch (r.verb) {
    case 'load':
      return needs('text', 'string') ?? (r.pkcs7 !== undefined ? needs('pkcs7', 'string') : undefined) ?? (r as ControlRequest);
    case 'show':
    case 'activate':
    case 'delete':
      return needs('name', 'string') ?? (r as ControlRequest);
    case 'update':
      return needs('name', 'string') ?? needs('text', 'string') ?? (r.pkcs7 !== undefined ? needs('pkcs7', 'string') : undefined) ?? (r as ControlRequest);
    case 'enforce':
    case 'audit-success':
      return needs('on', 'boolean') ?? (r as ControlRequest);
    default:
      return r as ControlRequest;
  }
}
