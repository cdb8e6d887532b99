// `ward run`'s action: flags → profile → sandbox → become CMD. Shared by the commander
// command (run.ts) and the fast entry (run-fast.ts); it loads neither commander nor any module a
// plain launch does not use (every module costs each `ward run` launch time).

import { WardError, errorCode } from '../errors.ts';
import { CMD_ENV_VAR, execSandboxed, explainSandbox, fdsToKeep, prepareSandbox } from '../sandbox/launcher.ts';
import { ENV_ENTRY, mergeProfiles, parseProfileText, type SandboxProfile } from '../sandbox/profile.ts';
import type { LogFlag } from '../sandbox/rights.ts';
import { CliError, EXIT_CANNOT_EXECUTE, EXIT_LAUNCH_FAILED, EXIT_NOT_FOUND, preserveCount } from './io.ts';
import { terminalSafe } from '../util/terminal.ts';

// node:fs through process.getBuiltinModule, not an ESM import: importing it builds its module
// namespace, whose fs.promises getter loads streams and readline (~4 ms of every `ward run`).
const { readFileSync } = process.getBuiltinModule('node:fs');

export interface RunFlags {
  ro: string[];
  rox: string[];
  rw: string[];
  rwx: string[];
  bindTcp: number[];
  connectTcp: number[];
  unrestrictedFs?: boolean;
  unrestrictedNet?: boolean;
  allowSignalsOut?: boolean;
  allowAbstractUnixOut?: boolean;
  profile?: string;
  profileJson?: string;
  bestEffort?: boolean;
  strict?: boolean;
  soft?: boolean;
  abi?: string;
  addLibs?: boolean;
  ignoreMissing?: boolean;
  env: string[];
  clearEnv?: boolean;
  keepEnv?: boolean;
  keepCaps?: boolean;
  shareSession?: boolean;
  unix: string[];
  allowUnixSockets?: boolean;
  allowUdp?: boolean;
  allowSysvIpc?: boolean;
  allowKeyrings?: boolean;
  envHandover?: boolean;
  ldd?: boolean;
  addExec?: boolean;
  unrestrictedNetwork?: boolean;
  unrestrictedFilesystem?: boolean;
  unrestrictedScoped?: boolean;
  logLevel?: string;
  logDisableOriginating?: boolean;
  logEnableSubprocesses?: boolean;
  logDisableSubdomains?: boolean;
  logDenials?: boolean;
  learn?: string;
  logNewExec?: boolean;
  auditMarker?: string;
  explain?: boolean;
  dryRun?: boolean;
  preserveFds?: string;
}

function flagsToProfile(f: RunFlags): SandboxProfile {
  const compat = [f.strict && 'strict', f.bestEffort && 'best-effort', f.soft && 'soft'].filter(Boolean) as SandboxProfile['compat'][];
  if (compat.length > 1) throw new CliError('EINVAL', '--strict, --best-effort and --soft exclude each other');
  for (const e of f.env) if (!ENV_ENTRY.test(e)) throw new CliError('EINVAL', `--env takes NAME (pass it through) or NAME=value, got "${e}"`);
  if (f.keepEnv && f.clearEnv) throw new CliError('EINVAL', '--keep-env and --clear-env exclude each other');
  let abi: SandboxProfile['abi'];
  if (f.abi !== undefined) {
    if (f.abi !== 'auto' && !/^\d+$/.test(f.abi)) throw new CliError('EINVAL', `--abi takes a number or auto, got "${f.abi}"`);
    abi = f.abi === 'auto' ? 'auto' : Number(f.abi);
  }
  const p: SandboxProfile = { ro: f.ro, rox: f.rox, rw: f.rw, rwx: f.rwx, unix: f.unix, 'bind-tcp': f.bindTcp, 'connect-tcp': f.connectTcp, env: f.env };
  if (f.keepEnv) p['keep-env'] = true;
  if (f.keepCaps) p['keep-caps'] = true;
  if (f.shareSession) p['share-session'] = true;
  if (f.allowUnixSockets) p['allow-unix-sockets'] = true;
  if (f.allowUdp) p['allow-udp'] = true;
  if (f.allowSysvIpc) p['allow-sysv-ipc'] = true;
  if (f.allowKeyrings) p['allow-keyrings'] = true;
  if (f.unrestrictedFs || f.unrestrictedFilesystem) p['unrestricted-fs'] = true;
  if (f.unrestrictedNet || f.unrestrictedNetwork) p['unrestricted-net'] = true;
  if (f.allowSignalsOut || f.unrestrictedScoped) p['allow-signals-out'] = true;
  if (f.allowAbstractUnixOut || f.unrestrictedScoped) p['allow-abstract-unix-out'] = true;
  if (f.addLibs) p['add-libs'] = true;
  if (f.ldd) p.ldd = true;
  const log: LogFlag[] = [];
  if (f.logDisableOriginating) log.push('log_same_exec_off');
  if (f.logNewExec || f.logEnableSubprocesses) log.push('log_new_exec_on');
  if (f.logDisableSubdomains) log.push('log_subdomains_off');
  if (log.length) p.log = log;
  if (f.addExec) p['add-exec'] = true;
  if (f.ignoreMissing) p['ignore-missing'] = true;
  if (f.clearEnv) p['clear-env'] = true;
  if (compat[0]) p.compat = compat[0];
  if (abi !== undefined) p.abi = abi;
  return p;
}

