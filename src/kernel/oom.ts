// The OOM killer's view of a process (proc(5) /proc/PID/oom_score_adj, -1000..1000). -1000
// makes the kernel never choose it (mm/oom_kill.c oom_badness: OOM_SCORE_ADJ_MIN is skipped);
// lowering below the current value needs CAP_SYS_RESOURCE.

import { readFileSync, writeFileSync } from 'node:fs';
import { describeError, errorCode } from '../errors.ts';
import { KernelError } from './errors.ts';

export const OOM_SCORE_ADJ_MIN = -1000;

export function setOomScoreAdj(value: number): void {
  try {
    writeFileSync('/proc/self/oom_score_adj', `${value}\n`);
  } catch (e) {
    throw new KernelError(errorCode(e) === 'EACCES' ? 'EACCES' : 'EPERM', 'write', `cannot set /proc/self/oom_score_adj to ${value}: ${describeError(e)}`);
  }
}

export function oomScoreAdj(pid: number | 'self' = 'self'): number {
  return Number(readFileSync(`/proc/${pid}/oom_score_adj`, 'utf8').trim());
}
