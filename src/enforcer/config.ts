// ward daemon's configuration: a JSON file (default /etc/ward/daemon.json) whose every field is
// optional, with documented defaults; command-line flags override it. Validation names the field.

import type { FailureMode } from './backend.ts';
import type { BackendChoice } from './select-backend.ts';
import { readFileSync } from 'node:fs';
import { WardError, errorCode, fail, ok, type Result } from '../errors.ts';
import { bool, checkObject, int, oneOf, parseJsonText, str, strList, type FieldCheck } from '../util/json.ts';

export interface DaemonConfig {
  /** Where policies and the active/floor/enforce state persist. */
  stateDir: string;
  /** The root-only control socket. */
  socket: string;
  /** Group (name or gid) whose members may also manage policies. */
  adminGroup: string | undefined;
  /** JSON-lines audit log; rotated at auditMaxBytes, keeping auditKeep old files. */
  auditLog: string;
  auditMaxBytes: number;
  auditKeep: number;
  /** Also write audit lines to stderr (journald). */
  auditStderr: boolean;
  /** Filesystem types whose mounts are watched (fapolicyd's local default). */
  filesystems: string[];
  /** If set, watch exactly these mount points instead of every mount of `filesystems`. */
  mounts: string[] | undefined;
  /** Also decide shared objects opened by ld.so / dlopen (FAN_OPEN_PERM + ELF check). */
  libraries: boolean;
  /** Event threads reading events (each with a digest thread for big files). */
  workers: number;
  /** Events read at once beyond this are answered at once: DENY enforcing, ALLOW permissive. */
  queueLimit: number;
  /** Files up to this size are hashed on the event thread; bigger ones on a digest thread. */
  inlineDigestBytes: number;
  /** A decision not made within this many ms is answered by mode (DENY when enforcing). */
  decisionTimeoutMs: number;
  /** Start in enforce mode (IPE's default) or permissive. */
  enforce: boolean;
  auditSuccess: boolean;
  /** A policy loaded and activated before the first event is answered. */
  bootPolicy: string | undefined;
  /** How often new mounts are looked for, ms. */
  mountPollMs: number;
  /** PEM files of the certificates whose signatures on policies are trusted (IPE's keyring). */
  trustedCerts: string[];
  /** Refuse policies that are not signed by a trusted certificate. */
  requireSigned: boolean;
  /** auto = the kernel's IPE where it has one and ipeSigningKey is set, else the BPF LSM where the kernel accepts LSM programs, else fanotify (select-backend.ts). */
  backend: BackendChoice;
  /** open: enforcement ends with the daemon; closed: BPF programs stay pinned (needs bpf). */
  failureMode: FailureMode;
  /** backend ipe: PEM RSA key and certificate that sign policies for the kernel (its secondary or platform keyring must trust the certificate). */
  ipeSigningKey: string | undefined;
  ipeSigningCert: string | undefined;
}

export const DEFAULT_CONFIG_PATH = '/etc/ward/daemon.json';

/**
 * When a changed field takes effect (docs/daemon.md, "Reload"): at reload (SIGHUP), at the next
 * restart (what the backend's threads, the socket and the lock were built with), or only for a
 * new state directory (the state keeps the mode: `ward enforce`, `ward audit-success`). A Record
 * over every field, so a new field cannot be added without deciding.
 */
export type ReloadEffect = 'reload' | 'restart' | 'new-state';
export const RELOAD_EFFECT: Readonly<Record<keyof DaemonConfig, ReloadEffect>> = {
  bootPolicy: 'reload',
  trustedCerts: 'reload',
  requireSigned: 'reload',
  auditMaxBytes: 'reload',
  auditKeep: 'reload',
  auditStderr: 'reload',
  stateDir: 'restart',
  socket: 'restart',
  adminGroup: 'restart',
  auditLog: 'restart',
  filesystems: 'restart',
  mounts: 'restart',
  libraries: 'restart',
  workers: 'restart',
  queueLimit: 'restart',
  inlineDigestBytes: 'restart',
  decisionTimeoutMs: 'restart',
  mountPollMs: 'restart',
  backend: 'restart',
  failureMode: 'restart',
  ipeSigningKey: 'restart',
  ipeSigningCert: 'restart',
  enforce: 'new-state',
  auditSuccess: 'new-state',
};

