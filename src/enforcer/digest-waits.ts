// The events an event thread has handed to its digest thread (digester.ts): a file too big to
// hash while other execs wait. Each has a deadline; past it the event is answered by mode
// ("timeout") while the digest thread still owns the fd, which is closed only when its reply
// comes (the reply is the digest thread's last word on that fd).

import type { MessagePort } from 'node:worker_threads';
import type { FanEvent } from '../kernel/fanotify.ts';
import type { FileIdentity } from '../properties/identity.ts';
import type { Hook } from './decision.ts';
import type { DigestJob } from './digester.ts';

export interface DigestWait {
  readonly ev: FanEvent;
  readonly hook: Hook;
  readonly identity: FileIdentity;
  readonly deadline: number;
  /** Answered already (by its deadline): the reply only frees the fd. */
  answered: boolean;
}

export class DigestWaits {
  readonly #port: MessagePort;
  readonly #timeoutMs: number;
  readonly #waits = new Map<number, DigestWait>();
  #nextJob = 1;

  constructor(digestPort: MessagePort, timeoutMs: number) {
    this.#port = digestPort;
    this.#timeoutMs = timeoutMs;
  }

  get size(): number {
    return this.#waits.size;
  }

  /** Hands the event's file to the digest thread; it must be answered within the timeout. */
  send(ev: FanEvent, hook: Hook, identity: FileIdentity): void {
    const job = this.#nextJob++;
    const deadline = Date.now() + this.#timeoutMs;
    this.#waits.set(job, { ev, hook, identity, deadline, answered: false });
    this.#port.postMessage({ type: 'job', job, fd: ev.fd, identity, deadline } satisfies DigestJob);
  }

  /** The wait a digest reply ends, removed; undefined for a job this thread does not know. */
  take(job: number): DigestWait | undefined {
    const w = this.#waits.get(job);
    if (w) this.#waits.delete(job);
    return w;
  }

  /** Calls `late` for each wait past its deadline and not yet answered, marking it answered. */
  expire(now: number, late: (w: DigestWait) => void): void {
    for (const w of this.#waits.values()) {
      if (w.answered || now <= w.deadline) continue;
      w.answered = true;
      late(w);
    }
  }

  /** Whether some event still waits for its answer. */
  unanswered(): boolean {
    for (const w of this.#waits.values()) if (!w.answered) return true;
    return false;
  }

  /** Stopping: no reply will come; tells the digest thread to stop and hands over every wait. */
  stop(each: (w: DigestWait) => void): void {
    this.#port.postMessage({ type: 'stop' });
    for (const w of this.#waits.values()) each(w);
    this.#waits.clear();
  }
}
