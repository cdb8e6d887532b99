// The BPF LSM backend: ward's programs at IPE's hooks (bpf/ward.bpf.c), every decision taken in
// the kernel at the hook from maps this class fills. A policy becomes three things (see
// bpf-maps.ts): the uncovered table (in the config entry), verdicts for the files of `cover`
// (exact identity, re-checked by the kernel), and the verdicts of every fs-verity digest the
// policy names (used where the kernel has the fs-verity kfunc). A swap writes the new
// generation's entries first, then replaces the config entry in one update; the old
// generation's entries are removed afterwards.

import { closeSync, constants, lstatSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Policy } from '../policy/model.ts';
import { PropertyReader } from '../properties/context.ts';
import { contentRootOnly } from '../properties/identity.ts';
import { inodeGeneration } from '../kernel/bpf.ts';
import { mapDelete, mapLookup, mapNextKey, mapUpdate, ringBufferConsume, ringBufferFree, ringBufferNew, type RingBuffer } from '../kernel/libbpf.ts';
import { bpfAccessRecord } from './audit.ts';
import type { BackendEvents, BackendStatus, EnforcementBackend, EnforcementMode, FailureMode } from './backend.ts';
import {
  CONFIG_SIZE, F_AUDIT_SUCCESS, F_ENFORCE, F_POLICY, decodeConfig, VERDICT_KEY_SIZE, DIGEST_KEY_SIZE, decodeEvent, digestTable, encodeConfig,
  encodeDigestKey, encodeDigestVerdict, encodeVerdict, encodeVerdictKey, fileVerdicts, kernelDev, policyDigests, uncoveredTable,
} from './bpf-maps.ts';
import { bootVerifiedLimit } from './limits.ts';
import { WARD_OBJECT, hasVerityKfunc, loadOrTakeOver, release, type Loaded } from './bpf-loader.ts';

export const DEFAULT_PIN_DIR = '/sys/fs/bpf/ward';
const HOOKS = ['BPRM_CHECK', 'MMAP', 'MPROTECT', 'KERNEL_READ', 'KERNEL_LOAD'];

export interface BpfBackendOptions {
  failureMode: FailureMode;
  pinDir?: string;
  /** Files and directories (walked) whose verdicts user space computes for the kernel. */
  cover?: readonly string[];
  /** Most files covered (a policy needs two generations of room in the 262144-entry map). */
  maxFiles?: number;
}

export class BpfBackend implements EnforcementBackend {
  readonly name = 'bpf' as const;
  readonly #opts: Required<BpfBackendOptions>;
  #loaded: Loaded | undefined;
  #events: BackendEvents | undefined;
  #ring: RingBuffer | undefined;
  #timer: NodeJS.Timeout | undefined;
  #policy: Policy | undefined;
  /** The generation before the last swap, for records a hook wrote while the swap landed. */
  #previous: { gen: number; policy: Policy | undefined } | undefined;
  #mode: EnforcementMode = { enforce: true, auditSuccess: false };
  #gen = 0;
  #covered = 0;
  #verity = false;
  readonly #reader = new PropertyReader();

  constructor(options: BpfBackendOptions) {
    this.#opts = { pinDir: DEFAULT_PIN_DIR, cover: [], maxFiles: 131072, ...options };
  }

