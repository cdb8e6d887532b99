// Starting the real `ward daemon` in a guest test and waiting for its "ready:" line. TCG is slow:
// a generous limit; every daemon started is added to `track`, for the test's after() to kill.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export async function startGuestDaemon(ward: string, args: readonly string[], track: Set<ChildProcess>): Promise<{ process: ChildProcess; log: string; output: () => string }> {
  let log = '';
  const p = spawn(process.execPath, [ward, 'daemon', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  track.add(p);
  p.once('exit', () => track.delete(p));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon not ready after 600 s: ${log}`)), 600_000);
    p.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('ready:')) {
        clearTimeout(timer);
        resolve();
      }
    });
    p.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited (${code}): ${log}`));
    });
  });
  // output(): everything the daemon wrote so far, also after ready (its stop lines, say).
  return { process: p, log, output: () => log };
}

/** execve's answer: 0 (ran), or the errno code of a refused exec. */
export function execAnswer(path: string): number | string {
  const r = spawnSync(path, { timeout: 120_000 });
  return r.error ? ((r.error as NodeJS.ErrnoException).code ?? 'error') : (r.status ?? `signal ${r.signal}`);
}

/** `ward ARGS --socket SOCKET --json` against a guest daemon (TCG: a generous time limit). */
export function guestCtl(ward: string, socket: string, args: readonly string[]): { ok: boolean; errno?: string; [k: string]: unknown } {
  const r = spawnSync(process.execPath, [ward, ...args, '--socket', socket, '--json'], { encoding: 'utf8', timeout: 300_000 });
  if (r.error || r.signal) throw new Error(`ward ${args.join(' ')}: ${r.error?.message ?? r.signal}`);
  return JSON.parse(r.stdout) as { ok: boolean; errno?: string };
}
