// Signed policies, as IPE's new_policy takes them: PKCS#7 / CMS SignedData in DER with the
// policy text attached. The kernel verifies against its keyrings; ward daemon verifies against
// the certificates in `trustedCerts`. Errors follow verify_pkcs7_signature(): EBADMSG for a
// malformed message, ENOKEY when no trusted certificate signed it, EKEYREJECTED when the
// signature does not verify.

import * as pkijs from 'pkijs';
import { readFileSync } from 'node:fs';
import { WardError, fail, ok, type Result } from '../errors.ts';

type Asn1Node = { idBlock: { isConstructed: boolean }; valueBlock: { valueHexView: Uint8Array; value?: Asn1Node[] } };

/** PEM file(s) → DER certificates. */
export function readCertificates(paths: readonly string[]): pkijs.Certificate[] {
  const certs: pkijs.Certificate[] = [];
  for (const path of paths) {
    const pem = readFileSync(path, 'utf8');
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw new WardError('EINVAL', `${path}: no PEM certificate found`);
    for (const b of blocks) {
      const der = Buffer.from(b.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
      certs.push(pkijs.Certificate.fromBER(der));
    }
  }
  return certs;
}

function octets(node: Asn1Node): Uint8Array {
  // Attached content may be a constructed OCTET STRING (BER, in pieces).
  if (!node.idBlock.isConstructed) return node.valueBlock.valueHexView;
  return Buffer.concat((node.valueBlock.value ?? []).map((n) => Buffer.from(octets(n))));
}

export async function verifySignedPolicy(p7s: Uint8Array, trusted: pkijs.Certificate[]): Promise<Result<{ content: Uint8Array }>> {
  let signed: pkijs.SignedData;
  let content: Uint8Array;
  try {
    const info = pkijs.ContentInfo.fromBER(p7s);
    signed = new pkijs.SignedData({ schema: info.content });
    const e = signed.encapContentInfo.eContent as unknown as Asn1Node | undefined;
    if (!e) return fail(new WardError('EBADMSG', 'the PKCS#7 message has no attached content: sign with -nodetach (openssl smime -sign -nodetach -binary -noattr -outform der)'));
    content = octets(e);
  } catch (e) {
    return fail(new WardError('EBADMSG', `not a DER PKCS#7 signed message: ${(e as Error).message}`));
  }
  if (trusted.length === 0) return fail(new WardError('ENOKEY', 'no trusted certificates are configured (trustedCerts): ward daemon cannot verify signed policies'));
  // The kernel verifies with a key that is in its keyring as it is (pkcs7_validate_trust): a
  // trusted certificate need not be a CA with keyCertSign. When the signer (issuer + serial) is
  // a trusted certificate itself, verify with that certificate's key alone — never with a
  // same-named certificate carried in the message — instead of building a chain.
  const sid = signed.signerInfos[0]?.sid as unknown;
  const direct =
    sid instanceof pkijs.IssuerAndSerialNumber
      ? trusted.find((c) => c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber))
      : undefined;
  if (direct) {
    // A certificate in the message with the trusted one's issuer and serial but another key is
    // not the trusted key: the kernel finds no key for it (ENOKEY), measured on Linux 6.12.
    const carried = (signed.certificates ?? []).find(
      (c): c is pkijs.Certificate => c instanceof pkijs.Certificate && c.issuer.isEqual(direct.issuer) && c.serialNumber.isEqual(direct.serialNumber),
    );
    const spki = (c: pkijs.Certificate) => Buffer.from(c.subjectPublicKeyInfo.toSchema().toBER());
    if (carried && !spki(carried).equals(spki(direct))) {
      return fail(new WardError('ENOKEY', 'the policy is not signed by a trusted certificate (the message carries a certificate with a trusted issuer and serial but another key)'));
    }
    signed.certificates = [direct];
  }
  let verified: boolean;
  try {
    verified = (await signed.verify({ signer: 0, trustedCerts: trusted, checkChain: direct === undefined })) as unknown as boolean;
  } catch (e) {
    const msg = (e as { message?: string }).message ?? String(e);
    const noKey = /not found|no.*signer|chain|trusted|certificate path|signer's certificate/i.test(msg);
    return fail(new WardError(noKey ? 'ENOKEY' : 'EKEYREJECTED', noKey ? `the policy is not signed by a trusted certificate (${msg})` : `the signature does not verify (${msg})`));
  }
  if (!verified) return fail(new WardError('EKEYREJECTED', 'the signature does not verify: the content or the signature was changed'));
  return ok({ content });
}