  async start(policy: Policy | undefined, mode: EnforcementMode, events: BackendEvents): Promise<void> {
    this.#events = events;
    this.#mode = mode;
    this.#policy = policy;
    this.#verity = hasVerityKfunc();
    this.#loaded = loadOrTakeOver(WARD_OBJECT, {
      pinDir: this.#opts.pinDir,
      pin: this.#opts.failureMode === 'closed',
      useVariant: this.#verity,
      log: (l) => events.log(l),
      beforeAttach: (maps) => {
        this.#writeGeneration(maps, 1, policy);
      },
    });
    if (this.#loaded.takenOver) {
      events.log(`bpf: took over ${this.#loaded.programs.length} pinned programs from ${this.#opts.pinDir}`);
      // The pinned programs keep deciding with the old generation until this swap lands.
      const old = Buffer.alloc(CONFIG_SIZE);
      const oldGen = mapLookup(this.#loaded.maps.ward_config!, Buffer.alloc(4), old) ? decodeConfig(old).gen : 0;
      this.#writeGeneration(this.#loaded.maps, oldGen + 1, policy);
      this.#purgeOtherGenerations();
    }
    events.log(`bpf: ${this.#loaded.programs.length} LSM programs attached (${this.#loaded.programs.join(', ')}); fs-verity kfunc ${this.#verity ? 'used' : 'absent'}; failure mode ${this.#opts.failureMode}; ${this.#covered} files covered`);
    this.#ring = ringBufferNew(this.#loaded.maps.ward_events!, (data) => this.#onEvent(data));
    this.#timer = setInterval(() => this.#drain(), 100);
  }

  async swapPolicy(policy: Policy | undefined): Promise<void> {
    const l = this.#need();
    // Records are named after the policy and mode in force when the hook decided: drain what the
    // hooks wrote so far before either changes (the 100 ms timer may not have run yet).
    this.#drain();
    this.#previous = { gen: this.#gen, policy: this.#policy };
    this.#policy = policy;
    this.#writeGeneration(l.maps, this.#gen + 1, policy);
    this.#purgeOtherGenerations();
  }

  async setMode(mode: EnforcementMode): Promise<void> {
    const l = this.#need();
    this.#drain();
    this.#mode = mode;
    mapUpdate(l.maps.ward_config!, Buffer.alloc(4), this.#config(this.#gen, this.#policy));
  }

  status(): BackendStatus {
    return {
      backend: 'bpf',
      deciding: this.#loaded !== undefined, // permissive mode still decides (and audits)
      hooks: this.#loaded ? HOOKS : [],
      gaps: [
        'files no verdict covers are decided with boot_verified only (plus the fs-verity digest where the kernel has the kfunc): dmverity_* and fsverity_signature are false for them',
        'root can remove the pins in /sys/fs/bpf or update the maps directly: there is no lsm/bpf guard yet',
        ...[bootVerifiedLimit()].filter((g) => g !== undefined),
      ],
      failureMode: this.#opts.failureMode,
      details: {
        summary: `${this.#loaded?.programs.length ?? 0} LSM programs attached, ${this.#covered} files covered under ${this.#opts.cover.length > 0 ? this.#opts.cover.join(' ') : 'nothing (no --mount: every file is decided as uncovered)'}`,
        generation: this.#gen, coveredFiles: this.#covered, verityKfunc: this.#verity, programs: this.#loaded?.programs ?? [], pinDir: this.#opts.pinDir, cover: this.#opts.cover,
      },
    };
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#drain();
    if (this.#ring) ringBufferFree(this.#ring);
    if (this.#loaded) release(this.#loaded, this.#opts.pinDir, this.#opts.failureMode === 'closed');
    this.#loaded = undefined;
    this.#ring = undefined;
  }

  #need(): Loaded {
    if (!this.#loaded) throw new Error('the BPF backend is not started');
    return this.#loaded;
  }

  #config(gen: number, policy: Policy | undefined): Uint8Array {
    const flags = (policy ? F_POLICY : 0) | (this.#mode.enforce ? F_ENFORCE : 0) | (this.#mode.auditSuccess ? F_AUDIT_SUCCESS : 0);
    return encodeConfig({ gen, flags, bootDev: kernelDev(this.#reader.machine.bootDev), daemonTgid: process.pid, uncovered: uncoveredTable(policy) });
  }

  /** All of a generation's entries, then the config entry that makes it live (one update). */
  #writeGeneration(maps: Record<string, number>, gen: number, policy: Policy | undefined): void {
    let covered = 0;
    if (policy) {
      for (const d of policyDigests(policy)) {
        const key = encodeDigestKey(gen, d);
        if (key) mapUpdate(maps.ward_digests!, key, encodeDigestVerdict(digestTable(policy, d)));
      }
      let userWritable = 0;
      for (const path of this.#files()) {
        const r = this.#coverFile(maps.ward_verdicts!, gen, policy, path);
        if (r === 'covered') covered++;
        else if (r === 'user-writable') userWritable++;
      }
      if (userWritable > 0) this.#events?.log(`bpf: ${userWritable} file(s) under ${this.#opts.cover.join(' ')} not covered: a user other than root can write them (they are decided as uncovered files)`);
    }
    mapUpdate(maps.ward_config!, Buffer.alloc(4), this.#config(gen, policy));
    this.#gen = gen;
    this.#covered = covered;
  }

  /**
   * A verdict only for a file only root can write (properties/identity.ts contentRootOnly): its
   * owner could otherwise change the content keeping dev, ino, i_generation and ctime — on tmpfs,
   * through a shared mapping whose pages were read-faulted first (test/bpf/bypass.vm.test.ts) —
   * and the kernel would run it on the old verdict. Changing owner or mode changes ctime, so a
   * verdict stays valid only while the file stays root's.
   */
  #coverFile(fd: number, gen: number, policy: Policy, path: string): 'covered' | 'user-writable' | 'skipped' {
    let file: number;
    try {
      file = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      return 'skipped';
    }
    try {
      const ctx = this.#reader.contextForFd(file);
      const id = ctx.identity;
      if ((id.mode & 0o170000) !== 0o100000) return 'skipped';
      if (!contentRootOnly(id)) return 'user-writable';
      const generation = inodeGeneration(file);
      const verdict = fileVerdicts(policy, ctx);
      mapUpdate(fd, encodeVerdictKey(gen, kernelDev(id.dev), id.ino), encodeVerdict({
        ctimeSec: id.ctimeNs / 1_000_000_000n,
        ctimeNsec: Number(id.ctimeNs % 1_000_000_000n) | (generation === undefined ? 0x80000000 : 0),
        generation: generation ?? 0,
        verdict,
      }));
      return 'covered';
    } finally {
      closeSync(file);
    }
  }

  *#files(): Generator<string> {
    let n = 0;
    const walk = function* (p: string): Generator<string> {
      let st;
      try {
        st = lstatSync(p);
      } catch {
        return;
      }
      if (st.isFile()) yield p;
      else if (st.isDirectory()) for (const e of readdirSync(p)) yield* walk(join(p, e));
    };
    for (const root of this.#opts.cover) {
      for (const f of walk(root)) {
        if (++n > this.#opts.maxFiles) {
          this.#events?.log(`bpf: more than ${this.#opts.maxFiles} files to cover; the rest are decided as uncovered files`);
          return;
        }
        yield f;
      }
    }
  }

  #purgeOtherGenerations(): void {
    const l = this.#need();
    for (const [map, size] of [[l.maps.ward_verdicts!, VERDICT_KEY_SIZE], [l.maps.ward_digests!, DIGEST_KEY_SIZE]] as const) {
      const stale: Buffer[] = [];
      let key: Buffer | undefined;
      const next = Buffer.alloc(size);
      while (mapNextKey(map, key, next)) {
        if (next.readUInt32LE(0) !== this.#gen) stale.push(Buffer.from(next));
        key = Buffer.from(next);
      }
      for (const k of stale) mapDelete(map, k);
    }
  }

  #drain(): void {
    if (this.#ring) ringBufferConsume(this.#ring);
  }

  #onEvent(data: Uint8Array): void {
    const e = decodeEvent(data);
    // A hook that copied the old config before a swap may write its record after the drain.
    const policy = this.#previous && e.gen === this.#previous.gen ? this.#previous.policy : this.#policy;
    // A denial carries the kernel's own enforcing flag (the mode the hook read); an allow is reported in the current mode.
    this.#events?.audit(bpfAccessRecord(e, e.denied ? e.enforced : this.#mode.enforce, policy));
  }
}
