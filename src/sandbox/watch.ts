// ward run --log-denials: the sandbox runs in a child `ward run` (asked to log denials after its
// exec: LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON), while this process reads the kernel's audit
// records (root: CAP_AUDIT_READ for the read-only multicast group; CAP_AUDIT_CONTROL to switch
// auditing on for the run if it was off, and back afterwards) and prints each denial of that
// child's Landlock domain with the flag that would allow it. `--explain` as root collects them the
// same way, without the live lines: after the run comes one summary (each distinct denial once,
// with a count, and the flags that would allow them all).

import { fileURLToPath } from 'node:url';
import { WardError } from '../errors.ts';
import { AUDIT_LANDLOCK_ACCESS, AUDIT_LANDLOCK_DOMAIN, AUDIT_SECCOMP, AuditReader, auditEnabled, setAuditEnabled } from '../kernel/audit.ts';
import { sys } from '../kernel/arch.ts';
import { landlockAbi } from '../kernel/landlock.ts';
import { DomainFilter, auditFields, describeDenial, formatSummary, parseAccessRecord, seccompHint, summarizeDenials, type Denial } from './denials.ts';

const WARD_BIN = fileURLToPath(new URL('../../bin/ward.js', import.meta.url));

export interface DenialLog {
  readonly reader: AuditReader;
  readonly restoreAudit: boolean;
}

/**
 * Opens the audit reader, or explains why denials cannot be shown (the caller then runs plainly).
 * `flag` is the option that asked (--log-denials or --explain), for the message.
 */
export function openDenialLog(flag = '--log-denials'): DenialLog {
  // Landlock writes audit records from ABI 7 (Linux 6.15, security/landlock/audit.c); below it
  // the stream would stay silent and "no denials" would be a lie.
  const without = flag === '--explain' ? 'no summary of denials after the run' : 'running without it';
  const abi = landlockAbi();
  if (abi < 7) throw new WardError('ENOSYS', `${flag}: denials cannot be shown: Landlock writes audit records from ABI 7 (Linux 6.15), this kernel has ABI ${abi}; ${without}`);
  let reader: AuditReader;
  try {
    reader = new AuditReader();
  } catch (e) {
    throw new WardError(
      (e as WardError).code ?? 'EPERM',
      `${flag}: denials cannot be shown: reading the kernel's audit records needs root (CAP_AUDIT_READ) (${(e as Error).message}); ${without}. ` +
        "A denial shows as \"Permission denied\" (EACCES) or \"Operation not permitted\" (EPERM); --explain lists what is allowed",
    );
  }
  try {
    const on = auditEnabled();
    if (on === 0) setAuditEnabled(true);
    return { reader, restoreAudit: on === 0 };
  } catch (e) {
    reader.close();
    throw new WardError((e as WardError).code ?? 'EPERM', `${flag}: the kernel's audit is off and cannot be switched on (${(e as Error).message}); ${without}`);
  }
}

/**
 * Runs `ward run ARGS` as a child and, when it has exited, prints the summary of its denials;
 * `live` also prints each distinct denial as it happens. Resolves to the child's exit status.
 */
export async function runWithDenialLog(log: DenialLog, args: readonly string[], print: (line: string) => void, live = true): Promise<number> {
  const { spawn } = process.getBuiltinModule('node:child_process');
  // A login uid no login has marks the child's tree, whose seccomp refusals carry it as auid.
  const marker = 0x7d000000 + (process.pid & 0xffffff);
  const child = spawn(process.execPath, [WARD_BIN, 'run', '--log-new-exec', '--audit-marker', String(marker), ...args], { stdio: 'inherit' });
  const names = new Map(Object.entries(sys()).map(([n, nr]) => [nr, n]));
  const filter = new DomainFilter(child.pid ?? -1);
  const seen: Denial[] = [];
  const refused: string[] = [];
  const shown = new Set<string>();
  const show = (d: Denial) => {
    seen.push(d);
    const line = describeDenial(d);
    if (live && !shown.has(line)) print(`ward: ${line}`); // each distinct denial once
    shown.add(line);
  };
  const drain = (): number => {
    let n = 0;
    for (const r of log.reader.poll()) {
      n++;
      if (r.type === AUDIT_LANDLOCK_DOMAIN) {
        for (const d of filter.domainRecord(r.text)) show(d);
      } else if (r.type === AUDIT_SECCOMP) {
        const f = auditFields(r.text);
        if (f.get('auid') !== String(marker)) continue;
        const name = names.get(Number(f.get('syscall'))) ?? `syscall ${f.get('syscall')}`;
        const line = `${seccompHint(name)} (pid ${f.get('pid')}${f.get('comm') ? ` ${f.get('comm')}` : ''})`;
        if (live && !shown.has(line)) print(`ward: ${line}`);
        shown.add(line);
        refused.push(name);
      } else if (r.type === AUDIT_LANDLOCK_ACCESS) {
        const d = parseAccessRecord(r.text);
        if (d) for (const mine of filter.access(d)) show(mine);
      }
    }
    return n;
  };
  const timer = setInterval(drain, 20);
  const forward = (sig: NodeJS.Signals) => child.kill(sig);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, forward);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    clearInterval(timer);
    // kauditd delivers asynchronously, later on a loaded machine: read until the stream has been
    // quiet for 300 ms (at most 5 s) after the child is gone.
    for (let quiet = 0, waited = 0; quiet < 300 && waited < 5000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
      quiet = drain() > 0 ? 0 : quiet + 50;
    }
    if (log.reader.overflows) print(`ward: the kernel's audit stream overflowed ${log.reader.overflows} time(s) (records came faster than they were read): the summary may miss some denials`);
    if (filter.dropped) print(`ward: ${filter.dropped} denial record(s) were dropped while this run's sandbox was not yet known (other sandboxes were denied much meanwhile): the summary may miss some`);
    for (const line of formatSummary(summarizeDenials(seen, refused))) print(`ward: ${line}`);
    return code ?? 128 + (signal ? (process.getBuiltinModule('node:os').constants.signals[signal] ?? 0) : 0);
  } finally {
    clearInterval(timer);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, forward);
    log.reader.close();
    if (log.restoreAudit) setAuditEnabled(false);
  }
}
