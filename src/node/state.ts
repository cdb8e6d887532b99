// What the enlightened runtime enforces in this thread. The kernel's exec securebits switch
// enforcement on (they live in the thread's credentials, are inherited by every thread and
// process started afterwards, and can be locked); ward's own switches — WARD_NODE_ENFORCE=1 (as if
// both bits were set, for hosts without them) and --deny-codegen (variable, /etc/ward/node.json)
// — only add. A worker thread also takes its parent's settings (./inherit.ts), so an `env` option
// that omits ward's variables changes nothing. Nothing the application does can turn a check off.

import { decodeExecBits, getSecurebits } from '../kernel/securebits.ts';
import { nodeConfig } from './config.ts';
import { readInherited } from './inherit.ts';
import { ENV } from './launch.ts';
import { terminalSafe } from '../util/terminal.ts';

export interface NodeEnforcement {
  /** SECBIT_EXEC_RESTRICT_FILE (or ward's --enforce): refuse code files that fail the check. */
  restrictFile: boolean;
  /** SECBIT_EXEC_DENY_INTERACTIVE (or --enforce): refuse code that does not come from a file. */
  denyInteractive: boolean;
  /** --deny-codegen: also refuse code generated at run time from strings or bytes. */
  denyCodegen: boolean;
  /** ward's --enforce (not the bits): handed on to children and workers. */
  enforce: boolean;
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
      /* no FFI: only ward's own switches below can turn checks on */
    }
    const parent = readInherited();
    const enforce = process.env[ENV.enforce] === '1' || !!parent.enforce;
    cached = Object.freeze({
      restrictFile: bits.restrictFile || enforce,
      denyInteractive: bits.denyInteractive || enforce,
      denyCodegen: process.env[ENV.denyCodegen] === '1' || !!parent.denyCodegen || nodeConfig().denyCodegen,
      enforce,
      audit: process.env[ENV.audit] === '1' || !!parent.audit,
    });
  }
  return cached;
}

const wouldRefuse = new Map<string, string>();

export function auditLine(what: string, detail: Record<string, unknown>): void {
  process.stderr.write(JSON.stringify({ ward: 'node-audit', what, pid: process.pid, ...detail }) + '\n');
  if (what === 'exec-check-failed') wouldRefuse.set(String(detail.path), `${String(detail.errno)}: ${String(detail.reason)}`);
  else if (what === 'generated-source') wouldRefuse.set(String(detail.url), `generated code (${String(detail.why)}), refused only with --deny-codegen`);
}

/** `ward node --audit`: at exit, every file this process loaded that enforcement would refuse. */
export function auditSummaryAtExit(): void {
  process.on('exit', () => {
    if (wouldRefuse.size === 0) return;
    // File names and URLs are any text: shown with their control characters escaped.
    const lines = [...wouldRefuse].map(([what, why]) => `  ${terminalSafe(what)}: ${terminalSafe(why)}`);
    process.stderr.write(`ward node --audit: ${wouldRefuse.size} file(s) loaded by process ${process.pid} would be refused under the exec securebits:\n${lines.join('\n')}\n  fix: \`ward node trust DIR\` sets the execute bit on a tree's code; or allow the files in the exec policy\n`);
  });
}