function loadProfiles(f: RunFlags): SandboxProfile[] {
  const out: SandboxProfile[] = [];
  if (f.profile) {
    let text: string;
    try {
      text = readFileSync(f.profile, 'utf8');
    } catch (e) {
      throw new CliError(errorCode(e), `cannot read profile ${f.profile}: ${errorCode(e)}`);
    }
    const r = parseProfileText(text, f.profile);
    if (!r.ok) throw new CliError(r.error.code, r.error.message);
    out.push(r.value);
  }
  if (f.profileJson) {
    const r = parseProfileText(f.profileJson, '--profile-json');
    if (!r.ok) throw new CliError(r.error.code, r.error.message);
    out.push(r.value);
  }
  return out;
}

/** --learn: CMD runs unrestricted but watched; the profile it needed is written to `out`. */
async function runLearn(command: string[], f: RunFlags, out: string): Promise<number> {
  const { learn } = await import('../sandbox/learn.ts');
  try {
    const r = await learn(flagsToProfile(f), command, out);
    const p = r.profile;
    const n = (k: 'ro' | 'rox' | 'rw' | 'rwx') => p[k]?.length ?? 0;
    process.stderr.write(
      `ward: learned ${terminalSafe(out)}: ${n('ro')} ro, ${n('rox')} rox, ${n('rw')} rw, ${n('rwx')} rwx, ${p['connect-tcp']?.length ?? 0} connect and ${p['bind-tcp']?.length ?? 0} bind port(s)` +
        `${r.unplaced ? `; ${r.unplaced} access(es) relative to a directory fd could not be placed` : ''}` +
        `${r.overflows ? `; the kernel's audit stream overflowed ${r.overflows} time(s), so some accesses may be missing` : ''}. ` +
        `It holds only what this run did; run it confined with: ward run --profile ${terminalSafe(out)} -- ${terminalSafe(command.join(' '))}\n`,
    );
    return r.status;
  } catch (e) {
    if (!(e instanceof WardError)) throw e;
    process.stderr.write(`ward: ${terminalSafe(e.message)}\n`);
    return e.code === 'ENOENT' ? EXIT_NOT_FOUND : EXIT_LAUNCH_FAILED;
  }
}

/**
 * --log-denials (and --explain as root): the sandbox runs in a child ward run while this one
 * reads the audit records; after it exits comes a summary of its denials.
 */
