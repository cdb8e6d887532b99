// The file context of a real file, read through its fd (never by re-opening a path): the
// FileContext the policy engine asks. Values are computed on first use and memoized; digests are
// cached by file identity across contexts.

import { existsSync } from 'node:fs';
import type { FileContext } from '../policy/context.ts';
import type { BoolPropertyName, DigestPropertyName } from '../policy/model.ts';
import { STATX_ATTR_VERITY, fstatx, measureVerity } from '../kernel/files.ts';
import { IdentityCache } from './cache.ts';
import { computeVerityDigest, type VerityAlgorithm, type VerityProgress } from './fsverity.ts';
import { contentRootOnly, identityOfFd, type FileIdentity } from './identity.ts';
import { machineProviders, type MachineProviders } from './providers.ts';

export type DigestSource = 'kernel' | 'computed' | 'cache';

export interface VerityDigest {
  /** "alg:hex" */
  value: string;
  source: DigestSource;
}

export interface PropertyReaderOptions {
  /** Algorithm for digests computed in user space (kernel measurements use the file's own). */
  algorithm?: VerityAlgorithm;
  cache?: IdentityCache<string>;
  machine?: MachineProviders;
}

/** Reads IPE properties of files through fds; one per process is typical (it owns the cache). */
export class PropertyReader {
  readonly algorithm: VerityAlgorithm;
  readonly cache: IdentityCache<string>;
  readonly machine: MachineProviders;

  constructor(options: PropertyReaderOptions = {}) {
    this.algorithm = options.algorithm ?? 'sha256';
    this.cache = options.cache ?? new IdentityCache<string>();
    this.machine = options.machine ?? machineProviders();
  }

  contextForFd(fd: number): FdFileContext {
    return new FdFileContext(this, fd);
  }

  /** The fs-verity digest of the file behind fd: the kernel's if it has fs-verity, else computed. */
  verityDigest(fd: number, identity: FileIdentity = identityOfFd(fd), onProgress?: VerityProgress): VerityDigest {
    if (this.machine.kernelFsverity && (fstatx(fd).attributes & BigInt(STATX_ATTR_VERITY)) !== 0n) {
      const m = measureVerity(fd);
      if (m.ok) return { value: `${m.value.algorithm}:${m.value.digest.toString('hex')}`, source: 'kernel' };
    }
    const key = `${this.algorithm}:${identity.key}`;
    // A file someone other than root can write may have new content under the same identity
    // (identity.ts): its digest is computed every time.
    const cacheable = contentRootOnly(identity);
    const hit = cacheable ? this.cache.get(key) : undefined;
    if (hit !== undefined) return { value: hit, source: 'cache' };
    const value = `${this.algorithm}:${computeVerityDigest(fd, Number(identity.size), this.algorithm, onProgress).toString('hex')}`;
    // Store only if the file did not change while it was read.
    if (cacheable && identityOfFd(fd).key === identity.key) this.cache.set(key, value);
    return { value, source: 'computed' };
  }
}

export class FdFileContext implements FileContext {
  readonly #reader: PropertyReader;
  readonly fd: number;
  #identity: FileIdentity | undefined;
  #digest: VerityDigest | undefined;

  constructor(reader: PropertyReader, fd: number) {
    this.#reader = reader;
    this.fd = fd;
  }

  get identity(): FileIdentity {
    this.#identity ??= identityOfFd(this.fd);
    return this.#identity;
  }

  boolean(name: BoolPropertyName): boolean | undefined {
    const m = this.#reader.machine;
    switch (name) {
      case 'boot_verified':
        return this.identity.dev === m.bootDev;
      case 'fsverity_signature':
        if (!m.kernelFsverity) return undefined;
        return (fstatx(this.fd).attributes & BigInt(STATX_ATTR_VERITY)) === 0n ? false : undefined;
      case 'dmverity_signature': {
        if (!m.kernelDmverity) return undefined;
        const st = fstatx(this.fd);
        return existsSync(`/sys/dev/block/${st.devMajor}:${st.devMinor}/dm`) ? undefined : false;
      }
    }
  }

  digest(name: DigestPropertyName): string | undefined {
    if (name === 'dmverity_roothash') return undefined;
    if (!this.identity || (this.identity.mode & 0o170000) !== 0o100000) return undefined;
    this.#digest ??= this.#reader.verityDigest(this.fd, this.identity);
    return this.#digest.value;
  }

  /** Where the fs-verity digest came from, once it was asked for. */
  get digestSource(): DigestSource | undefined {
    return this.#digest?.source;
  }
}
