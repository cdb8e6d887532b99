// ward daemon: starts and stops its parts, in order — the state-directory lock, the policy store
// and management verbs (manage.ts), the boot policy, the enforcement backend (backend.ts; today
// fanotify-backend.ts), the control socket (control.ts), systemd readiness and watchdog. It never
// exits the process: when the backend can no longer enforce, `finished` resolves with the reason
// and the caller (service.ts) stops it and exits for the supervisor to restart it.

import { closeSync, mkdirSync, openSync, writeSync, ftruncateSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { WardError } from '../errors.ts';
import { lockWholeFile } from '../kernel/lease.ts';
import { OOM_SCORE_ADJ_MIN, setOomScoreAdj } from '../kernel/oom.ts';
import { displayText, versionString, type Policy } from '../policy/model.ts';
import { AuditLog } from './audit-log.ts';
import type { AuditRecord } from './audit.ts';
import type { EnforcementBackend } from './backend.ts';
import { changedFields, type DaemonConfig } from './config.ts';
import { ControlServer } from './control.ts';
import { FanotifyBackend } from './fanotify-backend.ts';
import { Manager } from './manage.ts';
import { sdNotify, watchdogIntervalMs } from './notify.ts';
import { directoryProblems } from './state-perms.ts';
import { PolicyState } from './state.ts';

export interface Finished {
  /** 0 after stop(); 70 (EX_SOFTWARE) when enforcement failed. */
  code: number;
  reason: string;
}

export function fanotifyBackendFor(config: DaemonConfig): FanotifyBackend {
  return new FanotifyBackend({
    workers: config.workers,
    queueLimit: config.queueLimit,
    libraries: config.libraries,
    filesystems: config.filesystems,
    mounts: config.mounts,
    mountPollMs: config.mountPollMs,
    inlineDigestBytes: config.inlineDigestBytes,
    decisionTimeoutMs: config.decisionTimeoutMs,
  });
}

/** One daemon per state directory: a lock the kernel drops when the holder exits. */
function lockStateDir(dir: string): number {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, 'daemon.lock');
  const fd = openSync(path, 'a+', 0o600);
  const r = lockWholeFile(fd);
  if (r !== 'locked') {
    closeSync(fd);
    throw new WardError('EBUSY', `another ward daemon${r.heldBy ? ` (pid ${r.heldBy})` : ''} already uses the state directory ${dir} (lock ${path}); stop it first (systemctl stop ward)`);
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`);
  return fd;
}

export class Daemon {
  config: DaemonConfig;
  readonly audit: AuditLog;
  readonly backend: EnforcementBackend;
  readonly finished: Promise<Finished>;
  readonly #log: (msg: string) => void;
  /** Why the daemon could not make itself exempt from the OOM killer (listed among the limits). */
  #oomUnprotected: string | undefined;
  #finish!: (f: Finished) => void;
  #lockFd = -1;
  #state: PolicyState | undefined;
  #manager: Manager | undefined;
  #control: ControlServer | undefined;
  #timers: NodeJS.Timeout[] = [];

  constructor(config: DaemonConfig, log: (msg: string) => void = (m) => process.stderr.write(`ward daemon: ${m}\n`), backend: EnforcementBackend = fanotifyBackendFor(config)) {
    this.config = config;
    this.#log = log;
    this.backend = backend;
    this.audit = new AuditLog({ path: config.auditLog, maxBytes: config.auditMaxBytes, keep: config.auditKeep, stderr: config.auditStderr });
    this.finished = new Promise((resolve) => (this.#finish = resolve));
  }

  #record(r: AuditRecord): void {
    try {
      this.audit.write(r);
    } catch (e) {
      this.#log(`cannot write the audit log: ${(e as Error).message}`);
    }
  }

  /** The management verbs over state, with the signature settings of `config` (reload: the new one's). */
  #newManager(state: PolicyState, config: Pick<DaemonConfig, 'trustedCerts' | 'requireSigned'> = this.config): Manager {
    return new Manager(state, { trustedCerts: config.trustedCerts, requireSigned: config.requireSigned }, {
      activePolicy: (p) => this.backend.swapPolicy(p),
      mode: (m) => this.backend.setMode(m),
      audit: (r) => this.#record(r),
      status: () => this.status(),
      ...(this.backend.admit ? { admit: (p: Policy, pkcs7: Uint8Array | undefined, how: 'load' | 'update' | 'activate') => this.backend.admit!(p, pkcs7, how) } : {}),
      ...(this.backend.retire ? { retire: (raw: string) => this.backend.retire!(raw) } : {}),
    });
  }

  get manager(): Manager {
    if (!this.#manager) throw new WardError('EINVAL', 'ward daemon is not started');
    return this.#manager;
  }

  async start(): Promise<void> {
    for (const [what, dir] of [['socket', dirname(this.config.socket)], ['auditLog', dirname(this.config.auditLog)]] as const) {
      const unsafe = directoryProblems(dir);
      if (unsafe.length > 0) throw new WardError('EPERM', `${what}: ${dir} can be changed by users other than root (${unsafe.join('; ')}): they could replace the ${what === 'socket' ? 'control socket (clients would talk to an impostor)' : 'audit log'}; choose a directory only root can write`);
    }
    // An unprivileged user can fill memory with many processes each smaller than the daemon; the
    // OOM killer then picks the daemon (the biggest), and fanotify allows every exec until it is
    // back. -1000: the kernel never chooses it (the systemd unit says the same).
    try {
      setOomScoreAdj(OOM_SCORE_ADJ_MIN);
      this.#oomUnprotected = undefined;
    } catch (e) {
      this.#oomUnprotected = `the OOM killer may choose the daemon (${(e as Error).message}; lowering it needs CAP_SYS_RESOURCE, or OOMScoreAdjust=-1000 in the unit): a user filling memory could end enforcement until it restarts`;
      this.#log(`not protected from the OOM killer: ${(e as Error).message}`);
    }
    this.#lockFd = lockStateDir(this.config.stateDir);
    const st = PolicyState.open(this.config.stateDir, { enforce: this.config.enforce, auditSuccess: this.config.auditSuccess });
    if (!st.ok) throw st.error;
    this.#state = st.value;
    this.#manager = this.#newManager(st.value);
    // The boot policy is in the store before the backend starts, so the first event is decided
    // by it (swapPolicy before start only records it).
    if (this.config.bootPolicy) {
      const note = await this.#manager.applyBootPolicy(this.config.bootPolicy, { pid: process.pid, uid: 0 });
      if (note) this.#log(note);
    }
    // A backend with its own store (the kernel's IPE, which forgets at reboot) gets the active
    // policy with the signature it was loaded with, before it starts enforcing it.
    if (st.value.active && this.backend.admit) await this.backend.admit(st.value.active, st.value.signatures.get(st.value.active.rawName), 'activate');
    await this.backend.start(st.value.active, this.#manager.mode, {
      audit: (r) => this.#record(r),
      log: (m) => this.#log(m),
      failed: (reason) => this.#finish({ code: 70, reason }),
    });
    const status = this.backend.status();
    if (!status.deciding) throw new WardError('ENOENT', 'the enforcement backend decides nothing (no filesystem is watched): refusing to claim enforcement');
    this.#control = new ControlServer(this.config.socket, this.config.adminGroup, (req, peer) => this.manager.handle(req, peer));
    await this.#control.listen();
    const wd = watchdogIntervalMs();
    if (wd) this.#timers.push(setInterval(() => this.#watchdog(), Math.max(100, wd / 2)));
    // What the backend decides over, in its own words (bpf: programs and covered files), else
    // the watched mounts (fanotify).
    const mounts = (status.details.mounts as string[] | undefined) ?? [];
    const over = typeof status.details.summary === 'string' ? `${status.backend}: ${displayText(status.details.summary)}` : `${mounts.length} filesystem(s) watched (${mounts.map(displayText).join(' ')})`;
    const a = st.value.active;
    sdNotify(`READY=1\nSTATUS=enforcing ${st.value.flags.enforce ? 'on' : 'off'}; ${mounts.length} mounts; active policy ${a ? displayText(a.name) : 'none'}`);
    this.#log(`ready: ${over}, ${st.value.flags.enforce ? 'enforcing' : 'permissive'}, active policy ${a ? `"${displayText(a.name)}" ${versionString(a.version)}` : 'none (everything is allowed)'}`);
  }

  #watchdog(): void {
    // WATCHDOG=1 only while the backend still decides: a stuck or dead event thread stops it.
    const b = this.backend;
    const alive = b instanceof FanotifyBackend ? b.alive(5000) : b.status().deciding;
    if (alive) sdNotify('WATCHDOG=1');
  }

  /**
   * Re-reads what can change while running (systemctl reload / SIGHUP): the boot policy, the
   * signature settings and the audit log's rotation and stderr copy (RELOAD_EFFECT in config.ts).
   * Enforcement never pauses: the backend keeps its policy until the new one is swapped in
   * atomically. Changed fields that need a restart, or a new state directory, are named in the log.
   */
  async reload(next: DaemonConfig): Promise<void> {
    sdNotify(`RELOADING=1\nMONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`);
    try {
      const changed = changedFields(this.config, next);
      if (changed.restart.length > 0) this.#log(`reload: ${changed.restart.join(', ')} changed; that takes effect when the daemon restarts`);
      if (changed['new-state'].length > 0) this.#log(`reload: ${changed['new-state'].join(', ')} changed; that is used only for a new state directory (this one keeps its mode: ward enforce, ward audit-success)`);
      // Built with the new signature settings (trustedCerts, requireSigned): the boot policy below
      // and every later verb are judged by them.
      const manager = this.#newManager(this.#state!, next);
      if (next.bootPolicy) {
        const note = await manager.applyBootPolicy(next.bootPolicy, { pid: process.pid, uid: 0 });
        if (note) this.#log(note);
      }
      this.#manager = manager;
      this.audit.configure({ maxBytes: next.auditMaxBytes, keep: next.auditKeep, stderr: next.auditStderr });
      const applied = Object.fromEntries(changed.reload.map((k) => [k, next[k]])) as Partial<DaemonConfig>;
      this.config = { ...this.config, ...applied };
      if (changed.reload.length > 0) this.#log(`reload: ${changed.reload.join(', ')} applied`);
      this.#log(`reloaded: active policy ${this.#state!.active ? `"${displayText(this.#state!.active.name)}" ${versionString(this.#state!.active.version)}` : 'none'}`);
    } finally {
      sdNotify('READY=1');
    }
  }

  status(): Record<string, unknown> {
    const s = this.#state!;
    const a = s.active;
    const b = this.backend.status();
    return {
      pid: process.pid,
      // ward's mode, unless the backend sees it does not hold (IPE's enforce written outside ward).
      enforce: s.flags.enforce && b.enforcing !== false,
      auditSuccess: s.flags.auditSuccess,
      active: a ? { name: a.name, version: versionString(a.version) } : null,
      floor: s.store.floor ? versionString(s.store.floor) : null,
      backend: b.backend,
      deciding: b.deciding,
      hooks: b.hooks,
      gaps: this.#oomUnprotected ? [...b.gaps, this.#oomUnprotected] : b.gaps,
      failureMode: b.failureMode,
      ...b.details,
    };
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    await this.backend.stop();
    await this.#control?.close();
    this.audit.close();
    if (this.#lockFd >= 0) closeSync(this.#lockFd);
    this.#lockFd = -1;
    sdNotify('STOPPING=1');
    this.#finish({ code: 0, reason: 'stopped' });
  }
}
