// fs-verity set-up for the guest tests (Debian's 6.1 and 6.12 have fs-verity and built-in
// signature verification; this machine's kernel has neither): an ext4 image that can hold
// fs-verity files, a signing certificate trusted by the kernel's `.fs-verity` keyring, and files
// enabled with or without a built-in signature by Debian's `fsverity` (the independent tool).

import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A 32 MiB ext4 image made with `-b 4096 -O verity` (6.1 refuses 1 KiB blocks), loop-mounted at dir/mnt. */
export function mountVerityImage(dir: string): string {
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt, { recursive: true });
  const img = join(dir, 'ext4.img');
  execFileSync('truncate', ['-s', '32M', img]);
  execFileSync('mkfs.ext4', ['-q', '-b', '4096', '-O', 'verity', img]);
  execFileSync('modprobe', ['loop']);
  execFileSync('mount', ['-o', 'loop', img, mnt]);
  return mnt;
}

export interface SigningCert {
  key: string;
  cert: string;
  /** The certificate in DER, as the keyring takes it. */
  der: string;
}

/** A fresh self-signed RSA key and certificate (openssl), named `name` under dir. */
export function makeSigningCert(dir: string, name: string): SigningCert {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  const der = join(dir, `${name}.der`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=ward fs-verity test ${name}`], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-in', cert, '-out', der, '-outform', 'der']);
  return { key, cert, der };
}

/**
 * Adds the certificate to the kernel's `.fs-verity` keyring (fs/verity/signature.c: root may add
 * X.509 certificates to it) with keyutils' keyctl, as Documentation/filesystems/fsverity.rst
 * shows; returns the key's serial.
 */
export function trustForFsverity(c: SigningCert): string {
  return execFileSync('keyctl', ['padd', 'asymmetric', '', '%keyring:.fs-verity'], { input: readFileSync(c.der), encoding: 'utf8' }).trim();
}

/**
 * A copy of /bin/true at `path` (with `extra` bytes after its segments: still the same program,
 * another digest), fs-verity enabled when `verity`, with a built-in signature made by
 * `fsverity sign` when `signer` is given. Returns the signature file, if any.
 */
export function makeVerityFile(path: string, o: { extra?: string; verity: boolean; signer?: SigningCert }): string | undefined {
  copyFileSync('/bin/true', path);
  if (o.extra) appendFileSync(path, o.extra);
  if (!o.verity) return undefined;
  if (!o.signer) {
    execFileSync('fsverity', ['enable', path]);
    return undefined;
  }
  const sig = `${path}.sig`;
  execFileSync('fsverity', ['sign', path, sig, `--key=${o.signer.key}`, `--cert=${o.signer.cert}`], { stdio: 'ignore' });
  execFileSync('fsverity', ['enable', path, `--signature=${sig}`]);
  return sig;
}

/** The kernel's measurement, as `fsverity measure` prints it ("sha256:…"). */
export function measure(path: string): string {
  return execFileSync('fsverity', ['measure', path], { encoding: 'utf8' }).split(' ')[0]!;
}
