// One event's decision, as IPE makes it for op=EXECUTE: the file behind the event's fd →
// writers refused → cache → file context → compiled policy. No fanotify here: the worker reads
// and answers events, this module only says ALLOW or DENY (and why), so it is tested on plain
// files without root.
//
// Decide-then-run races (docs/daemon.md, threat model): the kernel's exec path refuses to run a
// file that is open for writing (ETXTBSY, exe_file_deny_write_access) only *after* ward answered.
// So before deciding, ward takes a read lease on the event's file (kernel/lease.ts): refused while
// anyone has it open for writing or mapped shared-writable, and, while held, any new open for
// writing waits for ward. The digest is therefore of the content that will run; identity and the
// lease are checked again after hashing, and a decision is cached only if both held — and only
// for a file no one but root can write (properties/identity.ts contentRootOnly): the owner of any
// other file can change its content under the same identity, so it is decided afresh each time.

import type { FileContext } from '../policy/context.ts';
import { CompiledPolicy } from '../policy/compiled.ts';
import { NO_POLICY, type Decision } from '../policy/evaluator.ts';
import { versionString, type BoolPropertyName, type DigestPropertyName, type Policy } from '../policy/model.ts';
import { IdentityCache } from '../properties/cache.ts';
import type { FdFileContext } from '../properties/context.ts';
import { PropertyReader } from '../properties/context.ts';
import { contentRootOnly, identityOfFd, type FileIdentity } from '../properties/identity.ts';
import { readLeaseIntact, releaseLease, takeReadLease } from '../kernel/lease.ts';

/** The policy a decider uses; `generation` changes with every swap (cache keys include it). */
export interface ActivePolicy {
  readonly compiled: CompiledPolicy | undefined;
  readonly name: string | null;
  readonly version: string | null;
  readonly generation: number;
}

export function activePolicy(policy: Policy | undefined, generation: number): ActivePolicy {
  if (!policy) return { compiled: undefined, name: null, version: null, generation };
  return { compiled: new CompiledPolicy(policy), name: policy.name, version: versionString(policy.version), generation };
}

/** exec: BPRM_CHECK (execve, AT_EXECVE_CHECK); a shared object opened by ld.so/dlopen: MMAP. */
export type Hook = 'BPRM_CHECK' | 'MMAP';

export type Verdict =
  | { readonly kind: 'decided'; readonly decision: Decision; readonly reason?: string; readonly cached: boolean }
  /** The file is too big to hash on the event thread: hash it elsewhere, then call withDigest. */
  | { readonly kind: 'digest'; readonly identity: FileIdentity };

export interface DeciderOptions {
  /** Files up to this size are hashed inline; bigger ones are handed off (Verdict 'digest'). */
  inlineDigestBytes: number;
  cacheSize?: number;
  reader?: PropertyReader;
}

const DENY: Decision = { action: 'DENY', match: 'no_policy' };

class NeedsDigest extends Error {}

