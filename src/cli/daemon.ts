// `ward daemon` and `ward audit`: argument handling and output only.

import { WardError, errorCode } from '../errors.ts';
import type { Command } from 'commander';
import { DEFAULTS, loadConfig, type DaemonConfig } from '../enforcer/config.ts';
import { formatRecord, type AuditRecord } from '../enforcer/audit.ts';
import { checkAuditPath, followAudit, readAuditRecords } from '../enforcer/audit-log.ts';
import { configProblems } from '../enforcer/check.ts';
import { terminalSafe } from '../util/terminal.ts';
import { parseBackendChoice, parseFailureMode } from '../enforcer/select-backend.ts';
import { CliError, EXIT_FAIL, EXIT_OK, EXIT_USAGE, collect, printJson, type Run } from './io.ts';

interface DaemonFlags {
  config?: string;
  stateDir?: string;
  socket?: string;
  auditLog?: string;
  bootPolicy?: string;
  mount: string[];
  filesystems?: string;
  libraries?: boolean;
  workers?: string;
  queueLimit?: string;
  decisionTimeout?: string;
  permissive?: boolean;
  adminGroup?: string;
  checkConfig?: boolean;
  quiet?: boolean;
  trustedCert: string[];
  requireSigned?: boolean;
  backend?: string;
  failureMode?: string;
  ipeSigningKey?: string;
  ipeSigningCert?: string;
}


function positive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new CliError('EINVAL', `${name} takes a positive integer, got "${v}"`);
  return Number(v);
}

function configFrom(f: DaemonFlags): DaemonConfig {
  const overrides: Partial<DaemonConfig> = {
    stateDir: f.stateDir,
    socket: f.socket,
    auditLog: f.auditLog,
    bootPolicy: f.bootPolicy,
    mounts: f.mount.length > 0 ? f.mount : undefined,
    filesystems: f.filesystems?.split(',').filter(Boolean),
    libraries: f.libraries,
    workers: positive('--workers', f.workers),
    queueLimit: positive('--queue-limit', f.queueLimit),
    decisionTimeoutMs: positive('--decision-timeout', f.decisionTimeout),
    enforce: f.permissive ? false : undefined,
    adminGroup: f.adminGroup,
    auditStderr: f.quiet ? false : undefined,
    trustedCerts: f.trustedCert.length > 0 ? f.trustedCert : undefined,
    requireSigned: f.requireSigned,
    backend: f.backend === undefined ? undefined : parseBackendChoice(f.backend),
    failureMode: f.failureMode === undefined ? undefined : parseFailureMode(f.failureMode),
    ipeSigningKey: f.ipeSigningKey,
    ipeSigningCert: f.ipeSigningCert,
  };
  const c = loadConfig(f.config, overrides);
  if (!c.ok) throw new CliError(c.error.code, c.error.message);
  return c.value;
}

function checkConfig(config: DaemonConfig, json: boolean): number {
  const problems = configProblems(config);
  if (json) printJson({ ok: problems.length === 0, config, problems });
  else {
    process.stdout.write(JSON.stringify(config, null, 2) + '\n');
    for (const p of problems) process.stderr.write(`ward: ${terminalSafe(p)}\n`);
    if (problems.length === 0) process.stderr.write('configuration ok\n');
  }
  return problems.length === 0 ? EXIT_OK : EXIT_FAIL;
}

async function runDaemon(config: DaemonConfig, f: DaemonFlags): Promise<number> {
  if (process.getuid?.() !== 0) throw new CliError('EPERM', 'ward daemon needs root (CAP_SYS_ADMIN for fanotify permission events; CAP_BPF and CAP_SYS_ADMIN for BPF LSM programs)', EXIT_FAIL);
  const { runService } = await import('../enforcer/service.ts');
  const log = (m: string) => process.stderr.write(`ward daemon: ${terminalSafe(m)}\n`);
  try {
    return await runService(config, { reloadConfig: () => configFrom(f), log });
  } catch (e) {
    throw new CliError(errorCode(e), (e as Error).message, EXIT_FAIL);
  }
}

/**
 * --check-config --json: a configuration that cannot be read is reported as JSON too, in the
 * shape of a check (config, problems) and of every other --json error (errno, message).
 */
async function jsonConfig(f: DaemonFlags): Promise<DaemonConfig | undefined> {
  try {
    return configFrom(f);
  } catch (e) {
    if (!(e instanceof WardError)) throw e;
    printJson({ ok: false, config: null, problems: [e.message], errno: e.code, message: e.message });
    return undefined;
  }
}

