// The control socket's protocol: one request per connection, one JSON response line.
// A request is one JSON line. A policy's text and signature are bytes (not necessarily UTF-8):
// either base64 strings in the line ("text", "pkcs7"), or — what ward's own client sends — raw
// bytes right after the line, their lengths in it ("textBytes", then "pkcs7Bytes"). For a
// 100,000-rule policy (11 MB) the raw form saves both sides base64 and a 15 MB JSON string.

import type { ErrnoName } from '../errors.ts';
import { bool, checkObject, isJsonObject, str, type FieldCheck } from '../util/json.ts';

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

export type ControlResponse = { ok: true; [k: string]: unknown } | { ok: false; errno: ErrnoName; message: string; line?: number; column?: number; token?: string };

export const VERBS = ['load', 'list', 'show', 'activate', 'update', 'delete', 'enforce', 'audit-success', 'status'] as const;
type Verb = (typeof VERBS)[number];

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

// Policy bytes: base64 text in the line, or raw bytes after it (attachBody put them here).
const policyText: FieldCheck = (v) => (v instanceof Uint8Array || typeof v === 'string' ? undefined : 'must be the policy as base64 text (or sent raw after the line, with "textBytes")');
const anything: FieldCheck = () => undefined;

/** Per verb: its fields (util/json.ts's checks) and which of them it needs. */
const FIELDS: Record<Verb, { fields: Readonly<Record<string, FieldCheck>>; required: readonly string[] }> = {
  load: { fields: { text: policyText, pkcs7: policyText }, required: ['text'] },
  list: { fields: {}, required: [] },
  show: { fields: { name: str }, required: ['name'] },
  activate: { fields: { name: str }, required: ['name'] },
  update: { fields: { name: str, text: policyText, pkcs7: policyText }, required: ['name', 'text'] },
  delete: { fields: { name: str }, required: ['name'] },
  enforce: { fields: { on: bool }, required: ['on'] },
  'audit-success': { fields: { on: bool }, required: ['on'] },
  status: { fields: {}, required: [] },
};

/** Validates a decoded request; returns an error message or the request. */
export function parseRequest(doc: unknown): ControlRequest | string {
  if (!isJsonObject(doc)) return 'the request must be a JSON object, e.g. {"verb":"list"}';
  const verb = doc.verb;
  if (!(VERBS as readonly unknown[]).includes(verb)) return `unknown verb ${JSON.stringify(verb)}; verbs: ${VERBS.join(', ')}`;
  const { fields, required } = FIELDS[verb as Verb];
  const missing = required.find((k) => doc[k] === undefined);
  if (missing) return `"${String(verb)}" needs "${missing}"`;
  const checked = checkObject(doc, { verb: anything, ...fields }, `"${String(verb)}" request`, '{"verb":"list"}');
  return checked.ok ? (doc as ControlRequest) : checked.error.message;
}
