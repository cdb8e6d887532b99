// Which enforcement backend `ward daemon` runs, and with which failure mode: `backend: auto |
// ipe | bpf | fanotify`, `failureMode: open | closed`. auto = the kernel's own IPE where it has
// one and a signing key is configured (the kernel takes only signed policies), else the BPF LSM
// where this kernel loads and attaches an LSM program (a real probe: some kernels list "bpf" yet
// refuse every program), else fanotify. The answer carries its reason for the daemon's start-up
// line and ward status.

import { WardError } from '../errors.ts';
import { probeBpfLsm, type LsmProbe } from '../kernel/bpf.ts';
import type { BackendName, EnforcementBackend, FailureMode } from './backend.ts';
import { BpfBackend, type BpfBackendOptions } from './bpf-backend.ts';
import { IpeBackend, type IpeBackendOptions } from './ipe-backend.ts';
import { kernelIpe } from './securityfs.ts';

export type BackendChoice = 'auto' | BackendName;
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'ipe', 'bpf', 'fanotify'];
export const FAILURE_MODES: readonly FailureMode[] = ['open', 'closed'];

export interface Selection {
  backend: BackendName;
  failureMode: FailureMode;
  /** one line: why this backend (for the daemon's start-up line and ward status) */
  reason: string;
}

export function parseBackendChoice(value: string, where = '--backend'): BackendChoice {
  if ((BACKEND_CHOICES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new WardError('EINVAL', `${where} must be auto, ipe, bpf or fanotify, not "${value}"`);
}

export function parseFailureMode(value: string, where = '--failure-mode'): FailureMode {
  if ((FAILURE_MODES as readonly string[]).includes(value)) return value as FailureMode;
  throw new WardError('EINVAL', `${where} must be open or closed, not "${value}"`);
}

/** Why the kernel refused, in words. */
export function refusalText(p: LsmProbe): string {
  if (p.listed === false) return `"bpf" is not in the active LSM list (boot with lsm=…,bpf)`;
  if (p.errno === 'EPERM' && process.getuid?.() !== 0) return 'loading LSM programs needs root (CAP_BPF and CAP_SYS_ADMIN)';
  if (p.errno === 'EPERM') return `the BPF LSM is listed but this kernel refuses LSM programs (EPERM at load, before the verifier)`;
  return `loading an LSM program failed: ${p.errno ?? 'unknown error'}`;
}

/**
 * Decides the backend. failureMode closed needs the BPF LSM (a fanotify listener's decisions
 * end with its process): asking for closed where BPF is refused is an error, not a silent
 * downgrade.
 */
export interface IpeProbe {
  /** /sys/kernel/security/ipe exists (the kernel runs IPE, securityfs is mounted). */
  present: boolean;
  /** ipeSigningKey/ipeSigningCert are configured. */
  signing: boolean;
}

export function probeIpe(signing: boolean): IpeProbe {
  return { present: kernelIpe.present(), signing };
}

// IPE keeps its policies, and the active one, until reboot; it cannot deactivate a policy.
const IPE_CLOSED = 'the kernel keeps enforcing the active policy when the daemon stops or dies (IPE cannot deactivate a policy)';

export function selectBackend(choice: BackendChoice, failureMode: FailureMode, probe: () => LsmProbe = probeBpfLsm, ipe: () => IpeProbe = () => probeIpe(false)): Selection {
  if (choice === 'ipe') {
    const i = ipe();
    if (!i.present) throw new WardError('ENOENT', 'the IPE backend needs the kernel\'s IPE: /sys/kernel/security/ipe does not exist (a kernel without IPE, or securityfs not mounted); use --backend auto, bpf or fanotify');
    return { backend: 'ipe', failureMode: 'closed', reason: `the kernel's IPE: policies deployed through securityfs (${i.signing ? 'signed with the configured key' : 'pre-signed policies only: no signing key configured'}); ${IPE_CLOSED}` };
  }
  if (choice === 'auto') {
    const i = ipe();
    if (i.present && i.signing) return { backend: 'ipe', failureMode: 'closed', reason: `the kernel's IPE (auto: /sys/kernel/security/ipe exists and a signing key is configured); ${IPE_CLOSED}` };
  }
  if (choice === 'fanotify') {
    if (failureMode === 'closed') throw new WardError('EINVAL', 'failure mode "closed" needs the BPF LSM backend: fanotify decisions stop when the daemon exits (use --backend bpf or auto, or --failure-mode open)');
    return { backend: 'fanotify', failureMode, reason: 'fanotify: chosen by configuration' };
  }
  const p = probe();
  if (p.accepts) return { backend: 'bpf', failureMode, reason: `BPF LSM: this kernel loads and attaches LSM programs${choice === 'auto' ? ' (auto)' : ''}` };
  const why = refusalText(p);
  if (choice === 'bpf') throw new WardError(p.errno ?? 'ENOSYS', `the BPF LSM backend cannot run here: ${why}; use --backend fanotify or auto`);
  if (failureMode === 'closed') throw new WardError(p.errno ?? 'ENOSYS', `failure mode "closed" needs the BPF LSM and ${why}; use --failure-mode open to fall back to fanotify`);
  return { backend: 'fanotify', failureMode, reason: `fanotify (auto): ${why}` };
}

/** The backend for a selection; the daemon supplies its fanotify backend. */
export function createBackend(s: Selection, bpf: Omit<BpfBackendOptions, 'failureMode'>, fanotify: () => EnforcementBackend, ipe: IpeBackendOptions = {}): EnforcementBackend {
  if (s.backend === 'ipe') return new IpeBackend(ipe);
  return s.backend === 'bpf' ? new BpfBackend({ ...bpf, failureMode: s.failureMode }) : fanotify();
}
