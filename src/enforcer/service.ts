// ward daemon as a process: signals and exit codes around Daemon (daemon.ts). SIGTERM, SIGINT
// and SIGQUIT stop it cleanly (exit 0); SIGHUP re-reads the configuration and the boot policy
// (systemctl reload); SIGUSR1 is logged and ignored; every other way out — another signal whose
// default action would end the process, a failed backend, an uncaught error — is logged with its
// cause and exits non-zero. The unit (Restart=always) brings the daemon back whatever ended it.

import { constants } from 'node:os';
import { createBackend, probeIpe, selectBackend } from './select-backend.ts';
import type { DaemonConfig } from './config.ts';
import { Daemon, fanotifyBackendFor } from './daemon.ts';

export const EXIT_SOFTWARE = 70;

/**
 * Signals whose default action ends the process (signal(7): Term or Core) that ward daemon does
 * not otherwise use and that can be caught from JavaScript: each ends the daemon cleanly, logged,
 * with exit code 128 + the signal's number (as a shell reports a process killed by it). Not here:
 * SIGKILL (uncatchable); SIGSEGV, SIGBUS, SIGFPE, SIGILL (a fault inside Node: no JavaScript runs
 * safely after it); SIGABRT (Node's own abort(), which glibc ends with SIG_DFL whatever is
 * caught); SIGPIPE and SIGXFSZ (Node ignores them from start-up); SIGIO (= SIGPOLL on Linux),
 * which a lease break sends (kernel/lease.ts: the fanotify backend's event threads hold read
 * leases), ignored here for every backend; real-time signals (Node names none, so none can be
 * caught).
 */
export const UNEXPECTED_SIGNALS: readonly NodeJS.Signals[] = ['SIGUSR2', 'SIGALRM', 'SIGVTALRM', 'SIGPROF', 'SIGPWR', 'SIGSTKFLT', 'SIGXCPU', 'SIGTRAP', 'SIGSYS'];

function ignoreSigio(): void {}

export interface ServiceOptions {
  /** Reads the configuration again (for SIGHUP); throws a WardError when it is invalid. */
  reloadConfig: () => DaemonConfig;
  log: (msg: string) => void;
}

/** Runs the daemon until a stop signal or a failure; resolves with the process exit code. */
export async function runService(config: DaemonConfig, o: ServiceOptions): Promise<number> {
  let requestStop!: (end: { why: string; code: number }) => void;
  const stopRequested = new Promise<{ why: string; code: number }>((resolve) => (requestStop = resolve));
  let daemon: Daemon | undefined;
  let reloading = Promise.resolve();
  // Handlers first: a signal that arrives while starting must still stop cleanly. `on`, not
  // `once`: a second signal (timeout(1) and systemd signal the process and its group) must not
  // fall back to the default action mid-stop.
  const onStop = (sig: NodeJS.Signals) => requestStop({ why: sig, code: 0 });
  const onHup = () => {
    reloading = reloading.then(async () => {
      if (!daemon) return;
      try {
        await daemon.reload(o.reloadConfig());
      } catch (e) {
        o.log(`SIGHUP: reload failed, keeping the running configuration and policy: ${(e as Error).message}`);
      }
    });
  };
  const onCrash = (e: unknown) => requestStop({ why: `fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`, code: EXIT_SOFTWARE });
  const onUnexpected = (sig: NodeJS.Signals) => requestStop({ why: `${sig} (a signal ward daemon does not use; exit ${128 + constants.signals[sig]})`, code: 128 + constants.signals[sig] });
  // SIGUSR1 would open Node's inspector (code execution for whoever reaches 127.0.0.1:9229) in a
  // root daemon. A listener replaces Node's SIGUSR1 handler (libuv's sigaction takes its place),
  // so the inspector stays closed; the launchers also start the daemon's Node with
  // --disable-sigusr1 where that Node accepts it, which covers start-up before this line.
  const onUsr1 = () => o.log('SIGUSR1: ignored (ward daemon never opens the inspector)');
  process.on('SIGTERM', onStop).on('SIGINT', onStop).on('SIGQUIT', onStop).on('SIGHUP', onHup).on('SIGUSR1', onUsr1).on('SIGIO', ignoreSigio);
  for (const sig of UNEXPECTED_SIGNALS) process.on(sig, onUnexpected);
  process.on('uncaughtException', onCrash).on('unhandledRejection', onCrash);
  try {
    // The backend is chosen once, here (auto: BPF LSM where the kernel accepts its programs).
    const selection = selectBackend(config.backend, config.failureMode, undefined, () => probeIpe(config.ipeSigningKey !== undefined && config.ipeSigningCert !== undefined));
    o.log(`backend: ${selection.reason}; failure mode ${selection.failureMode}`);
    const ipe = { ...(config.ipeSigningKey ? { signingKey: config.ipeSigningKey } : {}), ...(config.ipeSigningCert ? { signingCert: config.ipeSigningCert } : {}) };
    daemon = new Daemon(config, (m) => o.log(m), createBackend(selection, { cover: config.mounts }, () => fanotifyBackendFor(config), ipe));
    try {
      await daemon.start();
    } catch (e) {
      await daemon.stop().catch(() => undefined);
      throw e;
    }
    const end = await Promise.race([stopRequested, daemon.finished.then((f) => ({ why: f.reason, code: f.code }))]);
    const after = daemon.backend.name === 'ipe' ? 'the kernel\'s IPE keeps enforcing its active policy' : daemon.backend.status().failureMode === 'closed' ? 'the pinned BPF programs keep enforcing the last policy' : `${daemon.backend.name} enforcement ends with the daemon`;
    o.log(`${end.why}: stopping (${after})`);
    await reloading;
    try {
      await daemon.stop();
    } catch (e) {
      o.log(`while stopping: ${(e as Error).message}`);
      return end.code || 1;
    }
    return end.code;
  } finally {
    process.off('SIGTERM', onStop).off('SIGINT', onStop).off('SIGQUIT', onStop).off('SIGHUP', onHup).off('SIGUSR1', onUsr1).off('SIGIO', ignoreSigio);
    for (const sig of UNEXPECTED_SIGNALS) process.off(sig, onUnexpected);
    process.off('uncaughtException', onCrash).off('unhandledRejection', onCrash);
  }
}
