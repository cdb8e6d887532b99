// Hashing many files on every core: a pool of worker threads (hash-worker.ts), fed batches
// largest-first so one big file does not leave the other cores idle at the end. Results come
// back in the order of the jobs, whatever order the workers finish in.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ErrnoName } from '../errors.ts';

export interface HashJob {
  readonly path: string;
  /** Also compute the md5 of the same bytes (to verify against dpkg's record). */
  readonly md5: boolean;
  /** Size as seen when listed, to balance the work (the worker hashes what it reads). */
  readonly size: number;
}

export type HashResult =
  | { path: string; size: number; digest: string; md5?: string }
  | { path: string; error: ErrnoName; detail?: string };

export interface HashProgress {
  (files: number, totalFiles: number, bytes: number, totalBytes: number): void;
}

const BATCH_BYTES = 16 * 1024 * 1024;
const BATCH_FILES = 64;

export function defaultJobs(): number {
  return Math.max(1, Math.min(availableParallelism(), 16));
}

export async function hashFiles(jobs: readonly HashJob[], options: { workers?: number; onProgress?: HashProgress } = {}): Promise<HashResult[]> {
  const results = new Array<HashResult>(jobs.length);
  if (jobs.length === 0) return results;
  const order = jobs.map((_, i) => i).sort((a, b) => jobs[b]!.size - jobs[a]!.size || a - b);
  const totalBytes = jobs.reduce((s, j) => s + j.size, 0);
  let next = 0;
  let doneFiles = 0;
  let doneBytes = 0;
  const takeBatch = (): number[] => {
    const batch: number[] = [];
    let bytes = 0;
    while (next < order.length && batch.length < BATCH_FILES && (batch.length === 0 || bytes < BATCH_BYTES)) {
      const i = order[next++]!;
      batch.push(i);
      bytes += jobs[i]!.size;
    }
    return batch;
  };
  const n = Math.max(1, Math.min(options.workers ?? defaultJobs(), Math.ceil(jobs.length / 4)));
  const workers = Array.from({ length: n }, () => new Worker(new URL('./hash-worker.ts', import.meta.url)));
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            let inFlight: number[] = [];
            const feed = () => {
              inFlight = takeBatch();
              if (inFlight.length === 0) return resolve();
              w.postMessage(inFlight.map((i) => jobs[i]!));
            };
            w.on('message', (out: HashResult[]) => {
              out.forEach((r, k) => {
                const i = inFlight[k]!;
                results[i] = r;
                doneFiles++;
                doneBytes += jobs[i]!.size;
              });
              options.onProgress?.(doneFiles, jobs.length, doneBytes, totalBytes);
              feed();
            });
            w.on('error', reject);
            w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`hash worker exited with ${code}`))));
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
