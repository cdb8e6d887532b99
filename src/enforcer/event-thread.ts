// One fanotify event thread's work besides reading: each event is filtered, decided
// (decision.ts), answered, then audited; the rest is keeping promises made earlier — digest
// replies (digest-waits.ts), deadlines, leases held for allowed execs (hold.ts), policy switches
// (policy-switch.ts) and answering what waits when the thread stops. worker.ts runs the loop.

import { receiveMessageOnPort } from 'node:worker_threads';
import { closeRaw } from '../kernel/io.ts';
import { answerEvent, FAN_OPEN_EXEC_PERM, FANOTIFY_METADATA_VERSION, type FanEvent } from '../kernel/fanotify.ts';
import type { Decision } from '../policy/evaluator.ts';
import { accessRecord } from './audit.ts';
import { Decider, type Hook, type Verdict } from './decision.ts';
import { eventDetails, isLoadableElf } from './details.ts';
import { DigestWaits, type DigestWait } from './digest-waits.ts';
import type { DigestResult } from './digester.ts';
import { LeaseHolds } from './hold.ts';
import { PolicySwitch } from './policy-switch.ts';
import { STAT, STAT_SLOTS, type FlagsMessage, type FromWorker, type ToWorker, type WorkerInit } from './worker-protocol.ts';

const DENY: Decision = { action: 'DENY', match: 'no_policy' };
const ALLOW_BY_MODE: Decision = { action: 'ALLOW', match: 'no_policy' };
/** How long an allowed ELF exec's lease is kept at most without evidence of deny-write (hold.ts). */
const HOLD_MAX_MS = 10_000;
/** Holds per event thread; past it the oldest ends (each is an open fd). */
const HOLD_LIMIT = 4096;

export class EventThread {
  /** Set by a stop message; the loop ends and stop() answers what waits. */
  stopping = false;
  readonly #init: WorkerInit;
  readonly #stats: BigInt64Array;
  readonly #decider: Decider;
  readonly #holds: LeaseHolds;
  readonly #waits: DigestWaits;
  readonly #policies: PolicySwitch;
  #flags: FlagsMessage;
  readonly #timedOut = (w: DigestWait) => this.#answer(w.ev, w.hook, DENY, 'timeout');

