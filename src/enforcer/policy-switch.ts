// Switching an event thread to a new policy. The policy is compiled here, on the event thread,
// for up to seconds (100,000 rules). An exec whose digest is still out would wait for the whole
// compile: so a switch waits until every decision the thread has started is answered, and
// meanwhile the thread reads no new events (the other event threads take them). Policies that
// arrive together: the newest is compiled, each generation is acknowledged (the main thread
// waits for each one it sent).

import { parsePolicy } from '../policy/parser.ts';
import { activePolicy, type Decider } from './decision.ts';
import type { PolicyMessage } from './worker-protocol.ts';

export class PolicySwitch {
  readonly #decider: Decider;
  readonly #busy: () => boolean;
  readonly #swapped: (generation: number) => void;
  readonly #queue: PolicyMessage[] = [];

  /** `busy`: decisions are still out; `swapped`: acknowledges a generation to the main thread. */
  constructor(decider: Decider, busy: () => boolean, swapped: (generation: number) => void) {
    this.#decider = decider;
    this.#busy = busy;
    this.#swapped = swapped;
  }

  /** Compiles and installs a policy now (the thread's first, before any event). */
  install(m: PolicyMessage): void {
    if (m.text === null) return this.#decider.setPolicy(activePolicy(undefined, m.generation));
    const r = parsePolicy(m.text);
    if (!r.ok) throw new Error(`policy sent to worker does not parse: ${r.error.message}`);
    this.#decider.setPolicy(activePolicy(r.value, m.generation));
  }

  offer(m: PolicyMessage): void {
    this.#queue.push(m);
  }

  /**
   * Installs the newest queued policy unless decisions are still out. True while a switch is
   * waiting for them: the caller reads no events until it is done.
   */
  step(): boolean {
    if (this.#queue.length === 0) return false;
    if (this.#busy()) return true;
    this.install(this.#queue.at(-1)!);
    for (const m of this.#queue.splice(0)) this.#swapped(m.generation);
    return false;
  }
}
