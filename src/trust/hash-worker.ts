// A hashing worker for trust generation (hash-pool.ts): for each file, one read through an fd
// opened without following a final symlink, giving both the fs-verity digest (what an IPE
// fsverity_digest rule names) and, when asked, the md5 of the same bytes (what dpkg recorded).

import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { errorCode } from '../errors.ts';
import { computeVerityDigest } from '../properties/fsverity.ts';
import type { HashJob, HashResult } from './hash-pool.ts';

export function hashOne(job: HashJob): HashResult {
  let fd: number | undefined;
  try {
    fd = openSync(job.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile()) return { path: job.path, error: 'EINVAL', detail: 'not a regular file' };
    const md5 = job.md5 ? createHash('md5') : undefined;
    const digest = computeVerityDigest(fd, st.size, 'sha256', undefined, md5 ? (b) => md5.update(b) : undefined);
    return { path: job.path, size: st.size, digest: `sha256:${digest.toString('hex')}`, ...(md5 ? { md5: md5.digest('hex') } : {}) };
  } catch (e) {
    return { path: job.path, error: errorCode(e) };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

parentPort?.on('message', (jobs: HashJob[]) => {
  parentPort!.postMessage(jobs.map(hashOne));
});
