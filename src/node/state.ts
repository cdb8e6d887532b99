// What the enlightened runtime enforces in this process. Only the kernel's exec securebits (or
// the ward-only WARD_NODE_ENFORCE=1, which can only switch checks on) turn enforcement on;
// nothing the application or its environment does can turn it off.

import { decodeExecBits, getSecurebits } from '../kernel/securebits.ts';

export interface NodeEnforcement {
  /** SECBIT_EXEC_RESTRICT_FILE (or WARD_NODE_ENFORCE): refuse code files that fail the check. */
  restrictFile: boolean;
  /** SECBIT_EXEC_DENY_INTERACTIVE (or WARD_NODE_ENFORCE): refuse code that is not a checked file. */
  denyInteractive: boolean;
  /** Log failed checks that are not enforced (WARD_NODE_AUDIT=1). */
  audit: boolean;
}

let cached: NodeEnforcement | undefined;

export function enforcement(): NodeEnforcement {
  if (!cached) {
    let bits = { restrictFile: false, denyInteractive: false };
    try {
      bits = decodeExecBits(getSecurebits());
    } catch {
      /* no FFI: only the environment switch below can turn checks on */
    }
    const always = process.env.WARD_NODE_ENFORCE === '1';
    cached = Object.freeze({
      restrictFile: bits.restrictFile || always,
      denyInteractive: bits.denyInteractive || always,
      audit: process.env.WARD_NODE_AUDIT === '1',
    });
  }
  return cached;
}

export function auditLine(what: string, detail: Record<string, unknown>): void {
  process.stderr.write(JSON.stringify({ ward: 'node-audit', what, pid: process.pid, ...detail }) + '\n');
}
