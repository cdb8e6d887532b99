// The fanotify event loop, in a worker thread. It must never wait on anything an exec could
// block: it reads events (poll + non-blocking read on the group fd), decides each from the file
// behind the event's fd, writes the answer, and only then gathers audit details and posts them
// to the main thread (which does all file logging). Events from the daemon's own process are
// allowed at once: its main thread may be the one waiting.

import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { computeVerityDigest } from '../properties/fsverity.ts';
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { pollReadable, readFd, writeFd, closeRaw, readlinkFd } from '../kernel/io.ts';
import { FAN_ALLOW, FAN_DENY, FAN_OPEN_EXEC_PERM, FAN_OPEN_PERM } from '../kernel/fanotify.ts';
import { CompiledPolicy } from '../policy/compiled.ts';
import { NO_POLICY, type Decision } from '../policy/evaluator.ts';
import { defaultRuleText, kernelRuleText } from '../policy/model.ts';
import { parsePolicy } from '../policy/parser.ts';
import { IdentityCache } from '../properties/cache.ts';
import { PropertyReader } from '../properties/context.ts';
import { identityOfFd } from '../properties/identity.ts';
import type { AccessRecord } from './audit.ts';

export interface WorkerInit {
  fanFd: number;
  port: MessagePort;
  /** BigInt64 slots: [heartbeat ms, events, allowed, denied, cache hits, errors, queue full] per worker. */
  stats: SharedArrayBuffer;
  index: number;
  selfPid: number;
  queueLimit: number;
  policy: PolicyMessage;
  flags: FlagsMessage;
}

export interface PolicyMessage {
  type: 'policy';
  text: Uint8Array | null;
  generation: number;
}
export interface FlagsMessage {
  type: 'flags';
  enforce: boolean;
  auditSuccess: boolean;
}
export type ToWorker = PolicyMessage | FlagsMessage | { type: 'stop' };
export type FromWorker = { type: 'ready'; index: number } | { type: 'audit'; record: AccessRecord } | { type: 'fatal'; message: string };

export const STAT_SLOTS = 8;
export const STAT = { heartbeat: 0, events: 1, allowed: 2, denied: 3, cacheHits: 4, errors: 5, queueFull: 6 } as const;

const METADATA_LEN = 24;
const FANOTIFY_METADATA_VERSION = 3;

interface Active {
  compiled: CompiledPolicy | undefined;
  name: string | null;
  version: string | null;
  generation: number;
}

