// What the daemon's main thread (fanotify-backend.ts) and its fanotify event threads (worker.ts)
// say to each other, and the shared counters each event thread keeps for `ward daemon-status`.

import type { MessagePort } from 'node:worker_threads';
import type { AccessRecord } from './audit.ts';

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
