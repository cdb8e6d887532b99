// The fanotify backend (EnforcementBackend): one fanotify group with an unlimited queue, event
// threads (worker.ts) each with a digest thread (digester.ts), and filesystem marks. A
// filesystem mark (FAN_MARK_FILESYSTEM) covers every mount of that superblock in every mount
// namespace: a bind mount or an `unshare -m` copy of a watched filesystem is decided too (a mount
// mark follows only the one mount). If the event threads die, the group is closed at once:
// fanotify then allows everything (fail open) and the daemon is told (events.failed).

import { extname } from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { WardError } from '../errors.ts';
import { arch } from '../kernel/arch.ts';
import { AT_FDCWD } from '../kernel/exec-check.ts';
import { FAN_CLASS_CONTENT, FAN_CLOEXEC, FAN_MARK_ADD, FAN_MARK_FILESYSTEM, FAN_NONBLOCK, FAN_OPEN_EXEC_PERM, FAN_OPEN_PERM, FAN_UNLIMITED_MARKS, FAN_UNLIMITED_QUEUE, fanotifyInit, fanotifyMark } from '../kernel/fanotify.ts';
import { O_CLOEXEC } from '../kernel/files.ts';
import { closeRaw } from '../kernel/io.ts';
import type { Policy } from '../policy/model.ts';
import type { BackendEvents, BackendStatus, EnforcementBackend, EnforcementMode } from './backend.ts';
import { bootVerifiedLimit } from './limits.ts';
import { explicitMountErrors, filesystemsToMark, readMounts, type MountInfo } from './mounts.ts';
import { STAT, STAT_SLOTS, type FromWorker, type PolicyMessage, type ToWorker } from './worker-protocol.ts';

export interface FanotifyOptions {
  /** Event threads (each with its own digest thread). */
  workers: number;
  queueLimit: number;
  libraries: boolean;
  filesystems: readonly string[];
  mounts: readonly string[] | undefined;
  mountPollMs: number;
  /** Files bigger than this are hashed by a digest thread, never on an event thread. */
  inlineDigestBytes: number;
  /** A decision not made by then is answered by mode (DENY when enforcing), reason "timeout". */
  decisionTimeoutMs: number;
}

// The thread entry points sit next to this file: .ts in the repository, .js when built.
const EXT = extname(import.meta.url);

export const FANOTIFY_GAPS = [
  'mmap(PROT_EXEC) and mprotect of files already open, and memfd execution, are not decided (no fanotify event); where the kernel has it, sysctl vm.memfd_noexec=2 refuses executable memfds',
  'decide-then-run: an allowed ELF exec holds off writers until the process runs the file or is gone, at most 10 s (a writer that got in before the kernel\'s deny-write gets the process killed); an exec thread kept off the CPU for longer (SCHED_IDLE behind busy threads, no privilege needed), or more than 4096 execs held at once per event thread, still lets a patient writer change the file before it runs; scripts keep 100 ms (their interpreter reads them later anyway); the BPF LSM backend decides after deny-write',
  'interpreters reading scripts are decided only when they ask (AT_EXECVE_CHECK)',
  'fails open: while the daemon is down, every exec is allowed',
  'a filesystem mounted inside another mount namespace (e.g. a tmpfs an unprivileged user mounts in a user namespace) is not watched: set sysctl user.max_user_namespaces=0 where user namespaces are not needed',
  'with --libraries, a library already open for writing can still change after it was decided (mmap has no deny-write)',
];

export class FanotifyBackend implements EnforcementBackend {
  readonly name = 'fanotify' as const;
  readonly options: FanotifyOptions;
  #fanFd = -1;
  #events: BackendEvents | undefined;
  #workers: Array<{ worker: Worker; port: MessagePort; digest: Worker }> = [];
  /** Per event thread: resolves when it has compiled and switched to the given generation. */
  #swapWaiters = new Map<string, () => void>();
  #stats = new SharedArrayBuffer(8 * STAT_SLOTS * 64);
  #generation = 0;
  #policy: Policy | undefined;
  #marked = new Map<string, MountInfo>();
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  #failed = false;

