// The control socket's protocol: one request per connection, one JSON response line.
// A request is one JSON line. A policy's text and signature are bytes (not necessarily UTF-8):
// either base64 strings in the line ("text", "pkcs7"), or — what ward's own client sends — raw
// bytes right after the line, their lengths in it ("textBytes", then "pkcs7Bytes"). For a
// 100,000-rule policy (11 MB) the raw form saves both sides base64 and a 15 MB JSON string.

/** A policy text or signature: base64 in the JSON line, or raw bytes (framed after it). */
export type PolicyBytes = string | Uint8Array;

export type ControlRequest =
  | { verb: 'load'; text: PolicyBytes; pkcs7?: PolicyBytes }
  | { verb: 'list' }
  | { verb: 'show'; name: string }
  | { verb: 'activate'; name: string }
  | { verb: 'update'; name: string; text: PolicyBytes; pkcs7?: PolicyBytes }
  | { verb: 'delete'; name: string }
  | { verb: 'enforce'; on: boolean }
  | { verb: 'audit-success'; on: boolean }
  | { verb: 'status' };

export type ControlResponse = { ok: true; [k: string]: unknown } | { ok: false; errno: string; message: string; line?: number; column?: number; token?: string };

export const VERBS = ['load', 'list', 'show', 'activate', 'update', 'delete', 'enforce', 'audit-success', 'status'] as const;

/** The bytes a PolicyBytes stands for (base64 decoded; raw bytes as they are). */
export function policyBytes(b: PolicyBytes): Uint8Array {
  return typeof b === 'string' ? Buffer.from(b, 'base64') : b;
}

/** A request as sent: the JSON line (no newline) and the raw bytes that follow it. */
export function encodeRequest(req: ControlRequest): { line: string; body: Uint8Array[] } {
  if ((req.verb !== 'load' && req.verb !== 'update') || (typeof req.text === 'string' && typeof req.pkcs7 !== 'object')) return { line: JSON.stringify(req), body: [] };
  const text = policyBytes(req.text);
  const pkcs7 = req.pkcs7 === undefined ? undefined : policyBytes(req.pkcs7);
  const { text: _t, pkcs7: _p, ...rest } = req;
  const head = { ...rest, textBytes: text.length, ...(pkcs7 ? { pkcs7Bytes: pkcs7.length } : {}) };
  return { line: JSON.stringify(head), body: pkcs7 ? [text, pkcs7] : [text] };
}

/** How many raw bytes follow the request line `doc` (0 without textBytes), or what is wrong. */
export function bodyLength(doc: unknown, max: number): number | string {
  if (typeof doc !== 'object' || doc === null) return 0;
  const r = doc as Record<string, unknown>;
  if (r.textBytes === undefined && r.pkcs7Bytes === undefined) return 0;
  const size = (k: string) => (Number.isSafeInteger(r[k]) && (r[k] as number) >= 0 ? undefined : `"${k}" must be a byte count (an integer ≥ 0)`);
  const why = (r.textBytes === undefined ? '"pkcs7Bytes" needs "textBytes"' : undefined) ?? size('textBytes') ?? (r.pkcs7Bytes !== undefined ? size('pkcs7Bytes') : undefined);
  if (why) return why;
  if (r.text !== undefined || r.pkcs7 !== undefined) return 'a request has "text" or "textBytes", not both';
  const total = (r.textBytes as number) + ((r.pkcs7Bytes as number | undefined) ?? 0);
  return total > max ? `the request's ${total} bytes exceed the limit of ${max}` : total;
}

/** The request line with its raw bytes in place of the byte counts. */
export function attachBody(doc: Record<string, unknown>, body: Uint8Array): Record<string, unknown> {
  if (doc.textBytes === undefined) return doc;
  const { textBytes, pkcs7Bytes, ...rest } = doc as { textBytes: number; pkcs7Bytes?: number };
  return { ...rest, text: body.subarray(0, textBytes), ...(pkcs7Bytes !== undefined ? { pkcs7: body.subarray(textBytes, textBytes + pkcs7Bytes) } : {}) };
}

/** Validates a decoded request; returns an error message or the request. */
export function parseRequest(doc: unknown): ControlRequest | string {
  if (typeof doc !== 'object' || doc === null) return 'the request must be a JSON object';
  const r = doc as Record<string, unknown>;
  if (!(VERBS as readonly string[]).includes(r.verb as string)) return `unknown verb ${JSON.stringify(r.verb)}; verbs: ${VERBS.join(', ')}`;
  const needs = (k: string, type: string) => (typeof r[k] === type ? undefined : `"${String(r.verb)}" needs "${k}" (${type})`);
  // Policy bytes: base64 in the line, or raw after it (attachBody put them here).
  const bytes = (k: string) => (r[k] instanceof Uint8Array ? undefined : needs(k, 'string'));
  switch (r.verb) {
    case 'load':
      return bytes('text') ?? (r.pkcs7 !== undefined ? bytes('pkcs7') : undefined) ?? (r as ControlRequest);
    case 'show':
    case 'activate':
    case 'delete':
      return needs('name', 'string') ?? (r as ControlRequest);
    case 'update':
      return needs('name', 'string') ?? bytes('text') ?? (r.pkcs7 !== undefined ? bytes('pkcs7') : undefined) ?? (r as ControlRequest);
    case 'enforce':
    case 'audit-success':
      return needs('on', 'boolean') ?? (r as ControlRequest);
    default:
      return r as ControlRequest;
  }
}
