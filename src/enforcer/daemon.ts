// ward daemon: IPE policies enforced on every exec from user space, through fanotify
// permission events. The main thread owns the policy store, the control socket, the audit log
// and the marks; worker threads read and answer events (worker.ts). If the workers die, the
// group is closed at once: fanotify then allows everything (fail open), and the daemon exits for
// its supervisor to restart it.

import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { WardError } from '../errors.ts';
import { closeRaw, peerCredentials } from '../kernel/io.ts';
import { FAN_CLASS_CONTENT, FAN_CLOEXEC, FAN_MARK_ADD, FAN_MARK_MOUNT, FAN_NONBLOCK, FAN_OPEN_EXEC_PERM, FAN_OPEN_PERM, fanotifyInit, fanotifyMark } from '../kernel/fanotify.ts';
import { AT_FDCWD } from '../kernel/exec-check.ts';
import { O_CLOEXEC } from '../kernel/files.ts';
import { arch } from '../kernel/arch.ts';
import { parsePolicy } from '../policy/parser.ts';
import { compareVersions, displayText, versionString, type Policy } from '../policy/model.ts';
import { AuditLog, type AuditRecord } from './audit.ts';
import type { DaemonConfig } from './config.ts';
import { readMounts, watchedMounts } from './mounts.ts';
import { sdNotify, watchdogIntervalMs } from './notify.ts';
import { parseRequest, type ControlRequest, type ControlResponse } from './protocol.ts';
import { PolicyState, policyDigest } from './state.ts';
import { readCertificates, verifySignedPolicy } from './signature.ts';
import { STAT, STAT_SLOTS, type FromWorker, type ToWorker } from './worker.ts';

interface Peer {
  pid: number;
  uid: number;
  gid: number;
}

const toRaw = (name: string) => Buffer.from(name, 'utf8').toString('latin1');
const now = () => new Date().toISOString();

function groupId(group: string): number | undefined {
  if (/^\d+$/.test(group)) return Number(group);
  try {
    const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.split(':')[0] === group);
    return line ? Number(line.split(':')[2]) : undefined;
  } catch {
    return undefined;
  }
}

function peerGroups(pid: number): number[] {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('Groups:'));
    return line ? line.slice(7).trim().split(/\s+/).filter(Boolean).map(Number) : [];
  } catch {
    return [];
  }
}

export class Daemon {
  readonly config: DaemonConfig;
  readonly state: PolicyState;
  readonly audit: AuditLog;
  readonly #log: (msg: string) => void;
  #fanFd = -1;
  #workers: Array<{ worker: Worker; port: import('node:worker_threads').MessagePort }> = [];
  #stats = new SharedArrayBuffer(8 * STAT_SLOTS * 64);
  #generation = 0;
  #server: Server | undefined;
  #markedIds = new Set<number>();
  readonly marked: string[] = [];
  #timers: NodeJS.Timeout[] = [];
  #stopping = false;
  #adminGid: number | undefined;
  #trusted: ReturnType<typeof readCertificates>;

  constructor(config: DaemonConfig, log: (msg: string) => void = (m) => process.stderr.write(`ward daemon: ${m}\n`)) {
    this.config = config;
    this.#log = log;
    const st = PolicyState.open(config.stateDir, { enforce: config.enforce, auditSuccess: config.auditSuccess });
    if (!st.ok) throw st.error;
    this.state = st.value;
    this.audit = new AuditLog({ path: config.auditLog, maxBytes: config.auditMaxBytes, keep: config.auditKeep, stderr: config.auditStderr });
    this.#trusted = readCertificates(config.trustedCerts);
    if (config.adminGroup !== undefined) {
      this.#adminGid = groupId(config.adminGroup);
      if (this.#adminGid === undefined) throw new WardError('EINVAL', `adminGroup "${config.adminGroup}" does not exist`);
    }
  }

  #record(r: AuditRecord): void {
    try {
      this.audit.write(r);
    } catch (e) {
      this.#log(`cannot write the audit log: ${(e as Error).message}`);
    }
  }

