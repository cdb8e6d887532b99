// A fanotify event thread: event → decide → answer → audit. It never waits on anything an exec
// could block: it polls the group fd, decides from memory and the event's fd (decision.ts),
// writes the answer, and only then gathers audit details for the main thread (which does all
// file logging). A file too big to hash here goes to this thread's digest thread (digester.ts)
// while other events are answered; at its deadline it is answered by mode (reason "timeout").
// Events from the daemon's own process are allowed at once: its main thread may be waiting.
// The loop is here; what it does per event and between events is in event-thread.ts.

import { closeSync, fstatSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { workerData } from 'node:worker_threads';
import { pollReadable } from '../kernel/io.ts';
import { FAN_EVENT_METADATA_LEN, readEvents } from '../kernel/fanotify.ts';
import { computeVerityDigest } from '../properties/fsverity.ts';
import { EventThread } from './event-thread.ts';
import type { FromWorker, WorkerInit } from './worker-protocol.ts';

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
  const thread = new EventThread(init);
  warmUp();
  init.port.postMessage({ type: 'ready', index: init.index } satisfies FromWorker);
  const buf = Buffer.alloc(FAN_EVENT_METADATA_LEN * 512);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (!thread.stopping) {
    thread.tend();
    if (thread.stopping) break;
    if (thread.switchPolicy()) {
      Atomics.wait(pause, 0, 0, 2); // a digest reply is due: collect it (tend) before reading events
      continue;
    }
    if (!pollReadable(init.fanFd, thread.busy ? 5 : 200)) continue;
    // A policy or mode change posted while we waited applies to these events already.
    thread.collect();
    if (thread.switchPolicy()) continue;
    const { events } = readEvents(init.fanFd, buf);
    for (let i = 0; i < events.length; i++) thread.onEvent(events[i]!, i >= init.queueLimit);
  }
  thread.stop();
}

if (workerData && (workerData as { kind?: string }).kind === 'ward-fanotify') run(workerData as unknown as WorkerInit);
