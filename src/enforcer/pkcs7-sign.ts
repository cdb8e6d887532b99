// ward's PKCS#7 signer for policies the kernel's IPE takes (new_policy / update): SignedData in
// DER with the content attached, no signed attributes, the signer's certificate included, SHA-256
// with RSA — the shape of `openssl smime -sign -binary -noattr -nodetach -nosmimecap -outform
// der` (with openssl's default S/MIME capabilities the kernel answers EKEYREJECTED). Built
// in-process: `ward daemon --backend ipe` signs every policy it deploys, and the IPE differential
// tests sign thousands per boot. Checked against openssl and the kernel by the guest tests.

import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { WardError, errorCode } from '../errors.ts';

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

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = errorCode(e);
    throw new WardError(code, `cannot read the ${what} ${path}: ${code}`);
  }
}

/**
 * The signing key's PEM, read only if nobody but its owner — root or the user ward runs as — can
 * read or change it: whoever can read the key can sign policies the kernel's IPE activates (what
 * may execute on the host), and whoever can write it can swap in their own. Opened with
 * O_NOFOLLOW and checked on the open descriptor (no race between the check and the read): a
 * symlink as the key path is refused rather than followed, as its target's directory is not
 * what the configuration names.
 */
function readPrivateKeyPem(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = errorCode(e);
    if (code === 'ELOOP') throw new WardError('ELOOP', `the signing key ${path} is a symbolic link: name the key file itself (ward does not follow links to a key)`);
    throw new WardError(code, `cannot read the signing key ${path}: ${code}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new WardError('EINVAL', `the signing key ${path} is not a regular file`);
    const me = process.geteuid?.() ?? 0;
    if (st.uid !== 0 && st.uid !== me) throw new WardError('EACCES', `the signing key ${path} belongs to uid ${st.uid}, not root${me !== 0 ? ` or uid ${me}` : ''}: whoever owns it can sign policies the kernel enforces (chown root ${path})`);
    if ((st.mode & 0o077) !== 0) throw new WardError('EACCES', `the signing key ${path} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}: group or others can use it to sign policies the kernel enforces (chmod 600 ${path})`);
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** The signer from PEM files: an RSA private key and its X.509 certificate. */
export function loadSigner(keyPem: string, certPem: string): Signer {
  const pem = readPem(certPem, 'signing certificate');
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new WardError('EINVAL', `${certPem}: no PEM certificate found (expected -----BEGIN CERTIFICATE-----)`);
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
  let key: KeyObject;
  try {
    key = createPrivateKey(readPrivateKeyPem(keyPem));
  } catch (e) {
    if (e instanceof WardError) throw e;
    throw new WardError('EINVAL', `${keyPem}: not a PEM private key (${(e as Error).message})`);
  }
  // The SignerInfo below names rsaEncryption: any other key would make a blob the kernel rejects.
  if (key.asymmetricKeyType !== 'rsa') throw new WardError('EINVAL', `${keyPem}: a ${key.asymmetricKeyType ?? 'non-RSA'} key; ward signs policies with RSA keys only (openssl genrsa)`);
  return { key, certDer, issuerAndSerial: seq(issuerDer, serial) };
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