  /** Installs the first policy (compiled here, before any event is read). */
  constructor(init: WorkerInit) {
    this.#init = init;
    this.#stats = new BigInt64Array(init.stats, init.index * STAT_SLOTS * 8, STAT_SLOTS);
    this.#flags = init.flags;
    const decider = new Decider({ inlineDigestBytes: init.inlineDigestBytes });
    this.#decider = decider;
    this.#waits = new DigestWaits(init.digestPort, init.decisionTimeoutMs);
    // An allowed exec keeps its read lease (and so its fd) until the kernel has taken its own
    // deny-write on the file, as far as ward can tell (hold.ts).
    this.#holds = new LeaseHolds({
      maxMs: HOLD_MAX_MS,
      limit: HOLD_LIMIT,
      release: (fd) => decider.release(fd),
      onKill: (_fd, pid) => this.#post({ type: 'log', message: `killed pid ${pid}: a writer opened the file it was executing before the kernel's deny-write (it would have run content ward did not decide)` }),
    });
    this.#policies = new PolicySwitch(
      decider,
      () => this.#waits.unanswered(),
      (generation) => this.#post({ type: 'swapped', generation }),
    );
    this.#policies.install(init.policy);
  }

  /** Digests are out or leases linger: the loop wakes often to collect, meet deadlines and release. */
  get busy(): boolean {
    return this.#waits.size > 0 || this.#holds.size > 0;
  }

  /** Everything but new events: heartbeat, messages and digest replies, deadlines, leases. */
  tend(): void {
    Atomics.store(this.#stats, STAT.heartbeat, BigInt(Date.now()));
    this.collect();
    this.#waits.expire(Date.now(), this.#timedOut);
    this.#holds.tick();
  }

  /** Installs a queued policy when no decision is out; true while one waits (read no events). */
  switchPolicy(): boolean {
    return this.#policies.step();
  }

  /** Digest replies and messages from the main thread, until none is left. */
  collect(): void {
    for (;;) {
      const d = receiveMessageOnPort(this.#init.digestPort);
      if (d) {
        this.#onDigest(d.message as DigestResult);
        continue;
      }
      const msg = receiveMessageOnPort(this.#init.port);
      if (!msg) return;
      const m = msg.message as ToWorker;
      if (m.type === 'policy') this.#policies.offer(m);
      else if (m.type === 'flags') this.#flags = m;
      else this.stopping = true;
    }
  }

  /** One event: decided and answered now, or sent for its digest. Always answered, never throws. */
  onEvent(ev: FanEvent, overLimit: boolean): void {
    this.#bump(STAT.events);
    let done = true;
    try {
      done = this.#handle(ev, overLimit);
    } catch (e) {
      this.#bump(STAT.errors);
      try {
        answerEvent(this.#init.fanFd, ev.fd, !this.#flags.enforce);
      } catch {
        /* the group is gone */
      }
      this.#post({ type: 'fatal', message: `event handling failed: ${(e as Error).message}` });
    } finally {
      if (done) this.#closeEventFd(ev.fd);
    }
  }

  /** Stopping: nobody will collect digests any more; answers what waits, by mode. */
  stop(): void {
    this.#waits.stop((w) => {
      if (!w.answered) this.#answer(w.ev, w.hook, this.#flags.enforce ? DENY : ALLOW_BY_MODE, 'stopping');
      this.#closeEventFd(w.ev.fd);
    });
    this.#holds.tick(true);
  }

  /** Handles one event; true when its fd can be closed now. */
  #handle(ev: FanEvent, overLimit: boolean): boolean {
    const fanFd = this.#init.fanFd;
    if (ev.version !== FANOTIFY_METADATA_VERSION) {
      // A kernel speaking another metadata version: never leave the opener waiting.
      answerEvent(fanFd, ev.fd, !this.#flags.enforce);
      this.#post({ type: 'fatal', message: `fanotify metadata version ${ev.version}, expected ${FANOTIFY_METADATA_VERSION}: answered by mode` });
      return true;
    }
    // The daemon's own process (its main thread may be waiting): allowed at once.
    if (ev.pid === this.#init.selfPid) {
      answerEvent(fanFd, ev.fd, true);
      return true;
    }
    const isExec = (ev.mask & BigInt(FAN_OPEN_EXEC_PERM)) !== 0n;
    if (!isExec && !isLoadableElf(ev.fd)) {
      answerEvent(fanFd, ev.fd, true);
      return true;
    }
    const hook: Hook = isExec ? 'BPRM_CHECK' : 'MMAP';
    if (overLimit) {
      // Falling behind: answer by mode rather than let processes wait (and say so).
      this.#bump(STAT.queueFull);
      this.#answer(ev, hook, this.#flags.enforce ? DENY : ALLOW_BY_MODE, 'queue_full');
      return true;
    }
    let v: Verdict;
    try {
      v = this.#decider.decide(ev.fd, hook);
    } catch (e) {
      // A file ward cannot read cannot be shown to match: deny when enforcing.
      this.#bump(STAT.errors);
      v = { kind: 'decided', decision: DENY, reason: `error: ${(e as Error).message}`, cached: false };
    }
    Atomics.store(this.#stats, STAT.leaseUnsupported, BigInt(this.#decider.leaseUnsupported));
    return this.#settle(ev, hook, v);
  }

  /** Answers a decided verdict; sends the file for its digest otherwise (false: the fd stays open). */
  #settle(ev: FanEvent, hook: Hook, v: Verdict): boolean {
    if (v.kind === 'decided') {
      if (v.cached) this.#bump(STAT.cacheHits);
      this.#answer(ev, hook, v.decision, v.reason);
      return true;
    }
    this.#bump(STAT.pending);
    this.#waits.send(ev, hook, v.identity);
    return false;
  }

  /** Answers, counts, releases the lease (or keeps it for the grace), audits; the fd is closed by #closeEventFd. */
  #answer(ev: FanEvent, hook: Hook, d: Decision, reason?: string): void {
    const flags = this.#flags;
    const allow = d.action === 'ALLOW' || !flags.enforce;
    answerEvent(this.#init.fanFd, ev.fd, allow);
    if (allow && hook === 'BPRM_CHECK' && this.#decider.holdsLease(ev.fd)) this.#holds.hold(ev.fd, ev.pid);
    else this.#decider.release(ev.fd);
    this.#bump(allow ? STAT.allowed : STAT.denied);
    if (reason === 'timeout') this.#bump(STAT.timeouts);
    if (reason === 'open_for_write') this.#bump(STAT.openForWrite);
    if (d.action === 'DENY' || flags.auditSuccess || reason) this.#audit(ev, hook, d, allow, reason);
  }

  /** The audit record, built after the answer (details read from /proc never delay an exec). */
  #audit(ev: FanEvent, hook: Hook, d: Decision, allowed: boolean, reason?: string): void {
    const p = this.#decider.policy;
    const record = accessRecord({ hook, enforcing: this.#flags.enforce, pid: ev.pid, details: eventDetails(ev.fd, ev.pid), decision: d, allowed, policyName: p.name, policyVersion: p.version, reason });
    this.#post({ type: 'audit', record });
  }

  #onDigest(r: DigestResult): void {
    const w = this.#waits.take(r.job);
    if (!w) return;
    this.#bump(STAT.pending, -1n);
    if (!w.answered) {
      try {
        if ('digest' in r) this.#settle(w.ev, w.hook, this.#decider.withDigest(w.ev.fd, w.identity, r.digest, w.hook));
        else this.#answer(w.ev, w.hook, DENY, r.error);
      } catch (e) {
        this.#bump(STAT.errors);
        this.#answer(w.ev, w.hook, DENY, `error: ${(e as Error).message}`);
      }
    }
    // The digest thread is done with the fd (this is its last message for the job): close it.
    this.#closeEventFd(w.ev.fd);
  }

  /** An fd kept for a lease hold is closed when the hold ends (hold.ts), not here. */
  #closeEventFd(fd: number): void {
    if (!this.#holds.has(fd)) closeRaw(fd);
  }

  #bump(slot: number, by = 1n): void {
    Atomics.add(this.#stats, slot, by);
  }

  #post(m: FromWorker): void {
    this.#init.port.postMessage(m);
  }
}
