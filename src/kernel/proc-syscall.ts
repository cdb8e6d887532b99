// What a task is doing in the kernel (proc(5) /proc/PID/syscall): the number and the six
// arguments of the system call it is blocked in, "running", or -1 (blocked, not in a system
// call). Reading another process's needs ptrace read access (root).

import { readFileSync } from 'node:fs';

export type TaskSyscall = { nr: number; args: bigint[] } | 'running' | 'other';

export function currentSyscall(pid: number): TaskSyscall | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/syscall`, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (text === 'running') return 'running';
  const f = text.split(' ');
  const nr = Number(f[0]);
  if (!Number.isInteger(nr) || nr < 0 || f.length < 7) return 'other';
  return { nr, args: f.slice(1, 7).map((a) => BigInt(a)) };
}
