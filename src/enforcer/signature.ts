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
  let verified: boolean;
  try {
    verified = (await signed.verify({ signer: 0, trustedCerts: trusted, checkChain: true })) as unknown as boolean;
  } catch (e) {
    const msg = (e as { message?: string }).message ?? String(e);
    const noKey = /not found|no.*signer|chain|trusted|certificate path|signer's certificate/i.test(msg);
    return fail(new WardError(noKey ? 'ENOKEY' : 'EKEYREJECTED', noKey ? `the policy is not signed by a trusted certificate (${msg})` : `the signature does not verify (${msg})`));
  }
  if (!verified) return fail(new WardError('EKEYREJECTED', 'the signature does not verify: the content or the signature was changed'));
  return ok({ content });
}
