// ModAutoRestrict through bpf/modauto.bpf.o: per-task and global levels for automatic module
// loading (kernel_module_request). The programs are pinned once and stay (like a sysctl, the
// setting outlives any process); the levels are set through prctl options the programs answer,
// so "levels only rise" and "global 2 is final" are enforced in the kernel, not here.

import { closeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { BPFFS, WARD_PRCTL_DONE, WARD_PR_MODULE_AUTOLOAD, WARD_PR_MODULE_AUTOLOAD_GLOBAL, pidfdOpen, wardPrctl } from '../kernel/bpf.ts';
import { mapLookup } from '../kernel/libbpf.ts';
import { WardError, errnoName } from '../errors.ts';
import { MODAUTO_OBJECT, canReadKernel, isPinned, loadOrTakeOver, release } from './bpf-loader.ts';

export const MODAUTO_PIN_DIR = `${BPFFS}/ward-modauto`;
const LOG_SLOTS = 64;

export interface ModautoDenial {
  seq: number;
  pid: number;
  tgid: number;
  comm: string;
  /** the module name, or "" when the kernel refuses kernel reads (lockdown=confidentiality) */
  module: string;
  level: number;
  scope: 'task' | 'global';
}

export interface ModautoState {
  loaded: boolean;
  global: number;
  /** the level of the process asked about (ward's own: inherited from its parent) */
  task: number;
  pid: number;
  denials: number;
  recent: ModautoDenial[];
}

/** Loads and pins the programs unless they already are (needs root: CAP_BPF and CAP_SYS_ADMIN). */
export function ensureModauto(log: (line: string) => void = () => {}): void {
  if (isPinned(MODAUTO_PIN_DIR)) return;
  const l = loadOrTakeOver(MODAUTO_OBJECT, { pinDir: MODAUTO_PIN_DIR, pin: true, useVariant: canReadKernel(), log, beforeAttach: () => {} });
  release(l, MODAUTO_PIN_DIR, true);
}

function prctlLevel(option: number, level: number, what: string): void {
  if (!Number.isInteger(level) || level < 0 || level > 2) throw new WardError('EINVAL', `${what} must be 0, 1 or 2, not ${level}`);
  const errno = wardPrctl(option, level);
  if (errno === WARD_PRCTL_DONE) return;
  if (errno === 1) {
    throw new WardError('EPERM', option === WARD_PR_MODULE_AUTOLOAD
      ? `the kernel refused ${what} ${level}: levels only rise (this process is already above ${level})`
      : `the kernel refused ${what} ${level}: it needs CAP_SYS_MODULE, and a global level of 2 is final`);
  }
  if (errno === 22 || errno === 0) throw new WardError('ENOSYS', `ward's ModAutoRestrict programs are not loaded: run "ward modules autoload" as root once (they stay until reboot)`);
  throw new WardError(errnoName(errno), `prctl for the ${what} failed: ${errnoName(errno)}`);
}

/** Raises the calling process's level (kept across execve, inherited by every child). */
export function restrictModuleAutoload(level: number): void {
  if (!isPinned(MODAUTO_PIN_DIR) && process.getuid?.() === 0) ensureModauto();
  prctlLevel(WARD_PR_MODULE_AUTOLOAD, level, 'module autoload level');
}

export function setGlobalModuleAutoload(level: number): void {
  ensureModauto();
  prctlLevel(WARD_PR_MODULE_AUTOLOAD_GLOBAL, level, 'global module autoload level');
}

function cstr(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('latin1');
}

export function modautoState(pid: number = process.pid): ModautoState {
  if (!existsSync(join(MODAUTO_PIN_DIR, 'maps', 'modauto_global'))) return { loaded: false, global: 0, task: 0, pid, denials: 0, recent: [] };
  const l = loadOrTakeOver(MODAUTO_OBJECT, { pinDir: MODAUTO_PIN_DIR, pin: true, useVariant: false, log: () => {}, beforeAttach: () => {} });
  try {
    const g = Buffer.alloc(8);
    mapLookup(l.maps.modauto_global!, Buffer.alloc(4), g);
    const t = Buffer.alloc(4);
    const pidfd = pidfdOpen(pid);
    let task = 0;
    try {
      const key = Buffer.alloc(4);
      key.writeInt32LE(pidfd);
      if (mapLookup(l.maps.modauto_task!, key, t)) task = t.readUInt32LE(0);
    } finally {
      closeSync(pidfd);
    }
    const recent: ModautoDenial[] = [];
    const d = Buffer.alloc(104);
    for (let i = 0; i < LOG_SLOTS; i++) {
      const key = Buffer.alloc(4);
      key.writeUInt32LE(i);
      if (!mapLookup(l.maps.modauto_log!, key, d)) continue;
      const seq = Number(d.readBigUInt64LE(0));
      if (seq === 0) continue;
      recent.push({
        seq, pid: d.readUInt32LE(8), tgid: d.readUInt32LE(12), level: d.readUInt32LE(16),
        scope: d.readUInt32LE(20) === 1 ? 'global' : 'task', comm: cstr(d.subarray(24, 40)), module: cstr(d.subarray(40, 96)),
      });
    }
    recent.sort((a, b) => a.seq - b.seq);
    return { loaded: true, global: g.readUInt32LE(0), task, pid, denials: g.readUInt32LE(4), recent };
  } finally {
    release(l, MODAUTO_PIN_DIR, true);
  }
}
