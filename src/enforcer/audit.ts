// The audit trail: one JSON object per line, with the kernel IPE audit records' field names
// (security/ipe/audit.c): 1420 access decisions, 1422 policy loads, 1421 activations, 1404
// enforce changes. To a file with size-based rotation, and to stderr for journald.

import { closeSync, fstatSync, mkdirSync, openSync, renameSync, existsSync, writeSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';

export interface AccessRecord {
  type: 'IPE_ACCESS';
  audit_type: 1420;
  time: string;
  ipe_op: string;
  ipe_hook: 'BPRM_CHECK' | 'MMAP' | 'MPROTECT' | 'KERNEL_READ' | 'KERNEL_LOAD' | 'BPRM_CREDS_FOR_EXEC';
  enforcing: 0 | 1;
  pid: number;
  comm: string;
  path: string;
  dev: string;
  ino: string;
  rule: string;
  rule_line: number | null;
  decision: 'ALLOW' | 'DENY';
  policy_name: string | null;
  policy_version: string | null;
  /** Set when the decision did not come from the policy (queue_full, error…). */
  reason?: string;
}

export interface PolicyLoadRecord {
  type: 'IPE_POLICY_LOAD';
  audit_type: 1422;
  time: string;
  policy_name: string | null;
  policy_version: string | null;
  policy_digest: string | null;
  uid: number;
  pid: number;
  res: 0 | 1;
  errno: number;
}

export interface ActivationRecord {
  type: 'IPE_CONFIG_CHANGE';
  audit_type: 1421;
  time: string;
  old_active_pol_name: string | null;
  old_active_pol_version: string | null;
  old_policy_digest: string | null;
  new_active_pol_name: string;
  new_active_pol_version: string;
  new_policy_digest: string;
  uid: number;
  pid: number;
  res: 1;
}

export interface EnforceRecord {
  type: 'MAC_STATUS';
  audit_type: 1404;
  time: string;
  enforcing: 0 | 1;
  old_enforcing: 0 | 1;
  uid: number;
  pid: number;
  enabled: 1;
  'old-enabled': 1;
  lsm: 'ipe';
  res: 1;
}

export interface AuditSuccessRecord {
  type: 'WARD_AUDIT_SUCCESS';
  time: string;
  success_audit: 0 | 1;
  uid: number;
  pid: number;
}

export type AuditRecord = AccessRecord | PolicyLoadRecord | ActivationRecord | EnforceRecord | AuditSuccessRecord;

export interface AuditSinkOptions {
  path: string;
  maxBytes: number;
  keep: number;
  stderr: boolean;
}

/** Appends records; rotates path → path.1 → … → path.keep when it grows past maxBytes. */
export class AuditLog {
  readonly options: AuditSinkOptions;
  #fd: number | undefined;
  #size = 0;

  constructor(options: AuditSinkOptions) {
    this.options = options;
    mkdirSync(dirname(options.path), { recursive: true, mode: 0o750 });
    this.#open();
  }

  #open(): void {
    this.#fd = openSync(this.options.path, 'a', 0o640);
    this.#size = fstatSync(this.#fd).size;
  }

  #rotate(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    const { path, keep } = this.options;
    for (let i = keep - 1; i >= 1; i--) if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
    if (keep >= 1) renameSync(path, `${path}.1`);
    else unlinkSync(path);
    this.#open();
  }

  write(record: AuditRecord): void {
    const line = JSON.stringify(record) + '\n';
    if (this.options.stderr) process.stderr.write(line);
    if (this.#fd === undefined) return;
    if (this.#size + line.length > this.options.maxBytes && this.#size > 0) this.#rotate();
    const buf = Buffer.from(line);
    writeSync(this.#fd, buf);
    this.#size += buf.length;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

/** Reads the log and its rotated files, oldest first. */
export function readAuditRecords(path: string, keep = 100): AuditRecord[] {
  const files: string[] = [];
  for (let i = keep; i >= 1; i--) if (existsSync(`${path}.${i}`)) files.push(`${path}.${i}`);
  if (existsSync(path)) files.push(path);
  const out: AuditRecord[] = [];
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as AuditRecord);
      } catch {
        /* a torn last line after a crash: skip */
      }
    }
  }
  return out;
}

/** One line for people. */
export function formatRecord(r: AuditRecord): string {
  switch (r.type) {
    case 'IPE_ACCESS':
      return `${r.time} ${r.decision}${r.enforcing ? '' : ' (permissive)'} ${r.ipe_op} pid=${r.pid} comm=${JSON.stringify(r.comm)} path=${JSON.stringify(r.path)} rule="${r.rule}"${r.rule_line ? ` (line ${r.rule_line})` : ''}${r.reason ? ` reason=${r.reason}` : ''}`;
    case 'IPE_POLICY_LOAD':
      return `${r.time} policy load ${r.res ? 'ok' : `failed errno=${r.errno}`}: ${r.policy_name ?? '?'} ${r.policy_version ?? '?'} by uid ${r.uid}`;
    case 'IPE_CONFIG_CHANGE':
      return `${r.time} policy activated: ${r.new_active_pol_name} ${r.new_active_pol_version} (was ${r.old_active_pol_name ?? 'none'}) by uid ${r.uid}`;
    case 'MAC_STATUS':
      return `${r.time} enforce ${r.old_enforcing} -> ${r.enforcing} by uid ${r.uid}`;
    case 'WARD_AUDIT_SUCCESS':
      return `${r.time} audit-success ${r.success_audit ? 'on' : 'off'} by uid ${r.uid}`;
  }
}
