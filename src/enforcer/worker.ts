// A fanotify event thread: event → decide → answer → audit. It never waits on anything an exec
// could block: it polls the group fd, decides from memory and the event's fd (decision.ts),
// writes the answer, and only then gathers audit details for the main thread (which does all
// file logging). A file too big to hash here goes to this thread's digest thread (digester.ts)
// while other events are answered; at its deadline it is answered by mode (reason "timeout").
// Events from the daemon's own process are allowed at once: its main thread may be waiting.

import { closeSync, fstatSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { closeRaw, pollReadable } from '../kernel/io.ts';
import { answerEvent, FAN_EVENT_METADATA_LEN, FAN_OPEN_EXEC_PERM, FANOTIFY_METADATA_VERSION, readEvents, type FanEvent } from '../kernel/fanotify.ts';
import type { Decision } from '../policy/evaluator.ts';
import { parsePolicy } from '../policy/parser.ts';
import { computeVerityDigest } from '../properties/fsverity.ts';
import type { FileIdentity } from '../properties/identity.ts';
import { accessRecord, type AccessRecord } from './audit.ts';
import { activePolicy, Decider, type Hook, type Verdict } from './decision.ts';
import { eventDetails, isLoadableElf } from './details.ts';
import { LeaseHolds } from './hold.ts';
import type { DigestJob, DigestResult } from './digester.ts';

export interface WorkerInit {
  fanFd: number;
  port: MessagePort;
  digestPort: MessagePort;
  /** BigInt64 slots per worker, indexed by STAT. */
  stats: SharedArrayBuffer;
  index: number;
  selfPid: number;
  queueLimit: number;
  inlineDigestBytes: number;
  decisionTimeoutMs: number;
  policy: PolicyMessage;
  flags: FlagsMessage;
}

export interface PolicyMessage {
  type: 'policy';
  text: Uint8Array | null;
  generation: number;
}
export interface FlagsMessage {
  type: 'flags';
  enforce: boolean;
  auditSuccess: boolean;
}
export type ToWorker = PolicyMessage | FlagsMessage | { type: 'stop' };
export type FromWorker = { type: 'ready'; index: number } | { type: 'log'; message: string } | { type: 'swapped'; generation: number } | { type: 'audit'; record: AccessRecord } | { type: 'fatal'; message: string };

export const STAT_SLOTS = 12;
export const STAT = { heartbeat: 0, events: 1, allowed: 2, denied: 3, cacheHits: 4, errors: 5, queueFull: 6, timeouts: 7, openForWrite: 8, pending: 9, leaseUnsupported: 10 } as const;

const DENY: Decision = { action: 'DENY', match: 'no_policy' };
/** How long an allowed ELF exec's lease is kept at most without evidence of deny-write (hold.ts). */
const HOLD_MAX_MS = 10_000;
/** Holds per event thread; past it the oldest ends (each is an open fd). */
const HOLD_LIMIT = 4096;

interface Pending {
  ev: FanEvent;
  hook: Hook;
  identity: FileIdentity;
  deadline: number;
  answered: boolean;
}

function warmUp(): void {
  // The first digests are several times slower while V8 compiles the hashing path: warm it on
  // our own source before any exec waits (nothing is marked yet, so this read cannot wait on us).
  try {
    const self = openSync(fileURLToPath(import.meta.url), 'r');
    try {
      const size = fstatSync(self).size;
      for (let i = 0; i < 300; i++) computeVerityDigest(self, size);
    } finally {
      closeSync(self);
    }
  } catch {
    /* an optimisation only */
  }
}

function run(init: WorkerInit): void {
  const stats = new BigInt64Array(init.stats, init.index * STAT_SLOTS * 8, STAT_SLOTS);
  const bump = (slot: number, by = 1n) => Atomics.add(stats, slot, by);
  const decider = new Decider({ inlineDigestBytes: init.inlineDigestBytes });
  let flags = init.flags;
  let stop = false;
  const pending = new Map<number, Pending>();
  let nextJob = 1;

  const setPolicy = (m: PolicyMessage) => {
    if (m.text === null) return decider.setPolicy(activePolicy(undefined, m.generation));
    const r = parsePolicy(m.text);
    if (!r.ok) throw new Error(`policy sent to worker does not parse: ${r.error.message}`);
    decider.setPolicy(activePolicy(r.value, m.generation));
  };

  const audit = (ev: FanEvent, hook: Hook, d: Decision, allowed: boolean, reason?: string) => {
    const p = decider.policy;
    const record = accessRecord({ hook, enforcing: flags.enforce, pid: ev.pid, details: eventDetails(ev.fd, ev.pid), decision: d, allowed, policyName: p.name, policyVersion: p.version, reason });
    init.port.postMessage({ type: 'audit', record } satisfies FromWorker);
  };

  // An allowed exec keeps its read lease (and so its fd) until the kernel has taken its own
  // deny-write on the file, as far as ward can tell (hold.ts).
  const holds = new LeaseHolds({
    maxMs: HOLD_MAX_MS,
    limit: HOLD_LIMIT,
    release: (fd) => decider.release(fd),
    onKill: (_fd, pid) => init.port.postMessage({ type: 'log', message: `killed pid ${pid}: a writer opened the file it was executing before the kernel's deny-write (it would have run content ward did not decide)` } satisfies FromWorker),
  });
  const closeEventFd = (fd: number) => {
    if (!holds.has(fd)) closeRaw(fd);
  };

  /** Answers, counts, releases the lease (or keeps it for the grace), audits; the fd is closed by closeEventFd. */
  const answer = (ev: FanEvent, hook: Hook, d: Decision, reason?: string) => {
    const allow = d.action === 'ALLOW' || !flags.enforce;
    answerEvent(init.fanFd, ev.fd, allow);
    if (allow && hook === 'BPRM_CHECK' && decider.holdsLease(ev.fd)) holds.hold(ev.fd, ev.pid);
    else decider.release(ev.fd);
    bump(allow ? STAT.allowed : STAT.denied);
    if (reason === 'timeout') bump(STAT.timeouts);
    if (reason === 'open_for_write') bump(STAT.openForWrite);
    if (d.action === 'DENY' || flags.auditSuccess || reason) audit(ev, hook, d, allow, reason);
  };

  const settle = (ev: FanEvent, hook: Hook, v: Verdict): boolean => {
    if (v.kind === 'decided') {
      if (v.cached) bump(STAT.cacheHits);
      answer(ev, hook, v.decision, v.reason);
      return true;
    }
    const job = nextJob++;
    const deadline = Date.now() + init.decisionTimeoutMs;
    pending.set(job, { ev, hook, identity: v.identity, deadline, answered: false });
    bump(STAT.pending);
    init.digestPort.postMessage({ type: 'job', job, fd: ev.fd, identity: v.identity, deadline } satisfies DigestJob);
    return false;
  };

  /** Handles one event; true when its fd can be closed now. */
  const handle = (ev: FanEvent, overLimit: boolean): boolean => {
    if (ev.version !== FANOTIFY_METADATA_VERSION) {
      // A kernel speaking another metadata version: never leave the opener waiting.
      answerEvent(init.fanFd, ev.fd, !flags.enforce);
      init.port.postMessage({ type: 'fatal', message: `fanotify metadata version ${ev.version}, expected ${FANOTIFY_METADATA_VERSION}: answered by mode` } satisfies FromWorker);
      return true;
    }
    if (ev.pid === init.selfPid) {
      answerEvent(init.fanFd, ev.fd, true);
      return true;
    }
    const isExec = (ev.mask & BigInt(FAN_OPEN_EXEC_PERM)) !== 0n;
    if (!isExec && !isLoadableElf(ev.fd)) {
      answerEvent(init.fanFd, ev.fd, true);
      return true;
    }
    const hook: Hook = isExec ? 'BPRM_CHECK' : 'MMAP';
    if (overLimit) {
      // Falling behind: answer by mode rather than let processes wait (and say so).
      bump(STAT.queueFull);
      answer(ev, hook, flags.enforce ? DENY : { action: 'ALLOW', match: 'no_policy' }, 'queue_full');
      return true;
    }
    let v: Verdict;
    try {
      v = decider.decide(ev.fd, hook);
    } catch (e) {
      // A file ward cannot read cannot be shown to match: deny when enforcing.
      bump(STAT.errors);
      v = { kind: 'decided', decision: DENY, reason: `error: ${(e as Error).message}`, cached: false };
    }
    Atomics.store(stats, STAT.leaseUnsupported, BigInt(decider.leaseUnsupported));
    return settle(ev, hook, v);
  };

  const onDigest = (r: DigestResult) => {
    const p = pending.get(r.job);
    if (!p) return;
    pending.delete(r.job);
    bump(STAT.pending, -1n);
    if (!p.answered) {
      try {
        if ('digest' in r) settle(p.ev, p.hook, decider.withDigest(p.ev.fd, p.identity, r.digest, p.hook));
        else answer(p.ev, p.hook, DENY, r.error);
      } catch (e) {
        bump(STAT.errors);
        answer(p.ev, p.hook, DENY, `error: ${(e as Error).message}`);
      }
    }
    // The digest thread is done with the fd (this is its last message for the job): close it.
    closeEventFd(p.ev.fd);
  };

  const expire = () => {
    const now = Date.now();
    for (const p of pending.values()) {
      if (p.answered || now <= p.deadline) continue;
      p.answered = true;
      answer(p.ev, p.hook, DENY, 'timeout');
    }
  };

  const drain = () => {
    for (;;) {
      const d = receiveMessageOnPort(init.digestPort);
      if (d) {
        onDigest(d.message as DigestResult);
        continue;
      }
      const msg = receiveMessageOnPort(init.port);
      if (!msg) return;
      const m = msg.message as ToWorker;
      if (m.type === 'policy') nextPolicy.push(m);
      else if (m.type === 'flags') flags = m;
      else stop = true;
    }
  };

  // A new policy is compiled here, on this thread, for up to seconds (100,000 rules). An exec
  // whose digest is still out would wait for the whole compile: so the switch waits until every
  // decision this thread has started is answered, and meanwhile it reads no new events (the
  // other event threads take them). Policies that arrive together: the newest is compiled, each
  // generation is acknowledged (the main thread waits for each one it sent).
  const nextPolicy: PolicyMessage[] = [];
  const unanswered = () => {
    for (const p of pending.values()) if (!p.answered) return true;
    return false;
  };
  const switchPolicy = (): boolean => {
    if (nextPolicy.length === 0) return false;
    if (unanswered()) return true;
    setPolicy(nextPolicy.at(-1)!);
    for (const m of nextPolicy.splice(0)) init.port.postMessage({ type: 'swapped', generation: m.generation } satisfies FromWorker);
    return false;
  };
  const pause = new Int32Array(new SharedArrayBuffer(4));

  setPolicy(init.policy);
  warmUp();
  init.port.postMessage({ type: 'ready', index: init.index } satisfies FromWorker);
  const buf = Buffer.alloc(FAN_EVENT_METADATA_LEN * 512);
  while (!stop) {
    Atomics.store(stats, STAT.heartbeat, BigInt(Date.now()));
    drain();
    expire();
    holds.tick();
    if (stop) break;
    if (switchPolicy()) {
      Atomics.wait(pause, 0, 0, 2); // a digest reply is due: collect it (drain) before reading events
      continue;
    }
    // While digests are out or leases linger, wake often to collect, meet deadlines and release.
    if (!pollReadable(init.fanFd, pending.size > 0 || holds.size > 0 ? 5 : 200)) continue;
    // A policy or mode change posted while we waited applies to these events already.
    drain();
    if (switchPolicy()) continue;
    const { events } = readEvents(init.fanFd, buf);
    events.forEach((ev, i) => {
      bump(STAT.events);
      let done = true;
      try {
        done = handle(ev, i >= init.queueLimit);
      } catch (e) {
        bump(STAT.errors);
        try {
          answerEvent(init.fanFd, ev.fd, !flags.enforce);
        } catch {
          /* the group is gone */
        }
        init.port.postMessage({ type: 'fatal', message: `event handling failed: ${(e as Error).message}` } satisfies FromWorker);
      } finally {
        if (done) closeEventFd(ev.fd);
      }
    });
  }
  // Stopping: nobody will collect digests any more; answer what waits, by mode.
  init.digestPort.postMessage({ type: 'stop' });
  for (const p of pending.values()) {
    if (!p.answered) answer(p.ev, p.hook, flags.enforce ? DENY : { action: 'ALLOW', match: 'no_policy' }, 'stopping');
    closeEventFd(p.ev.fd);
  }
  holds.tick(true);
}

if (workerData && (workerData as { kind?: string }).kind === 'ward-fanotify') run(workerData as unknown as WorkerInit);
