// The seam every enforcement backend plugs into. The daemon owns the policy store, the control
// socket and the audit log; a backend owns only "make the kernel enforce this policy": fanotify
// permission events answered from user space, or BPF LSM programs at IPE's own hooks
// (security/ipe/hooks.c) fed through maps, or the kernel's own IPE through securityfs. The daemon
// never branches on which one runs.

import type { Policy } from '../policy/model.ts';
import type { AuditRecord } from './audit.ts';

export type BackendName = 'fanotify' | 'bpf' | 'ipe';

/** What happens to enforcement when the daemon exits or dies. */
export type FailureMode = 'open' | 'closed';

export interface EnforcementMode {
  /** false = permissive: decisions are audited, never enforced (IPE's enforce=0). */
  readonly enforce: boolean;
  /** Audit allowed decisions too (IPE's success_audit). */
  readonly auditSuccess: boolean;
}

export interface BackendStatus {
  readonly backend: BackendName;
  /** true only when at least one decision point is live: never claim enforcement over nothing. */
  readonly deciding: boolean;
  /**
   * false when the backend can see that it denies nothing although ward's mode is enforce (the
   * kernel's IPE set to enforce=0 outside ward): the daemon then never reports "enforcing".
   * Absent: the backend enforces whatever mode ward set.
   */
  readonly enforcing?: boolean;
  /** Which IPE hooks / operations this backend decides, in IPE's `ipe_hook` names. */
  readonly hooks: readonly string[];
  /** What this backend cannot decide, in plain words (for `ward status` and --explain). */
  readonly gaps: readonly string[];
  readonly failureMode: FailureMode;
  /** Free-form counters and details (watched filesystems, queue depth, map sizes…). */
  readonly details: Readonly<Record<string, unknown>>;
}

/** Everything a backend may tell the daemon while it runs. */
export interface BackendEvents {
  /** A decision to write to the audit log (the backend never writes the log itself). */
  audit(record: AuditRecord): void;
  /** A human-readable line for the daemon's log. */
  log(message: string): void;
  /** The backend can no longer enforce (workers died, programs detached…): the daemon stops. */
  failed(reason: string): void;
}

export interface EnforcementBackend {
  readonly name: BackendName;
  /** Starts deciding with `policy` (undefined = no active policy: everything allowed). */
  start(policy: Policy | undefined, mode: EnforcementMode, events: BackendEvents): Promise<void>;
  /** Replaces the active policy atomically: every decision uses the old or the new one, never a mix. */
  swapPolicy(policy: Policy | undefined): Promise<void>;
  setMode(mode: EnforcementMode): Promise<void>;
  status(): BackendStatus;
  /** Stops deciding; what then happens to enforcement is the backend's failure mode. */
  stop(): Promise<void>;
  /**
   * Optional: asked before the store takes a policy (load, update) or activates it, so that a
   * backend with a policy store of its own (the kernel's IPE) can refuse first — a WardError with
   * the kernel's errno — and the daemon's store never says what the kernel does not enforce.
   * May answer with warnings for the requester (the verb's answer carries them).
   */
  admit?(policy: Policy, pkcs7: Uint8Array | undefined, how: 'load' | 'update' | 'activate'): Promise<readonly string[] | void>;
  /** Optional: a policy is about to leave the store (delete). */
  retire?(rawName: string): Promise<void>;
}
