// `ward exec`: set the exec securebits (include/uapi/linux/securebits.h, Linux 6.14), then become
// the command, so it and everything it starts inherit them (they live in the credentials, which
// execve keeps). The bits are set on the main thread, the one that then calls execve.

import { type ErrnoName, describeError, errorCode } from '../errors.ts';
import {
  SECBIT_EXEC_DENY_INTERACTIVE,
  SECBIT_EXEC_DENY_INTERACTIVE_LOCKED,
  SECBIT_EXEC_RESTRICT_FILE,
  SECBIT_EXEC_RESTRICT_FILE_LOCKED,
  decodeExecBits,
  getSecurebits,
  setSecurebits,
  type ExecSecurebits,
} from '../kernel/securebits.ts';
import { inheritedFdsToKeep, replaceProcess, resolveCommand } from '../kernel/process.ts';
import { execveCheckSupported } from '../kernel/exec-check.ts';

export type { ExecSecurebits };

export interface ExecBitsRequest {
  /** SECBIT_EXEC_RESTRICT_FILE: interpreters refuse files that fail AT_EXECVE_CHECK. */
  restrictFile?: boolean;
  /** SECBIT_EXEC_DENY_INTERACTIVE: interpreters refuse code that is not a checked file. */
  denyInteractive?: boolean;
  /** Also set the _LOCKED bit of each bit set: no descendant can ever clear it. */
  lock?: boolean;
  /**
   * ModAutoRestrict level 0/1/2 for the command and its descendants, applied by ward's BPF LSM
   * program at kernel_module_request (levels only rise; see docs/bpf.md).
   */
  moduleAutoload?: 0 | 1 | 2;
}

/** This process's securebits, raw and the exec bits decoded (inherited from the parent). */
export function currentExecBits(): { raw: number } & ExecSecurebits {
  const raw = getSecurebits();
  return { raw, ...decodeExecBits(raw) };
}

/** The securebits value to add for a request (pure). */
export function execBitsMask(req: ExecBitsRequest): number {
  let add = 0;
  if (req.restrictFile) add |= SECBIT_EXEC_RESTRICT_FILE | (req.lock ? SECBIT_EXEC_RESTRICT_FILE_LOCKED : 0);
  if (req.denyInteractive) add |= SECBIT_EXEC_DENY_INTERACTIVE | (req.lock ? SECBIT_EXEC_DENY_INTERACTIVE_LOCKED : 0);
  return add;
}

/** Why `execWithSecurebits` came back (it only returns when it could not become the command). */
export type ExecFailure =
  | { stage: 'resolve'; code: 'ENOENT'; command: string }
  | { stage: 'unsupported'; code: 'ENOSYS' }
  | { stage: 'securebits'; code: ErrnoName; current: number; wanted: number }
  | { stage: 'autoload'; code: ErrnoName; message: string }
  | { stage: 'execve'; code: ErrnoName; path: string };

/**
 * Sets the requested bits (ORed into the current value: PR_SET_SECUREBITS replaces the whole
 * value) and execs `command` found like execvp. Inherited fds 3..3+preserveFds-1 (and LISTEN_FDS)
 * are passed on. Returns only on failure, saying which step failed.
 */
export async function execWithSecurebits(command: readonly string[], req: ExecBitsRequest, preserveFds = 0): Promise<ExecFailure> {
  const [cmd, ...args] = command;
  if (cmd === undefined) throw new TypeError('execWithSecurebits: empty command');
  const path = resolveCommand(cmd);
  if (!path) return { stage: 'resolve', code: 'ENOENT', command: cmd };
  // The exec securebits came with AT_EXECVE_CHECK (Linux 6.14); an older kernel answers
  // PR_SET_SECUREBITS with EPERM for the unknown bits. Refuse by name rather than run the
  // command unprotected or blame a lock.
  if ((req.restrictFile || req.denyInteractive) && !execveCheckSupported()) return { stage: 'unsupported', code: 'ENOSYS' };
  const current = getSecurebits();
  const wanted = current | execBitsMask(req);
  // An unprivileged PR_SET_SECUREBITS that changes nothing fails with EPERM (a legacy quirk):
  // only call it when something changes.
  if (wanted !== current) {
    try {
      setSecurebits(wanted);
    } catch (e) {
      return { stage: 'securebits', code: errorCode(e), current, wanted };
    }
  }
  if (req.moduleAutoload !== undefined) {
    // Loaded only when asked: the BPF loader is not needed for the securebits.
    const { restrictModuleAutoload } = await import('../enforcer/bpf-modauto.ts');
    try {
      restrictModuleAutoload(req.moduleAutoload);
    } catch (e) {
      return { stage: 'autoload', code: errorCode(e), message: describeError(e) };
    }
  }
  try {
    replaceProcess(path, [cmd, ...args], process.env, inheritedFdsToKeep(preserveFds));
  } catch (e) {
    return { stage: 'execve', code: errorCode(e), path };
  }
}
