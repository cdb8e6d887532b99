// Digest threads: fs-verity digests of files too big to hash on an event thread, each with a
// deadline. An event thread hands over (event fd, identity, deadline), keeps answering other
// events, and answers this one when the digest comes back — or, at the deadline, by mode with
// reason "timeout" (worker.ts). The digest thread gives up at the same deadline and always
// reports back, so the event thread knows when it may close the fd.

import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { FileIdentity } from '../properties/identity.ts';
import { PropertyReader } from '../properties/context.ts';

export interface DigestJob {
  type: 'job';
  job: number;
  fd: number;
  identity: FileIdentity;
  /** Date.now() after which the answer is no longer wanted. */
  deadline: number;
}

export type DigestResult = { type: 'digest'; job: number; digest: string } | { type: 'digest'; job: number; error: string };

class Timeout extends Error {}

/** Computes one job's digest, giving up at its deadline (checked after every chunk read). */
export function runDigestJob(reader: PropertyReader, j: DigestJob): DigestResult {
  if (Date.now() > j.deadline) return { type: 'digest', job: j.job, error: 'timeout' };
  try {
    const d = reader.verityDigest(j.fd, j.identity, () => {
      if (Date.now() > j.deadline) throw new Timeout();
    });
    return { type: 'digest', job: j.job, digest: d.value };
  } catch (e) {
    return { type: 'digest', job: j.job, error: e instanceof Timeout ? 'timeout' : `error: ${(e as Error).message}` };
  }
}

function serve(port: MessagePort): void {
  const reader = new PropertyReader();
  // Jobs are taken in order, synchronously, so a job whose deadline passed while it waited is
  // dropped at once.
  port.on('message', (first: DigestJob | { type: 'stop' }) => {
    let m: DigestJob | { type: 'stop' } | undefined = first;
    while (m) {
      if (m.type === 'stop') {
        port.close();
        return;
      }
      port.postMessage(runDigestJob(reader, m));
      m = receiveMessageOnPort(port)?.message as DigestJob | { type: 'stop' } | undefined;
    }
  });
}

if (workerData && (workerData as { kind?: string }).kind === 'ward-digest') serve((workerData as { port: MessagePort }).port);
