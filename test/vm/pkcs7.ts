// A minimal PKCS#7 SignedData signer for the IPE differential: the same shape as
// `openssl smime -sign -binary -noattr -nodetach -nosmimecap -outform der` (content attached,
// no signed attributes, the signer's certificate included, SHA-256 with RSA), built in-process
// because one openssl process per policy is far too slow under TCG. Tests check its output with
// openssl and with the kernel.

import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}

const seq = (...p: Buffer[]) => tlv(0x30, ...p);
const set = (...p: Buffer[]) => tlv(0x31, ...p);
const NULL = Buffer.from([0x05, 0x00]);

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const enc = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) enc.unshift(0x80 | (v & 0x7f));
    out.push(...enc);
  }
  return tlv(0x06, Buffer.from(out));
}

/** Reads one DER TLV at `at`: its tag, where its contents start and end. */
function readTlv(der: Buffer, at: number): { tag: number; start: number; end: number } {
  const tag = der[at]!;
  let l = der[at + 1]!;
  let start = at + 2;
  if (l & 0x80) {
    const n = l & 0x7f;
    l = 0;
    for (let i = 0; i < n; i++) l = l * 256 + der[start + i]!;
    start += n;
  }
  return { tag, start, end: start + l };
}

export interface Signer {
  key: KeyObject;
  certDer: Buffer;
  /** IssuerAndSerialNumber, DER. */
  issuerAndSerial: Buffer;
}

export function loadSigner(keyPem: string, certPem: string): Signer {
  const pem = readFileSync(certPem, 'utf8');
  const certDer = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  // Certificate ::= SEQ { tbsCertificate SEQ { [0] version, serialNumber, signature, issuer, … } }
  const cert = readTlv(certDer, 0);
  const tbs = readTlv(certDer, cert.start);
  let at = tbs.start;
  let field = readTlv(certDer, at);
  if (field.tag === 0xa0) {
    at = field.end;
    field = readTlv(certDer, at);
  }
  const serial = certDer.subarray(at, field.end);
  const sigAlg = readTlv(certDer, field.end);
  const issuer = readTlv(certDer, sigAlg.end);
  const issuerDer = certDer.subarray(sigAlg.end, issuer.end);
  return { key: createPrivateKey(readFileSync(keyPem)), certDer, issuerAndSerial: seq(issuerDer, serial) };
}

const SHA256 = seq(oid('2.16.840.1.101.3.4.2.1'), NULL);

/** PKCS#7 SignedData (DER) with `content` attached, signed by `s`. */
export function signPkcs7(content: Uint8Array, s: Signer): Buffer {
  const signature = sign('sha256', content, s.key);
  const signerInfo = seq(tlv(0x02, Buffer.from([1])), s.issuerAndSerial, SHA256, seq(oid('1.2.840.113549.1.1.1'), NULL), tlv(0x04, signature));
  const signedData = seq(
    tlv(0x02, Buffer.from([1])),
    set(SHA256),
    seq(oid('1.2.840.113549.1.7.1'), tlv(0xa0, tlv(0x04, Buffer.from(content)))),
    tlv(0xa0, s.certDer),
    set(signerInfo),
  );
  return seq(oid('1.2.840.113549.1.7.2'), tlv(0xa0, signedData));
}