async function runLogged(command: string[], f: RunFlags, raw: readonly string[], flag: '--log-denials' | '--explain'): Promise<number> {
  // Loaded only here: every module costs each plain `ward run` launch time.
  const { openDenialLog, runWithDenialLog } = await import('../sandbox/watch.ts');
  let log;
  try {
    log = openDenialLog(flag);
  } catch (e) {
    if (!(e instanceof WardError)) throw e;
    process.stderr.write(`ward: ${terminalSafe(e.message)}\n`);
    return runSandboxed(command, f);
  }
  // The same command line for the child without --log-denials: its options are what precedes
  // CMD (raw ends with CMD and its arguments, which may contain "--log-denials" themselves).
  const head = raw.slice(0, raw.length - command.length).filter((a) => a !== '--log-denials');
  return runWithDenialLog(log, [...head, ...command], (line) => process.stderr.write(`${terminalSafe(line)}\n`), !!f.logDenials);
}

export function run(command: string[], f: RunFlags, raw: readonly string[]): number | Promise<number> {
  const [cmd] = command;
  if (!cmd) throw new CliError('EINVAL', 'missing the command: ward run [OPTIONS] -- CMD [ARGS…]');
  if (f.logDenials) return runLogged(command, f, raw, '--log-denials');
  if (f.learn) return runLearn(command, f, f.learn);
  // --explain also sums up the run's denials afterwards, when the audit records can be read; not
  // in the child such a run starts (--audit-marker marks it), nor with --dry-run (no run).
  // Nor when fds beyond 0-2 are to reach CMD: the child is given only those three.
  if (f.explain && !f.dryRun && f.auditMarker === undefined) {
    if (f.preserveFds === undefined && process.env.LISTEN_FDS === undefined) return runLogged(command, f, raw, '--explain');
    process.stderr.write('ward: --explain: no summary of denials after the run when fds are passed to CMD (--preserve-fds, LISTEN_FDS)\n');
  }
  return runSandboxed(command, f);
}

function runSandboxed(command: string[], f: RunFlags): number {
  const cmd = command[0]!;
  const keepFds = fdsToKeep(preserveCount(f.preserveFds));
  const profile = mergeProfiles(...loadProfiles(f), flagsToProfile(f));
  let handedOver: NodeJS.ProcessEnv | undefined;
  if (f.envHandover) {
    try {
      handedOver = JSON.parse(process.env[CMD_ENV_VAR] ?? '') as NodeJS.ProcessEnv;
    } catch {
      throw new CliError('EINVAL', `--env-handover needs CMD's environment as a JSON object in ${CMD_ENV_VAR}`);
    }
  }
  let prepared;
  try {
    prepared = prepareSandbox(profile, cmd, handedOver ? { env: handedOver } : {});
  } catch (e) {
    if (!(e instanceof WardError)) throw e;
    process.stderr.write(`ward: ${terminalSafe(e.message)}\n`);
    return e.code === 'ENOENT' && e.message.endsWith('command not found') ? EXIT_NOT_FOUND : EXIT_LAUNCH_FAILED;
  }
  // landrun reads its level from LANDRUN_LOG_LEVEL when --log-level is not given (urfave/cli's
  // env source; the flag wins). landrun takes an unknown level as "error", so only debug matters.
  const logLevel = f.logLevel ?? process.env.LANDRUN_LOG_LEVEL?.toLowerCase();
  if (f.explain || f.dryRun || logLevel === 'debug') {
    process.stderr.write(`${terminalSafe(explainSandbox(prepared, keepFds), '\n')}\n`);
  }
  for (const w of prepared.warnings) process.stderr.write(`ward: warning: ${terminalSafe(w)}\n`);
  if (f.dryRun) return 0;
  try {
    execSandboxed(prepared, command, keepFds, f.auditMarker === undefined ? undefined : Number(f.auditMarker));
  } catch (e) {
    if (!(e instanceof WardError)) throw e;
    process.stderr.write(`ward: ${terminalSafe(e.message)}\n`);
    if (e.code === 'ENOENT') return EXIT_NOT_FOUND;
    return e.code === 'EACCES' || e.code === 'ENOEXEC' ? EXIT_CANNOT_EXECUTE : EXIT_LAUNCH_FAILED;
  }
}