function run(init: WorkerInit): void {
  const stats = new BigInt64Array(init.stats, init.index * STAT_SLOTS * 8, STAT_SLOTS);
  const bump = (slot: number) => Atomics.add(stats, slot, 1n);
  let active: Active = { compiled: undefined, name: null, version: null, generation: -1 };
  let flags: FlagsMessage = init.flags;
  let stop = false;
  const reader = new PropertyReader();
  const decisions = new IdentityCache<Decision>(65536);
  const devNames = new Map<bigint, string>();

  const applyPolicy = (m: PolicyMessage) => {
    if (m.text === null) {
      active = { compiled: undefined, name: null, version: null, generation: m.generation };
    } else {
      const r = parsePolicy(m.text);
      if (!r.ok) throw new Error(`policy sent to worker does not parse: ${r.error.message}`);
      const v = r.value.version;
      active = { compiled: new CompiledPolicy(r.value), name: r.value.name, version: `${v.major}.${v.minor}.${v.rev}`, generation: m.generation };
    }
  };
  applyPolicy(init.policy);

  const drain = () => {
    for (;;) {
      const msg = receiveMessageOnPort(init.port);
      if (!msg) return;
      const m = msg.message as ToWorker;
      if (m.type === 'policy') applyPolicy(m);
      else if (m.type === 'flags') flags = m;
      else stop = true;
    }
  };

  const respond = (fd: number, allow: boolean) => {
    const b = Buffer.alloc(8);
    b.writeInt32LE(fd, 0);
    b.writeUInt32LE(allow ? FAN_ALLOW : FAN_DENY, 4);
    writeFd(init.fanFd, b);
  };

  const decide = (fd: number): Decision => {
    if (!active.compiled) return NO_POLICY;
    const identity = identityOfFd(fd);
    const key = `${active.generation}:${identity.key}`;
    const hit = decisions.get(key);
    if (hit) {
      bump(STAT.cacheHits);
      return hit;
    }
    const d = active.compiled.decide('EXECUTE', reader.contextForFd(fd));
    // Cache only if the file did not change while it was looked at.
    if (identityOfFd(fd).key === identity.key) decisions.set(key, d);
    return d;
  };

  const isSharedObject = (fd: number): boolean => {
    const head = Buffer.alloc(18);
    try {
      if (readSync(fd, head, 0, 18, 0) < 18) return false;
    } catch {
      return false;
    }
    return head.readUInt32BE(0) === 0x7f454c46 && head.readUInt16LE(16) === 3; // ELF, ET_DYN
  };

  const devName = (dev: bigint): string => {
    let n = devNames.get(dev);
    if (n === undefined) {
      const major = Number(dev >> 8n) & 0xfff;
      const minor = Number((dev & 0xffn) | ((dev >> 12n) & 0xfff00n));
      n = `${major}:${minor}`;
      try {
        const uevent = readFileSync(`/sys/dev/block/${major}:${minor}/uevent`, 'utf8');
        n = /DEVNAME=(\S+)/.exec(uevent)?.[1] ?? n;
      } catch {
        try {
          const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[2] === `${major}:${minor}`);
          n = line?.split(' - ')[1]?.split(' ')[0] ?? n;
        } catch {
          /* keep major:minor */
        }
      }
      devNames.set(dev, n);
    }
    return n;
  };

  const audit = (fd: number, pid: number, hook: AccessRecord['ipe_hook'], d: Decision, allowed: boolean, reason?: string) => {
    let comm = '?';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      /* the process may be gone */
    }
    let dev = '?';
    let ino = '?';
    try {
      const id = identityOfFd(fd);
      dev = devName(id.dev);
      ino = String(id.ino);
    } catch {
      /* keep ? */
    }
    const record: AccessRecord = {
      type: 'IPE_ACCESS',
      audit_type: 1420,
      time: new Date().toISOString(),
      ipe_op: 'EXECUTE',
      ipe_hook: hook,
      enforcing: flags.enforce ? 1 : 0,
      pid,
      comm,
      path: readlinkFd(fd) ?? '?',
      dev,
      ino,
      rule: d.rule ? kernelRuleText(d.rule) : d.default ? defaultRuleText(d.default) : d.match === 'no_policy' ? 'none' : 'DEFAULT',
      rule_line: d.rule?.line ?? d.default?.line ?? null,
      decision: allowed ? 'ALLOW' : 'DENY',
      policy_name: active.name,
      policy_version: active.version,
      ...(reason ? { reason } : {}),
    };
    init.port.postMessage({ type: 'audit', record } satisfies FromWorker);
  };

  // Warm the hashing path before any exec waits on it (the first cache misses are otherwise
  // several times slower while V8 compiles it). Our own source file serves as input; nothing is
  // marked yet, so reading it cannot wait on us.
  try {
    const self = openSync(fileURLToPath(import.meta.url), 'r');
    try {
      const size = fstatSync(self).size;
      for (let i = 0; i < 300; i++) computeVerityDigest(self, size);
    } finally {
      closeSync(self);
    }
  } catch {
    /* warm-up is an optimisation only */
  }
  init.port.postMessage({ type: 'ready', index: init.index } satisfies FromWorker);
  const buf = Buffer.alloc(METADATA_LEN * 512);
  while (!stop) {
    Atomics.store(stats, STAT.heartbeat, BigInt(Date.now()));
    drain();
    if (stop) break;
    if (!pollReadable(init.fanFd, 200)) continue;
    // A policy or mode change posted while we waited applies to these events already.
    drain();
    const n = readFd(init.fanFd, buf);
    if (typeof n !== 'number' || n <= 0) continue; // another worker took the events
    let off = 0;
    let count = 0;
    while (off + METADATA_LEN <= n) {
      const len = buf.readUInt32LE(off);
      const vers = buf.readUInt8(off + 4);
      const mask = buf.readBigUInt64LE(off + 8);
      const fd = buf.readInt32LE(off + 16);
      const pid = buf.readInt32LE(off + 20);
      off += Math.max(len, METADATA_LEN);
      if (fd < 0) continue; // FAN_NOFD: a queue-overflow notice, nothing to answer
      bump(STAT.events);
      count++;
      try {
        if (vers !== FANOTIFY_METADATA_VERSION) {
          // A kernel speaking another metadata version: never leave the opener waiting.
          respond(fd, !flags.enforce);
          init.port.postMessage({ type: 'fatal', message: `fanotify metadata version ${vers}, expected ${FANOTIFY_METADATA_VERSION}: answered by mode` } satisfies FromWorker);
          continue;
        }
        if (pid === init.selfPid) {
          respond(fd, true);
          continue;
        }
        const isExec = (mask & BigInt(FAN_OPEN_EXEC_PERM)) !== 0n;
        if (!isExec && (mask & BigInt(FAN_OPEN_PERM)) !== 0n && !isSharedObject(fd)) {
          respond(fd, true);
          continue;
        }
        const hook = isExec ? 'BPRM_CHECK' : 'MMAP';
        if (count > init.queueLimit) {
          // Falling behind: answer by mode rather than let processes wait (and say so).
          const allow = !flags.enforce;
          respond(fd, allow);
          bump(STAT.queueFull);
          bump(allow ? STAT.allowed : STAT.denied);
          audit(fd, pid, hook, { action: allow ? 'ALLOW' : 'DENY', match: 'no_policy' }, allow, 'queue_full');
          continue;
        }
        let d: Decision;
        let reason: string | undefined;
        try {
          d = decide(fd);
        } catch (e) {
          // A file ward cannot read cannot be shown to match: deny when enforcing.
          bump(STAT.errors);
          d = { action: 'DENY', match: 'no_policy' };
          reason = `error: ${(e as Error).message}`;
        }
        const allow = d.action === 'ALLOW' || !flags.enforce;
        respond(fd, allow);
        bump(allow ? STAT.allowed : STAT.denied);
        if (d.action === 'DENY' || flags.auditSuccess || reason) audit(fd, pid, hook, d, allow, reason);
      } catch (e) {
        bump(STAT.errors);
        try {
          respond(fd, !flags.enforce);
        } catch {
          /* the group is gone */
        }
        init.port.postMessage({ type: 'fatal', message: `event handling failed: ${(e as Error).message}` } satisfies FromWorker);
      } finally {
        closeRaw(fd);
      }
    }
  }
}

if (workerData && (workerData as { kind?: string }).kind === 'ward-fanotify') run(workerData as unknown as WorkerInit);
