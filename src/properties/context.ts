// The file context of a real file, read through its fd (never by re-opening a path): the
// FileContext the policy engine asks. Values are computed on first use and memoized; digests are
// cached by file identity across contexts.

import type { FileContext } from '../policy/context.ts';
import type { BoolPropertyName, DigestPropertyName } from '../policy/model.ts';
import { STATX_ATTR_VERITY, fstatx, measureVerity, readVeritySignature } from '../kernel/files.ts';
import { IdentityCache } from './cache.ts';
import { computeVerityDigest, type VerityAlgorithm, type VerityProgress } from './fsverity.ts';
import { dmVerityOfFd, type DmVerityState } from './dmverity.ts';
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
  #dm: DmVerityState | undefined;

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
        return this.#fsveritySignature();
      case 'dmverity_signature': {
        if (!m.kernelDmverity) return undefined;
        const dm = this.dmverity;
        // TRUE only for a live verity table whose root-hash signature the kernel verified; FALSE
        // for every other block device, as long as this dm-verity can check signatures at all.
        if (dm.kind === 'verity' && dm.signed) return true;
        if (dm.kind === 'unknown') return undefined;
        return m.dmveritySignatures === true ? false : undefined;
      }
    }
  }

  /**
   * IPE's fsverity_signature (security/ipe/eval.c): TRUE iff the inode has fs-verity and
   * fs/verity/signature.c verified its built-in signature (it then tells the LSMs through
   * security_inode_setintegrity(LSM_INT_FSVERITY_BUILTINSIG_VALID)). ward cannot read IPE's
   * inode blob, but it needs not: the kernel builds an inode's fsverity_info — at enable time or
   * at the first open — only after that signature verified against the .fs-verity keyring, and
   * refuses the enable or the open otherwise (fs/verity/open.c, fsverity_create_info). This fd
   * is an open of the file, and FS_IOC_READ_VERITY_METADATA answers only for an inode that has
   * its fsverity_info: a signature read through it is one the kernel verified.
   */
  #fsveritySignature(): boolean | undefined {
    const m = this.#reader.machine;
    if (!m.kernelFsverity) return undefined;
    if ((fstatx(this.fd).attributes & BigInt(STATX_ATTR_VERITY)) === 0n) return m.kernelFsveritySignatures ? false : undefined;
    if (!m.kernelFsveritySignatures) return undefined; // stored, never verified: the kernel cannot say
    const sig = readVeritySignature(this.fd);
    if (sig.ok) return sig.value.length > 0;
    return sig.error === 'ENODATA' ? false : undefined;
  }

  /**
   * The dm-verity state of the block device this file's filesystem is on (the superblock's
   * s_bdev, as IPE's build_ipe_bdev_ctx() uses), read once per context.
   */
  get dmverity(): DmVerityState {
    this.#dm ??= dmVerityOfFd(this.fd);
    return this.#dm;
  }

  digest(name: DigestPropertyName): string | undefined {
    if (name === 'dmverity_roothash') {
      if (!this.#reader.machine.kernelDmverity) return undefined;
      const dm = this.dmverity;
      return dm.kind === 'verity' ? dm.roothash : undefined;
    }
    if (!this.identity || (this.identity.mode & 0o170000) !== 0o100000) return undefined;
    this.#digest ??= this.#reader.verityDigest(this.fd, this.identity);
    return this.#digest.value;
  }

  /** Where the fs-verity digest came from, once it was asked for. */
  get digestSource(): DigestSource | undefined {
    return this.#digest?.source;
  }
}
