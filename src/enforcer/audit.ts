// Every audit record ward daemon writes, built here and only here, with the kernel IPE audit
// records' field names (security/ipe/audit.c): 1420 access decisions, 1422 policy loads, 1421
// activations, 1404 enforce changes. Writing and reading the log: audit-log.ts.

import type { Decision } from '../policy/evaluator.ts';
import { versionString, type Policy } from '../policy/model.ts';
import { decidingRuleText } from '../policy/decision.ts';
import type { BpfEvent } from './bpf-maps.ts';
import type { EventDetails } from './details.ts';
import { terminalSafe } from '../util/terminal.ts';

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

/** One line for people; text from files, processes and policies has its control characters escaped. */
export function formatRecord(r: AuditRecord): string {
  const t = (s: string | null) => terminalSafe(s ?? '?');
  switch (r.type) {
    case 'IPE_ACCESS':
      return `${r.time} ${r.decision}${r.enforcing ? '' : ' (permissive)'} ${r.ipe_op} pid=${r.pid} comm=${t(JSON.stringify(r.comm))} path=${t(JSON.stringify(r.path))} rule="${t(r.rule)}"${r.rule_line ? ` (line ${r.rule_line})` : ''}${r.reason ? ` reason=${t(r.reason)}` : ''}`;
    case 'IPE_POLICY_LOAD':
      return `${r.time} policy load ${r.res ? 'ok' : `failed errno=${r.errno}`}: ${t(r.policy_name)} ${t(r.policy_version)} by uid ${r.uid}`;
    case 'IPE_CONFIG_CHANGE':
      return `${r.time} policy activated: ${t(r.new_active_pol_name)} ${t(r.new_active_pol_version)} (was ${r.old_active_pol_name === null ? 'none' : t(r.old_active_pol_name)}) by uid ${r.uid}`;
    case 'MAC_STATUS':
      return `${r.time} enforce ${r.old_enforcing} -> ${r.enforcing} by uid ${r.uid}`;
    case 'WARD_AUDIT_SUCCESS':
      return `${r.time} audit-success ${r.success_audit ? 'on' : 'off'} by uid ${r.uid}`;
    default:
      return `${t(String((r as { time?: unknown }).time))} ${t(JSON.stringify(r))}`;
  }
}

const now = () => new Date().toISOString();

/** Who asked for a management change (SO_PEERCRED of the control client, or the daemon itself). */
export interface Actor {
  pid: number;
  uid: number;
}

/** The rule that decided (policy/decision.ts, the one home of rule text), or IPE's words otherwise. */
export function decisionRuleText(d: Decision): string {
  return decidingRuleText(d) ?? (d.match === 'no_policy' ? 'none' : 'DEFAULT');
}

export function accessRecord(a: { hook: AccessRecord['ipe_hook']; enforcing: boolean; pid: number; details: EventDetails; decision: Decision; allowed: boolean; policyName: string | null; policyVersion: string | null; reason?: string }): AccessRecord {
  const d = a.decision;
  return {
    type: 'IPE_ACCESS',
    audit_type: 1420,
    time: now(),
    ipe_op: 'EXECUTE',
    ipe_hook: a.hook,
    enforcing: a.enforcing ? 1 : 0,
    pid: a.pid,
    comm: a.details.comm,
    path: a.details.path,
    dev: a.details.dev,
    ino: a.details.ino,
    rule: decisionRuleText(d),
    rule_line: d.rule?.line ?? d.default?.line ?? null,
    decision: a.allowed ? 'ALLOW' : 'DENY',
    policy_name: a.policyName,
    policy_version: a.policyVersion,
    ...(a.reason ? { reason: a.reason } : {}),
  };
}

/**
 * An access decided in the kernel by ward's BPF LSM programs (bpf-backend.ts), reported through
 * the ring buffer after the fact. The event carries only what the BPF program had at hand, so
 * some fields differ from a fanotify record, on purpose:
 * - path is always "": the program records the inode, not a path (no d_path in the event), and
 *   resolving the inode afterwards from user space would name whatever is there by then;
 * - dev is the superblock's kernel dev_t as major:minor (MAJOR = dev >> 20, MINOR = low 20 bits,
 *   include/linux/kdev_t.h), not a block device name; "" for no file (anonymous memory);
 * - rule is "bpf:" + where the verdict came from (verdict map, fs-verity digest, uncovered
 *   file…), rule_line is null: the policy was compiled into map rows, which keep no line.
 */
export function bpfAccessRecord(e: BpfEvent, enforcing: boolean, policy: Policy | undefined): AccessRecord {
  return {
    type: 'IPE_ACCESS',
    audit_type: 1420,
    time: now(),
    ipe_op: e.op,
    ipe_hook: e.hook,
    enforcing: enforcing ? 1 : 0,
    pid: e.tgid,
    comm: e.comm,
    path: '',
    dev: e.dev === 0 ? '' : `${e.dev >>> 20}:${e.dev & 0xfffff}`,
    ino: e.ino === 0n ? '' : String(e.ino),
    rule: `bpf:${e.source}`,
    rule_line: null,
    decision: e.denied ? 'DENY' : 'ALLOW',
    policy_name: policy?.name ?? null,
    policy_version: policy ? versionString(policy.version) : null,
  };
}

/** A load or update: p and its digest when it parsed, errno when it was refused. */
export function loadRecord(p: Policy | undefined, digest: string | null, by: Actor, errno = 0): PolicyLoadRecord {
  return {
    type: 'IPE_POLICY_LOAD',
    audit_type: 1422,
    time: now(),
    policy_name: p?.name ?? null,
    policy_version: p ? versionString(p.version) : null,
    policy_digest: p ? digest : null,
    uid: by.uid,
    pid: by.pid,
    res: errno === 0 ? 1 : 0,
    errno: -errno,
  };
}

export function activationRecord(old: { policy: Policy; digest: string } | undefined, now_: { policy: Policy; digest: string }, by: Actor): ActivationRecord {
  return {
    type: 'IPE_CONFIG_CHANGE',
    audit_type: 1421,
    time: now(),
    old_active_pol_name: old?.policy.name ?? null,
    old_active_pol_version: old ? versionString(old.policy.version) : null,
    old_policy_digest: old?.digest ?? null,
    new_active_pol_name: now_.policy.name,
    new_active_pol_version: versionString(now_.policy.version),
    new_policy_digest: now_.digest,
    uid: by.uid,
    pid: by.pid,
    res: 1,
  };
}

export function enforceRecord(on: boolean, old: boolean, by: Actor): EnforceRecord {
  return { type: 'MAC_STATUS', audit_type: 1404, time: now(), enforcing: on ? 1 : 0, old_enforcing: old ? 1 : 0, uid: by.uid, pid: by.pid, enabled: 1, 'old-enabled': 1, lsm: 'ipe', res: 1 };
}

export function auditSuccessRecord(on: boolean, by: Actor): AuditSuccessRecord {
  return { type: 'WARD_AUDIT_SUCCESS', time: now(), success_audit: on ? 1 : 0, uid: by.uid, pid: by.pid };
}
