// The PKCS#7 signer the IPE differential tests use is ward's own (src/enforcer/pkcs7-sign.ts).
export { loadSigner, signPkcs7, type Signer } from '../../src/enforcer/pkcs7-sign.ts';