/** A file context that refuses to hash a big file on this thread. */
class EventContext implements FileContext {
  readonly #inner: FdFileContext;
  readonly #big: boolean;
  readonly #cached: (identity: FileIdentity) => boolean;
  readonly #digest: string | undefined;
  /** `digest`: the file's digest, computed off this thread for this identity (withDigest). */
  constructor(inner: FdFileContext, big: boolean, cached: (identity: FileIdentity) => boolean, digest?: string) {
    this.#inner = inner;
    this.#big = big;
    this.#cached = cached;
    this.#digest = digest;
  }
  boolean(name: BoolPropertyName): boolean | undefined {
    return this.#inner.boolean(name);
  }
  digest(name: DigestPropertyName): string | undefined {
    if (name === 'fsverity_digest' && this.#digest !== undefined) return this.#digest;
    if (name === 'fsverity_digest' && this.#big && !this.#cached(this.#inner.identity)) throw new NeedsDigest();
    return this.#inner.digest(name);
  }
}

export class Decider {
  readonly reader: PropertyReader;
  readonly options: DeciderOptions;
  policy: ActivePolicy = activePolicy(undefined, -1);
  readonly #decisions: IdentityCache<Decision>;
  readonly #leased = new Set<number>();
  /** Counted for status: files whose filesystem refuses leases (the writer check cannot run). */
  leaseUnsupported = 0;

  constructor(options: DeciderOptions) {
    this.options = options;
    this.reader = options.reader ?? new PropertyReader();
    this.#decisions = new IdentityCache<Decision>(options.cacheSize ?? 65536);
  }

  setPolicy(p: ActivePolicy): void {
    this.policy = p;
  }

  #digestCached(identity: FileIdentity): boolean {
    return contentRootOnly(identity) && this.reader.cache.get(`${this.reader.algorithm}:${identity.key}`) !== undefined;
  }

  /** Decides the file behind fd. Call release(fd) once the answer is written. */
  decide(fd: number, hook: Hook): Verdict {
    return this.#decide(fd, hook, undefined);
  }

  #decide(fd: number, hook: Hook, fresh: { identity: FileIdentity; digest: string } | undefined): Verdict {
    const compiled = this.policy.compiled;
    if (!compiled) return { kind: 'decided', decision: NO_POLICY, cached: false };
    const identity = identityOfFd(fd);
    const lease = takeReadLease(fd);
    if (lease === 'held') this.#leased.add(fd);
    else if (lease !== 'writers') this.leaseUnsupported++;
    // exec: the kernel itself would refuse this exec with ETXTBSY once we answered, but a writer
    // could still change the file between our digest and that check; refuse now.
    if (lease === 'writers' && hook === 'BPRM_CHECK') return { kind: 'decided', decision: DENY, reason: 'open_for_write', cached: false };
    // A library open for writing (possibly by its opener) is decided on its current content and
    // never from (or into) the cache: writes through a shared mapping keep size and times. Nor
    // is a file anyone but root can write: its owner can do the same once we answered.
    const cacheable = lease !== 'writers' && contentRootOnly(identity);
    const key = `${this.policy.generation}:${identity.key}`;
    if (cacheable) {
      const hit = this.#decisions.get(key);
      if (hit) return { kind: 'decided', decision: hit, cached: true };
    }
    const big = Number(identity.size) > this.options.inlineDigestBytes && (identity.mode & 0o170000) === 0o100000;
    let d: Decision;
    try {
      const digest = fresh && this.#sameContent(fd, fresh.identity, identity) ? fresh.digest : undefined;
      d = compiled.decide('EXECUTE', new EventContext(this.reader.contextForFd(fd), big, (i) => this.#digestCached(i), digest));
    } catch (e) {
      if (e instanceof NeedsDigest) return { kind: 'digest', identity };
      throw e;
    }
    return this.#settle(fd, identity, key, d, cacheable);
  }

  /** Completes a 'digest' verdict with the digest computed off the event thread. */
  withDigest(fd: number, identity: FileIdentity, digest: string, hook: Hook): Verdict {
    if (this.#leased.has(fd) && !readLeaseIntact(fd)) return { kind: 'decided', decision: DENY, reason: 'changed_during_decision', cached: false };
    // The digest is used only for the identity it was computed for: a digest of older content
    // is never used. It is cached (by identity) only for files only root can write.
    if (contentRootOnly(identity)) this.reader.cache.set(`${this.reader.algorithm}:${identity.key}`, digest);
    const v = this.#decide(fd, hook, { identity, digest });
    if (v.kind === 'digest') return { kind: 'decided', decision: DENY, reason: 'changed_during_decision', cached: false };
    return v;
  }

  #settle(fd: number, identity: FileIdentity, key: string, d: Decision, cacheable: boolean): Verdict {
    // The content hashed must be the content that runs: same identity, and no writer opened it
    // while we looked (an open for writing breaks the lease).
    const unchanged = this.#sameContent(fd, identity, identityOfFd(fd));
    if (!unchanged) return { kind: 'decided', decision: DENY, reason: 'changed_during_decision', cached: false };
    if (cacheable) this.#decisions.set(key, d);
    return { kind: 'decided', decision: d, cached: false };
  }

  /**
   * Whether `now` is still the content `before` described. With ward's read lease held and intact,
   * no one opened the file for writing or truncated it meanwhile (either breaks the lease), so only
   * the inode, size and mtime are compared: the ctime also moves when the inode gains or loses a
   * link (dpkg links the old file as a backup and renames the new one over it during an upgrade),
   * which says nothing about its content and made such an exec fail. Without a lease, the ctime
   * counts too.
   */
  #sameContent(fd: number, before: FileIdentity, now: FileIdentity): boolean {
    if (!this.#leased.has(fd)) return now.key === before.key;
    return readLeaseIntact(fd) && now.dev === before.dev && now.ino === before.ino && now.size === before.size && now.mtimeNs === before.mtimeNs;
  }

  /** true while decide() holds a read lease on fd. */
  holdsLease(fd: number): boolean {
    return this.#leased.has(fd);
  }

  /** Releases what decide() took for fd (its read lease). */
  release(fd: number): void {
    if (this.#leased.delete(fd)) releaseLease(fd);
  }
}
