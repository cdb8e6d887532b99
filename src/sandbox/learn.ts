// ward run --learn PROFILE.json -- CMD: runs CMD without a sandbox but watched by the kernel's
// audit (root): an exit rule logs the file, exec and socket system calls of every process whose
// login uid is a value chosen for this run (set on the child before it execs CMD, inherited by
// everything CMD starts and by nothing else), and the records are turned into a profile
// (learn-profile.ts). The rule is removed and auditing restored afterwards.

import { renameSync, writeFileSync } from 'node:fs';
import { WardError } from '../errors.ts';
import { arch } from '../kernel/arch.ts';
import { landlockAbi } from '../kernel/landlock.ts';
import { AUDIT_ARCH_FIELD, AUDIT_LOGINUID_FIELD, AuditReader, addAuditRule, auditEnabled, deleteAuditRule, setAuditEnabled } from '../kernel/audit.ts';
import { resolveCommand } from '../kernel/process.ts';
import { AUDIT_EOE, addRecord, learnEvent, learnedProfile, newLearned, serialOf, type AuditEvent } from './learn-profile.ts';
import { profileEnv, type SandboxProfile } from './profile.ts';
import { UNIX_ABI } from './rights.ts';

export interface LearnResult {
  readonly status: number;
  readonly profile: SandboxProfile;
  readonly unplaced: number;
  /** Times the kernel's audit stream overflowed ward's reader: records were lost, the profile may miss some. */
  readonly overflows: number;
}

export async function learn(flags: SandboxProfile, argv: readonly string[], out: string, kernelAbi = landlockAbi()): Promise<LearnResult> {
  const env = profileEnv(flags);
  const command = resolveCommand(argv[0]!, process.env.PATH ?? '/usr/bin:/bin');
  if (!command) throw new WardError('ENOENT', `${argv[0]}: command not found`);
  let reader: AuditReader;
  try {
    reader = new AuditReader();
  } catch (e) {
    throw new WardError((e as WardError).code ?? 'EPERM', `--learn watches CMD through the kernel's audit, which needs root (CAP_AUDIT_READ, CAP_AUDIT_CONTROL): ${(e as Error).message}`);
  }
  const table = arch();
  const names = new Map(Object.entries(table.learn).map(([n, nr]) => [nr, n]));
  // A login uid no real login has: 0x7e000000 + pid (the child's own, from the kernel, is unset).
  const marker = 0x7e000000 + (process.pid & 0xffffff);
  const fields = [[AUDIT_ARCH_FIELD, table.auditArch], [AUDIT_LOGINUID_FIELD, marker]] as const;
  const syscalls = [...names.keys()];
  const wasOn = auditEnabled();
  if (wasOn === 0) setAuditEnabled(true);
  const learned = newLearned();
  const events = new Map<string, AuditEvent>();
  const drain = (): number => {
    let n = 0;
    for (const r of reader.poll()) {
      n++;
      const serial = serialOf(r.text);
      if (!serial) continue;
      const ev = events.get(serial) ?? { paths: [] };
      events.set(serial, ev);
      if (r.type === AUDIT_EOE) {
        events.delete(serial);
        if (ev.syscall?.get('auid') === String(marker)) learnEvent(learned, ev, names, table.open.O_DIRECTORY);
      } else addRecord(ev, r.type, r.text);
    }
    return n;
  };
  let status: number;
  let overflows = 0;
  try {
    addAuditRule(syscalls, fields);
    try {
      const { spawn } = process.getBuiltinModule('node:child_process');
      // sh sets the login uid (root, CAP_AUDIT_CONTROL; allowed once while unset), then becomes CMD.
      const child = spawn('/bin/sh', ['-c', 'echo "$0" 2>/dev/null > /proc/self/loginuid || { echo "ward: --learn cannot mark the run: the login uid of this session is fixed (loginuid_immutable)" >&2; exit 125; }; exec "$@"', String(marker), command, ...argv.slice(1)], { stdio: 'inherit', env, argv0: argv[0] });
      const timer = setInterval(drain, 20);
      // Signals go to CMD; this process stays to remove the rule and restore auditing.
      const forward = (sig: NodeJS.Signals) => child.kill(sig);
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, forward);
      const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(sig, forward);
      clearInterval(timer);
      // kauditd delivers the run's last records after CMD has exited, later on a loaded machine:
      // read until the stream has been quiet for 300 ms (at most 5 s), so none is left out.
      for (let quiet = 0, waited = 0; quiet < 300 && waited < 5000; waited += 50) {
        await new Promise((r) => setTimeout(r, 50));
        quiet = drain() > 0 ? 0 : quiet + 50;
      }
      status = code ?? 128 + (signal ? (process.getBuiltinModule('node:os').constants.signals[signal] ?? 0) : 0);
    } finally {
      deleteAuditRule(syscalls, fields);
    }
  } finally {
    overflows = reader.overflows;
    reader.close();
    if (wasOn === 0) setAuditEnabled(false);
  }
  const profile = learnedProfile(learned, flags.env ?? []);
  // Below ABI 9 Landlock cannot limit unix sockets to a path: say so in the profile itself.
  if (profile.unix && kernelAbi < UNIX_ABI) profile['allow-unix-sockets'] = true;
  const tmp = `${out}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(profile, null, 2) + '\n', { mode: 0o644 });
  renameSync(tmp, out);
  return { status, profile, unplaced: learned.unplaced, overflows };
}