/** The fields whose value differs between two configurations, by when the change takes effect. */
export function changedFields(running: DaemonConfig, next: DaemonConfig): Record<ReloadEffect, Array<keyof DaemonConfig>> {
  const out: Record<ReloadEffect, Array<keyof DaemonConfig>> = { reload: [], restart: [], 'new-state': [] };
  for (const k of Object.keys(RELOAD_EFFECT) as Array<keyof DaemonConfig>) {
    if (JSON.stringify(running[k]) !== JSON.stringify(next[k])) out[RELOAD_EFFECT[k]].push(k);
  }
  return out;
}

export const DEFAULTS: DaemonConfig = {
  stateDir: '/var/lib/ward',
  socket: '/run/ward/control.sock',
  adminGroup: undefined,
  auditLog: '/var/log/ward/audit.jsonl',
  auditMaxBytes: 16 * 1024 * 1024,
  auditKeep: 5,
  auditStderr: true,
  filesystems: ['ext2', 'ext3', 'ext4', 'tmpfs', 'xfs', 'vfat', 'iso9660', 'btrfs'],
  mounts: undefined,
  libraries: false,
  workers: 2,
  queueLimit: 4096,
  inlineDigestBytes: 8 * 1024 * 1024,
  decisionTimeoutMs: 5000,
  enforce: true,
  auditSuccess: false,
  bootPolicy: undefined,
  mountPollMs: 1000,
  trustedCerts: [],
  requireSigned: false,
  // fanotify until the BPF backend computes verdicts for whole filesystems: today it covers only
  // the files under --mount (docs/bpf.md), so "auto" on a BPF-capable host would decide every
  // other file on boot_verified alone. --backend auto|bpf opts in.
  backend: 'fanotify',
  failureMode: 'open',
  ipeSigningKey: undefined,
  ipeSigningCert: undefined,
};

const FIELDS: Record<keyof DaemonConfig, FieldCheck> = {
  stateDir: str,
  socket: str,
  adminGroup: str,
  auditLog: str,
  auditMaxBytes: int(4096, 2 ** 40),
  auditKeep: int(0, 1000),
  auditStderr: bool,
  filesystems: strList,
  mounts: strList,
  libraries: bool,
  workers: int(1, 64),
  queueLimit: int(1, 1 << 20),
  inlineDigestBytes: int(0, 2 ** 40),
  decisionTimeoutMs: int(10, 600_000),
  enforce: bool,
  auditSuccess: bool,
  bootPolicy: str,
  mountPollMs: int(50, 3_600_000),
  trustedCerts: strList,
  requireSigned: bool,
  backend: oneOf(...(['auto', 'ipe', 'bpf', 'fanotify'] satisfies BackendChoice[])),
  failureMode: oneOf(...(['open', 'closed'] satisfies FailureMode[])),
  ipeSigningKey: str,
  ipeSigningCert: str,
};

export function validateConfig(doc: unknown, source: string): Result<Partial<DaemonConfig>> {
  return checkObject(doc, FIELDS, source, '{"enforce": true}') as Result<Partial<DaemonConfig>>;
}

/** Loads a config file; a missing file at the default path means "all defaults". */
export function loadConfig(path: string | undefined, overrides: Partial<DaemonConfig> = {}, defaultPath = DEFAULT_CONFIG_PATH): Result<DaemonConfig> {
  let fromFile: Partial<DaemonConfig> = {};
  const file = path ?? defaultPath;
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = errorCode(e);
    if (!(code === 'ENOENT' && path === undefined)) return fail(new WardError(code, `cannot read configuration ${file}: ${code}`));
  }
  if (text !== undefined) {
    const doc = parseJsonText(text, file);
    if (!doc.ok) return doc;
    const v = validateConfig(doc.value, file);
    if (!v.ok) return v;
    fromFile = v.value;
  }
  const cleaned = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) as Partial<DaemonConfig>;
  return ok({ ...DEFAULTS, ...fromFile, ...cleaned });
}