  /** The boot policy: loaded if new (or a newer version), activated when nothing else is active. */
  #applyBootPolicy(): void {
    const file = this.config.bootPolicy;
    if (!file) return;
    const text = readFileSync(file);
    const r = parsePolicy(text);
    if (!r.ok) throw new WardError(r.error.code, `boot policy ${file}:${r.error.line}:${r.error.column}: ${r.error.message}`);
    const p = r.value;
    const stored = this.state.store.policies.get(p.rawName);
    if (!stored) {
      const l = this.state.load(p);
      if (!l.ok) throw l.error;
      this.#recordLoad(p, { pid: process.pid, uid: 0, gid: 0 });
    } else if (compareVersions(stored.version, p.version) < 0) {
      const u = this.state.update(p.rawName, p);
      if (!u.ok) throw u.error;
      this.#recordLoad(p, { pid: process.pid, uid: 0, gid: 0 });
    }
    if (this.state.store.active === undefined) {
      const a = this.state.activate(p.rawName);
      if (!a.ok) throw new WardError(a.error.code, `boot policy ${file}: ${a.error.message}`);
      this.#recordActivation(undefined, this.state.active!, { pid: process.pid, uid: 0, gid: 0 });
    } else if (this.state.store.active !== p.rawName) {
      this.#log(`boot policy "${p.name}" not activated: "${displayText(this.state.store.active)}" is active (change it with ward policy activate)`);
    }
  }

  #digest(p: Policy): string {
    return policyDigest(p, this.state.signatures.get(p.rawName));
  }

  #recordLoad(p: Policy | undefined, peer: Peer, errno = 0, pkcs7?: Uint8Array): void {
    this.#record({
      type: 'IPE_POLICY_LOAD',
      audit_type: 1422,
      time: now(),
      policy_name: p?.name ?? null,
      policy_version: p ? versionString(p.version) : null,
      policy_digest: p ? policyDigest(p, pkcs7) : null,
      uid: peer.uid,
      pid: peer.pid,
      res: errno === 0 ? 1 : 0,
      errno: -errno,
    });
  }

  #recordActivation(old: Policy | undefined, p: Policy, peer: Peer): void {
    this.#record({
      type: 'IPE_CONFIG_CHANGE',
      audit_type: 1421,
      time: now(),
      old_active_pol_name: old?.name ?? null,
      old_active_pol_version: old ? versionString(old.version) : null,
      old_policy_digest: old ? this.#digest(old) : null,
      new_active_pol_name: p.name,
      new_active_pol_version: versionString(p.version),
      new_policy_digest: this.#digest(p),
      uid: peer.uid,
      pid: peer.pid,
      res: 1,
    });
  }

  #policyMessage(): ToWorker {
    const a = this.state.active;
    return { type: 'policy', text: a ? a.text : null, generation: this.#generation };
  }

  #broadcast(m: ToWorker): void {
    for (const w of this.#workers) w.port.postMessage(m);
  }

  #pushPolicy(): void {
    this.#generation++;
    this.#broadcast(this.#policyMessage());
  }

  async start(): Promise<void> {
    this.#applyBootPolicy();
    this.#fanFd = fanotifyInit(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK, arch().open.O_LARGEFILE | O_CLOEXEC);
    const flags = { type: 'flags' as const, ...this.state.flags };
    const ready: Array<Promise<void>> = [];
    for (let i = 0; i < this.config.workers; i++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(new URL('./worker.ts', import.meta.url), {
        workerData: { kind: 'ward-fanotify', fanFd: this.#fanFd, port: port2, stats: this.#stats, index: i, selfPid: process.pid, queueLimit: this.config.queueLimit, policy: this.#policyMessage(), flags },
        transferList: [port2],
      });
      ready.push(
        new Promise<void>((resolve, reject) => {
          port1.on('message', (m: FromWorker) => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'audit') this.#record(m.record);
            else this.#log(m.message);
          });
          worker.once('error', reject);
        }),
      );
      worker.on('error', (e) => this.#workerDied(`worker ${i} failed: ${e.message}`));
      worker.on('exit', (code) => this.#workerDied(`worker ${i} exited (${code})`));
      this.#workers.push({ worker, port: port1 });
    }
    await Promise.all(ready);
    this.#markMounts();
    this.#timers.push(setInterval(() => this.#markMounts(), this.config.mountPollMs));
    await this.#listen();
    const wd = watchdogIntervalMs();
    if (wd) this.#timers.push(setInterval(() => this.#watchdog(), Math.max(100, wd / 2)));
    sdNotify(`READY=1\nSTATUS=enforcing ${this.state.flags.enforce ? 'on' : 'off'}; ${this.marked.length} mounts; active policy ${this.state.active?.name ?? 'none'}`);
    this.#log(`ready: ${this.marked.length} mount(s) watched, ${this.state.flags.enforce ? 'enforcing' : 'permissive'}, active policy ${this.state.active ? `"${this.state.active.name}" ${versionString(this.state.active.version)}` : 'none (everything is allowed)'}`);
  }

  #workerDied(why: string): void {
    if (this.#stopping) return;
    // Nobody answers events any more: close the group so the kernel allows them (fail open)
    // rather than hang every exec on the host, and exit for the supervisor to restart us.
    this.#log(`${why}; closing the fanotify group (execs are allowed until ward restarts)`);
    if (this.#fanFd >= 0) closeRaw(this.#fanFd);
    this.#fanFd = -1;
    process.exit(70);
  }

  #watchdog(): void {
    const stats = new BigInt64Array(this.#stats);
    const fresh = this.#workers.every((_, i) => Date.now() - Number(stats[i * STAT_SLOTS + STAT.heartbeat]) < 5000);
    if (fresh) sdNotify('WATCHDOG=1');
  }

  #markMounts(): void {
    if (this.#fanFd < 0) return;
    let mounts;
    try {
      mounts = watchedMounts(readMounts(), this.config.filesystems, this.config.mounts);
    } catch (e) {
      this.#log(`cannot read mounts: ${(e as Error).message}`);
      return;
    }
    const mask = BigInt(FAN_OPEN_EXEC_PERM | (this.config.libraries ? FAN_OPEN_PERM : 0));
    for (const m of mounts) {
      if (this.#markedIds.has(m.id)) continue;
      try {
        fanotifyMark(this.#fanFd, FAN_MARK_ADD | FAN_MARK_MOUNT, mask, AT_FDCWD, m.mountPoint);
        this.#markedIds.add(m.id);
        if (!this.marked.includes(m.mountPoint)) this.marked.push(m.mountPoint);
      } catch (e) {
        this.#log(`cannot watch ${m.mountPoint} (${m.fsType}): ${(e as Error).message}`);
        this.#markedIds.add(m.id);
      }
    }
    if (this.config.mounts) {
      for (const want of this.config.mounts) if (!this.marked.includes(want)) this.#log(`configured mount ${want} is not mounted (yet)`);
    }
  }

  async #listen(): Promise<void> {
    const path = this.config.socket;
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    if (existsSync(path)) unlinkSync(path);
    this.#server = createServer((c) => this.#serve(c));
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(path, resolve);
    });
    chmodSync(path, this.#adminGid === undefined ? 0o600 : 0o660);
    if (this.#adminGid !== undefined) chownSync(path, 0, this.#adminGid);
  }

  #authorized(peer: Peer): boolean {
    if (peer.uid === 0) return true;
    if (this.#adminGid === undefined) return false;
    return peer.gid === this.#adminGid || peerGroups(peer.pid).includes(this.#adminGid);
  }

  #serve(c: Socket): void {
    let peer: Peer;
    try {
      peer = peerCredentials((c as unknown as { _handle: { fd: number } })._handle.fd);
    } catch {
      c.end(JSON.stringify({ ok: false, errno: 'EPERM', message: 'cannot identify the client' }) + '\n');
      return;
    }
    let data = '';
    c.setEncoding('utf8');
    c.on('data', (chunk: string) => {
      data += chunk;
      const nl = data.indexOf('\n');
      if (nl < 0) {
        if (data.length > 64 * 1024 * 1024) c.destroy();
        return;
      }
      let response: ControlResponse;
      if (!this.#authorized(peer)) {
        response = { ok: false, errno: 'EPERM', message: `uid ${peer.uid} may not manage ward policies (root${this.config.adminGroup ? ` or group ${this.config.adminGroup}` : ''} only)` };
      } else {
        let doc: unknown;
        try {
          doc = JSON.parse(data.slice(0, nl));
        } catch {
          doc = undefined;
        }
        const req = parseRequest(doc);
        if (typeof req === 'string') response = { ok: false, errno: 'EINVAL', message: req };
        else {
          void this.handle(req, peer).then((r) => c.end(JSON.stringify(r) + '\n'));
          return;
        }
      }
      c.end(JSON.stringify(response) + '\n');
    });
    c.on('error', () => c.destroy());
  }

  /** A policy as sent: its text, and its PKCS#7 signature (content attached) when signed. */
  async #incoming(text64: string, pkcs7b64: string | undefined, peer: Peer): Promise<{ policy: Policy; pkcs7?: Uint8Array } | ControlResponse> {
    const text = Buffer.from(text64, 'base64');
    let pkcs7: Uint8Array | undefined;
    if (pkcs7b64 !== undefined) {
      pkcs7 = Buffer.from(pkcs7b64, 'base64');
      const v = await verifySignedPolicy(pkcs7, this.#trusted);
      if (!v.ok) {
        this.#recordLoad(undefined, peer, v.error.errno ?? 74);
        return { ok: false, errno: v.error.code, message: v.error.message };
      }
      if (Buffer.compare(Buffer.from(v.value.content), text) !== 0) {
        return { ok: false, errno: 'EINVAL', message: 'the signed content differs from the policy file given with it' };
      }
    } else if (this.config.requireSigned) {
      this.#recordLoad(undefined, peer, 74);
      return { ok: false, errno: 'EBADMSG', message: 'this daemon accepts only signed policies (requireSigned): sign it, e.g. openssl smime -sign -in P -signer CERT -inkey KEY -noattr -nodetach -nosmimecap -binary -outform der -out P.p7s, and load with --signed P.p7s' };
    }
    const r = parsePolicy(text);
    if (r.ok) return { policy: r.value, pkcs7 };
    this.#recordLoad(undefined, peer, 74);
    return { ok: false, errno: r.error.code, message: r.error.message, line: r.error.line, column: r.error.column, token: r.error.token };
  }

  /** Executes one management request (the control socket's verbs). */
  async handle(req: ControlRequest, peer: Peer): Promise<ControlResponse> {
    const fail = (e: WardError): ControlResponse => ({ ok: false, errno: e.code, message: e.message });
    try {
      switch (req.verb) {
        case 'load': {
          const inc = await this.#incoming(req.text, req.pkcs7, peer);
          if ('ok' in inc) return inc;
          const p = inc.policy;
          const r = this.state.load(p, inc.pkcs7);
          if (!r.ok) return fail(r.error);
          this.#recordLoad(p, peer, 0, inc.pkcs7);
          return { ok: true, name: p.name, version: versionString(p.version), signed: inc.pkcs7 !== undefined };
        }
        case 'activate': {
          const r = this.state.activate(toRaw(req.name));
          if (!r.ok) return fail(r.error);
          const a = this.state.active!;
          if (r.value.previous !== a) {
            this.#pushPolicy();
            this.#recordActivation(r.value.previous, a, peer);
          }
          return { ok: true, name: a.name, version: versionString(a.version) };
        }
        case 'update': {
          const inc = await this.#incoming(req.text, req.pkcs7, peer);
          if ('ok' in inc) return inc;
          const p = inc.policy;
          const r = this.state.update(toRaw(req.name), p, inc.pkcs7);
          if (!r.ok) return fail(r.error);
          this.#recordLoad(p, peer, 0, inc.pkcs7);
          if (r.value.wasActive) {
            this.#pushPolicy();
            this.#recordActivation(r.value.previous, p, peer);
          }
          return { ok: true, name: p.name, version: versionString(p.version), active: r.value.wasActive };
        }
        case 'delete': {
          const r = this.state.delete(toRaw(req.name));
          return r.ok ? { ok: true } : fail(r.error);
        }
        case 'list':
          return {
            ok: true,
            policies: [...this.state.store.policies.values()].map((p) => ({ name: p.name, version: versionString(p.version), active: this.state.store.active === p.rawName, rules: p.rules.length })),
          };
        case 'show': {
          const p = this.state.store.policies.get(toRaw(req.name));
          if (!p) return { ok: false, errno: 'ENOENT', message: `no policy named ${JSON.stringify(req.name)} is loaded` };
          return { ok: true, name: p.name, version: versionString(p.version), active: this.state.store.active === p.rawName, signed: this.state.signatures.has(p.rawName), digest: this.#digest(p), text: Buffer.from(p.text).toString('base64') };
        }
        case 'enforce':
        case 'audit-success': {
          const old = req.verb === 'enforce' ? this.state.flags.enforce : this.state.flags.auditSuccess;
          this.state.setFlags(req.verb === 'enforce' ? { enforce: req.on } : { auditSuccess: req.on });
          this.#broadcast({ type: 'flags', ...this.state.flags });
          if (req.verb === 'enforce') {
            this.#record({ type: 'MAC_STATUS', audit_type: 1404, time: now(), enforcing: req.on ? 1 : 0, old_enforcing: old ? 1 : 0, uid: peer.uid, pid: peer.pid, enabled: 1, 'old-enabled': 1, lsm: 'ipe', res: 1 });
          } else {
            this.#record({ type: 'WARD_AUDIT_SUCCESS', time: now(), success_audit: req.on ? 1 : 0, uid: peer.uid, pid: peer.pid });
          }
          return { ok: true, [req.verb === 'enforce' ? 'enforce' : 'auditSuccess']: req.on };
        }
        case 'status':
          return { ok: true, ...this.status() };
        case 'probe-exec': {
          // Diagnostic: the daemon's own main thread starts a program while enforcing.
          const r = spawnSync(req.path, [], { timeout: 10_000, stdio: 'ignore' });
          return { ok: true, status: r.status, signal: r.signal, error: (r.error as NodeJS.ErrnoException | undefined)?.code ?? null };
        }
      }
    } catch (e) {
      return { ok: false, errno: (e as NodeJS.ErrnoException).code ?? 'EIO', message: (e as Error).message };
    }
  }

  status(): Record<string, unknown> {
    const stats = new BigInt64Array(this.#stats);
    const sum = (slot: number) => this.#workers.reduce((a, _, i) => a + Number(stats[i * STAT_SLOTS + slot]), 0);
    const a = this.state.active;
    return {
      pid: process.pid,
      enforce: this.state.flags.enforce,
      auditSuccess: this.state.flags.auditSuccess,
      active: a ? { name: a.name, version: versionString(a.version) } : null,
      floor: this.state.store.floor ? versionString(this.state.store.floor) : null,
      mounts: this.marked,
      libraries: this.config.libraries,
      workers: this.#workers.length,
      events: sum(STAT.events),
      allowed: sum(STAT.allowed),
      denied: sum(STAT.denied),
      cacheHits: sum(STAT.cacheHits),
      errors: sum(STAT.errors),
      queueFull: sum(STAT.queueFull),
    };
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const t of this.#timers) clearInterval(t);
    this.#broadcast({ type: 'stop' });
    await Promise.all(this.#workers.map((w) => w.worker.terminate().catch(() => 0)));
    if (this.#fanFd >= 0) closeRaw(this.#fanFd);
    this.#fanFd = -1;
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    if (existsSync(this.config.socket)) unlinkSync(this.config.socket);
    this.audit.close();
    sdNotify('STOPPING=1');
  }
}
