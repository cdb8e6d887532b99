// Starting the real `ward daemon` in a guest test and waiting for its "ready:" line. TCG is slow:
// a generous limit; every daemon started is added to `track`, for the test's after() to kill.

import { spawn, type ChildProcess } from 'node:child_process';

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