function parseSince(v: string): number {
  const rel = /^(\d+)\s*([smhd])$/.exec(v);
  if (rel) return Date.now() - Number(rel[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[rel[2] as 's']!;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new CliError('EINVAL', `--since takes a time (2026-11-23T10:00:00Z) or an age (30m, 2h, 1d), got "${v}"`);
  return t;
}

function auditPath(f: { log?: string; config?: string }): string {
  if (f.log) return f.log;
  const c = loadConfig(f.config);
  return c.ok ? c.value.auditLog : DEFAULTS.auditLog;
}

function show(records: AuditRecord[], json: boolean): void {
  for (const r of records) process.stdout.write(json ? JSON.stringify(r) + '\n' : formatRecord(r) + '\n');
}

function readRecords(path: string): AuditRecord[] {
  try {
    checkAuditPath(path);
    return readAuditRecords(path);
  } catch (e) {
    throw new CliError(errorCode(e), (e as Error).message, EXIT_FAIL);
  }
}

export function registerDaemonCommands(program: Command, run: Run): void {
  program
    .command('daemon')
    .description('enforce IPE policies on this host: fanotify from user space, BPF LSM programs at IPE\'s hooks, or the kernel\'s own IPE (--backend); needs root')
    .option('--config <file>', 'configuration file (default /etc/ward/daemon.json if it exists)')
    .option('--state-dir <dir>', `where policies persist (default ${DEFAULTS.stateDir})`)
    .option('--socket <path>', `control socket (default ${DEFAULTS.socket})`)
    .option('--audit-log <file>', `audit log (default ${DEFAULTS.auditLog})`)
    .option('--boot-policy <file>', 'policy active before the first exec is decided (when none is active yet)')
    .option('--mount <path>', 'watch exactly this mount point (repeatable) instead of every local filesystem', collect, [])
    .option('--filesystems <list>', `filesystem types to watch (default ${DEFAULTS.filesystems.join(',')})`)
    .option('--libraries', 'also decide shared objects opened by ld.so and dlopen (every open on watched mounts becomes an event)')
    .option('--workers <n>', `event-reading threads (default ${DEFAULTS.workers})`)
    .option('--queue-limit <n>', `events read at once beyond which answers follow the mode (default ${DEFAULTS.queueLimit})`)
    .option('--decision-timeout <ms>', `a decision not made by then (e.g. hashing a huge file) is answered by mode: DENY when enforcing (default ${DEFAULTS.decisionTimeoutMs})`)
    .option('--permissive', 'start permissive: audit denials, allow everything (ward enforce on to switch)')
    .option('--admin-group <group>', 'group whose members may manage policies besides root')
    .option('--quiet', 'do not copy audit records to stderr')
    .option('--trusted-cert <pem>', 'a certificate whose signatures on policies are trusted (repeatable)', collect, [])
    .option('--require-signed', 'accept only policies signed by a trusted certificate')
    .option('--backend <name>', 'auto (the kernel\'s IPE where it has one and a signing key is set, else BPF LSM where the kernel accepts LSM programs, else fanotify), ipe, bpf or fanotify (default fanotify: the BPF backend covers only files under --mount, see docs/bpf.md)')
    .option('--ipe-signing-key <pem>', 'backend ipe: RSA key that signs policies for the kernel (with --ipe-signing-cert)')
    .option('--ipe-signing-cert <pem>', 'backend ipe: its certificate, trusted by the kernel\'s secondary or platform keyring')
    .option('--failure-mode <mode>', 'open: enforcement ends with the daemon; closed: the BPF programs stay pinned and keep enforcing (needs bpf) (default open)')
    .option('--check-config', 'validate the configuration and the boot policy, print the effective configuration, exit')
    .option('--json', 'with --check-config: print one JSON object')
    .action((f: DaemonFlags & { json?: boolean }) =>
      run(async () => {
        const config = f.checkConfig && f.json ? await jsonConfig(f) : configFrom(f);
        if (config === undefined) return EXIT_USAGE;
        return f.checkConfig ? checkConfig(config, f.json ?? false) : runDaemon(config, f);
      }, f.checkConfig && f.json),
    );

  const audit = program.command('audit').description('read ward daemon\'s audit log');
  audit
    .command('tail')
    .description('print the last records; --follow waits for more')
    .option('-n, --lines <n>', 'how many records', '20')
    .option('-f, --follow', 'keep printing new records')
    .option('--log <file>', `audit log (default from the config, ${DEFAULTS.auditLog})`)
    .option('--config <file>', 'daemon configuration file')
    .option('--json', 'print the records as JSON lines')
    .action((f: { lines: string; follow?: boolean; log?: string; config?: string; json?: boolean }) =>
      run(async () => {
        const path = auditPath(f);
        const n = positive('--lines', f.lines) ?? 20;
        show(readRecords(path).slice(-n), f.json ?? false);
        if (!f.follow) return EXIT_OK;
        return new Promise<number>((resolve) => {
          followAudit(path, (r) => show([r], f.json ?? false), (e) => {
            // --json: a failure that ends the command is a JSON line too, after the records
            // (a record that does not parse, EBADMSG, is skipped with a word on stderr).
            if (f.json && e.code !== 'EBADMSG') printJson({ ok: false, errno: e.code, message: e.message });
            else process.stderr.write(`ward: ${e.code}: ${terminalSafe(e.message)}\n`);
            if (e.code !== 'EBADMSG') resolve(EXIT_FAIL);
          });
        });
      }, f.json),
    );
  audit
    .command('show')
    .description('print records since a time, oldest first (rotated files included)')
    .requiredOption('--since <time>', 'an ISO time or an age: 30m, 2h, 1d')
    .option('--log <file>', `audit log (default from the config, ${DEFAULTS.auditLog})`)
    .option('--config <file>', 'daemon configuration file')
    .option('--denied', 'only denied decisions')
    .option('--json', 'print the records as JSON lines')
    .action((f: { since: string; log?: string; config?: string; denied?: boolean; json?: boolean }) =>
      run(async () => {
        const since = parseSince(f.since);
        const records = readRecords(auditPath(f)).filter((r) => Date.parse(r.time) >= since && (!f.denied || (r.type === 'IPE_ACCESS' && r.decision === 'DENY')));
        show(records, f.json ?? false);
        return EXIT_OK;
      }, f.json),
    );
}