  constructor(options: FanotifyOptions) {
    this.options = options;
  }

  #policyMessage(): PolicyMessage {
    return { type: 'policy', text: this.#policy ? this.#policy.text : null, generation: this.#generation };
  }

  #broadcast(m: ToWorker): void {
    for (const w of this.#workers) w.port.postMessage(m);
  }

  async start(policy: Policy | undefined, mode: EnforcementMode, events: BackendEvents): Promise<void> {
    this.#events = events;
    // Event threads hold read leases while deciding (decision.ts); a lease break signals the
    // process with SIGIO, whose default action would end it.
    process.on('SIGIO', ignoreSigio);
    this.#policy = policy;
    if (this.options.mounts) {
      const errors = explicitMountErrors(readMounts(), this.options.mounts);
      if (errors.length > 0) throw new WardError('EINVAL', `nothing would be decided there: ${errors.join('; ')}`);
    }
    // An unlimited queue: past the default 16384 pending events the kernel would drop events and
    // allow the accesses without asking (fanotify_merge/fsnotify_add_event overflow).
    this.#fanFd = fanotifyInit(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE | FAN_UNLIMITED_MARKS, arch().open.O_LARGEFILE | O_CLOEXEC);
    const flags = { type: 'flags' as const, ...mode };
    const ready: Array<Promise<void>> = [];
    for (let i = 0; i < this.options.workers; i++) {
      const toDigest = new MessageChannel();
      const digest = new Worker(new URL(`./digester${EXT}`, import.meta.url), { workerData: { kind: 'ward-digest', port: toDigest.port2 }, transferList: [toDigest.port2] });
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(new URL(`./worker${EXT}`, import.meta.url), {
        workerData: { kind: 'ward-fanotify', fanFd: this.#fanFd, port: port2, digestPort: toDigest.port1, stats: this.#stats, index: i, selfPid: process.pid, queueLimit: this.options.queueLimit, inlineDigestBytes: this.options.inlineDigestBytes, decisionTimeoutMs: this.options.decisionTimeoutMs, policy: this.#policyMessage(), flags },
        transferList: [port2, toDigest.port1],
      });
      ready.push(
        new Promise<void>((resolve, reject) => {
          port1.on('message', (m: FromWorker) => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'swapped') this.#swapWaiters.get(`${i}:${m.generation}`)?.();
            else if (m.type === 'audit') events.audit(m.record);
            else events.log(m.message);
          });
          worker.once('error', reject);
        }),
      );
      for (const [w, what] of [[worker, 'event thread'], [digest, 'digest thread']] as const) {
        w.on('error', (e) => this.#fail(`${what} ${i} failed: ${e.message}`));
        w.on('exit', (code) => this.#fail(`${what} ${i} exited (${code})`));
      }
      this.#workers.push({ worker, port: port1, digest });
    }
    await Promise.all(ready);
    this.#mark();
    if (this.#marked.size === 0) {
      await this.stop();
      throw new WardError('ENOENT', `no filesystem to watch: no mount of ${this.options.mounts ? this.options.mounts.join(', ') : `a type in ${this.options.filesystems.join(',')}`}; nothing would be decided`);
    }
    this.#timer = setInterval(() => this.#mark(), this.options.mountPollMs);
  }

  #fail(why: string): void {
    if (this.#stopping || this.#failed) return;
    this.#failed = true;
    for (const resolve of this.#swapWaiters.values()) resolve();
    // Nobody answers events any more: close the group so the kernel allows them (fail open)
    // rather than hang every exec on the host.
    if (this.#fanFd >= 0) closeRaw(this.#fanFd);
    this.#fanFd = -1;
    this.#events?.failed(`${why}; the fanotify group is closed (execs are allowed until ward restarts)`);
  }

  /** Marks every filesystem not yet marked (new mounts appear; marks are per superblock). */
  #mark(): void {
    if (this.#fanFd < 0) return;
    let mounts: MountInfo[];
    try {
      mounts = filesystemsToMark(readMounts(), this.options.filesystems, this.options.mounts);
    } catch (e) {
      this.#events?.log(`cannot read mounts: ${(e as Error).message}`);
      return;
    }
    const mask = BigInt(FAN_OPEN_EXEC_PERM | (this.options.libraries ? FAN_OPEN_PERM : 0));
    for (const m of mounts) {
      const dev = `${m.devMajor}:${m.devMinor}`;
      if (this.#marked.has(dev)) continue;
      try {
        fanotifyMark(this.#fanFd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask, AT_FDCWD, m.mountPoint);
        this.#marked.set(dev, m);
      } catch (e) {
        this.#events?.log(`cannot watch ${m.mountPoint} (${m.fsType}): ${(e as Error).message}`);
      }
    }
  }

  /**
   * Each event thread parses and compiles the new policy itself (a compiled policy cannot be
   * passed between threads, and a structured clone of a large one costs more than parsing it),
   * then switches between two events. Threads switch one after the other, so while one compiles
   * (about a second for 100,000 rules) the others keep answering with the old policy: no exec
   * waits for a compile unless there is only one event thread. Resolves once all have switched.
   */
  async swapPolicy(policy: Policy | undefined): Promise<void> {
    this.#policy = policy;
    const generation = ++this.#generation;
    const message = this.#policyMessage();
    for (let i = 0; i < this.#workers.length; i++) {
      if (this.#failed || this.#stopping || generation !== this.#generation) return;
      const key = `${i}:${generation}`;
      await new Promise<void>((resolve) => {
        this.#swapWaiters.set(key, resolve);
        this.#workers[i]!.port.postMessage(message);
      });
      this.#swapWaiters.delete(key);
    }
  }

  async setMode(mode: EnforcementMode): Promise<void> {
    this.#broadcast({ type: 'flags', ...mode });
  }

  /** true while every event thread has looked at the queue within maxAgeMs. */
  alive(maxAgeMs: number): boolean {
    const stats = new BigInt64Array(this.#stats);
    return this.#fanFd >= 0 && this.#workers.every((_, i) => Date.now() - Number(stats[i * STAT_SLOTS + STAT.heartbeat]) < maxAgeMs);
  }

  status(): BackendStatus {
    const stats = new BigInt64Array(this.#stats);
    const sum = (slot: number) => this.#workers.reduce((a, _, i) => a + Number(stats[i * STAT_SLOTS + slot]), 0);
    const marked = [...this.#marked.values()];
    return {
      backend: 'fanotify',
      deciding: this.#fanFd >= 0 && marked.length > 0,
      hooks: this.options.libraries ? ['BPRM_CHECK', 'MMAP'] : ['BPRM_CHECK'],
      gaps: [...FANOTIFY_GAPS, ...[bootVerifiedLimit()].filter((g) => g !== undefined)],
      failureMode: 'open',
      details: {
        filesystems: marked.map((m) => ({ mountPoint: m.mountPoint, fsType: m.fsType, dev: `${m.devMajor}:${m.devMinor}` })),
        mounts: marked.map((m) => m.mountPoint),
        libraries: this.options.libraries,
        workers: this.#workers.length,
        events: sum(STAT.events),
        allowed: sum(STAT.allowed),
        denied: sum(STAT.denied),
        cacheHits: sum(STAT.cacheHits),
        errors: sum(STAT.errors),
        queueFull: sum(STAT.queueFull),
        timeouts: sum(STAT.timeouts),
        openForWrite: sum(STAT.openForWrite),
        pendingDigests: sum(STAT.pending),
        leaseUnsupported: sum(STAT.leaseUnsupported),
      },
    };
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const resolve of this.#swapWaiters.values()) resolve();
    if (this.#timer) clearInterval(this.#timer);
    this.#broadcast({ type: 'stop' });
    await Promise.all(this.#workers.flatMap((w) => [w.worker.terminate().catch(() => 0), w.digest.terminate().catch(() => 0)]));
    if (this.#fanFd >= 0) closeRaw(this.#fanFd);
    this.#fanFd = -1;
    process.off('SIGIO', ignoreSigio);
  }
}

function ignoreSigio(): void {}
