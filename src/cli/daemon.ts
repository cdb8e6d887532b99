// `ward daemon` and `ward audit`: argument handling and output only.

import type { Command } from 'commander';
import { existsSync, readFileSync, statSync, watch } from 'node:fs';
import { DEFAULTS, loadConfig, type DaemonConfig } from '../enforcer/config.ts';
import { formatRecord, readAuditRecords, type AuditRecord } from '../enforcer/audit.ts';
import { PolicyState } from '../enforcer/state.ts';
import { readCertificates } from '../enforcer/signature.ts';
import { parsePolicy } from '../policy/parser.ts';
import { errorCode } from '../errors.ts';
import { CliError, EXIT_FAIL, EXIT_OK, collect, printJson } from './io.ts';
import type { AsyncRun } from './manage.ts';

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
  permissive?: boolean;
  adminGroup?: string;
  checkConfig?: boolean;
  quiet?: boolean;
  trustedCert: string[];
  requireSigned?: boolean;
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
    enforce: f.permissive ? false : undefined,
    adminGroup: f.adminGroup,
    auditStderr: f.quiet ? false : undefined,
    trustedCerts: f.trustedCert.length > 0 ? f.trustedCert : undefined,
    requireSigned: f.requireSigned,
  };
  const c = loadConfig(f.config, overrides);
  if (!c.ok) throw new CliError(c.error.code, c.error.message);
  return c.value;
}

function checkConfig(config: DaemonConfig, json: boolean): number {
  const problems: string[] = [];
  if (config.bootPolicy) {
    try {
      const r = parsePolicy(readFileSync(config.bootPolicy));
      if (!r.ok) problems.push(`bootPolicy ${config.bootPolicy}:${r.error.line}:${r.error.column}: ${r.error.code}: ${r.error.message}`);
    } catch (e) {
      problems.push(`bootPolicy ${config.bootPolicy}: ${errorCode(e)}`);
    }
  }
  if (config.trustedCerts.length > 0) {
    try {
      readCertificates(config.trustedCerts);
    } catch (e) {
      problems.push(`trustedCerts: ${(e as Error).message}`);
    }
  }
  if (config.requireSigned && config.trustedCerts.length === 0) problems.push('requireSigned is set but no trustedCerts are configured: no policy could ever be loaded');
  if (existsSync(config.stateDir)) {
    const s = PolicyState.open(config.stateDir, { enforce: config.enforce, auditSuccess: config.auditSuccess });
    if (!s.ok) problems.push(s.error.message);
  }
  if (json) printJson({ ok: problems.length === 0, config, problems });
  else {
    process.stdout.write(JSON.stringify(config, null, 2) + '\n');
    for (const p of problems) process.stderr.write(`ward: ${p}\n`);
    if (problems.length === 0) process.stderr.write('configuration ok\n');
  }
  return problems.length === 0 ? EXIT_OK : EXIT_FAIL;
}

async function runDaemon(config: DaemonConfig): Promise<number> {
  if (process.getuid?.() !== 0) throw new CliError('EPERM', 'ward daemon needs root (CAP_SYS_ADMIN for fanotify permission events)', EXIT_FAIL);
  const { Daemon } = await import('../enforcer/daemon.ts');
  // Signal handlers first: a stop request that arrives while starting (e.g. right after READY)
  // must still close the group cleanly rather than kill the process mid-way.
  let signalled: string | undefined;
  let onSignal: ((signal: string) => void) | undefined;
  // `on`, not `once`: a second signal (timeout(1) and systemd may send one to the process and
  // one to its group) must not fall back to the default action and kill us mid-stop.
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.on(sig, () => {
      if (signalled) return;
      signalled = sig;
      onSignal?.(sig);
    });
  }
  let daemon;
  try {
    daemon = new Daemon(config);
    await daemon.start();
  } catch (e) {
    throw new CliError(errorCode(e), (e as Error).message, EXIT_FAIL);
  }
  const d = daemon;
  return new Promise<number>((resolve) => {
    onSignal = (signal: string) => {
      process.stderr.write(`ward daemon: ${signal}: stopping (fanotify allows everything once the group is closed)\n`);
      d.stop().then(() => resolve(EXIT_OK), () => resolve(EXIT_FAIL));
    };
    if (signalled) onSignal(signalled);
  });
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

export function registerDaemonCommands(program: Command, run: AsyncRun): void {
  program
    .command('daemon')
    .description('enforce IPE policies on every exec of this host from user space (fanotify); needs root')
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
    .option('--permissive', 'start permissive: audit denials, allow everything (ward enforce on to switch)')
    .option('--admin-group <group>', 'group whose members may manage policies besides root')
    .option('--quiet', 'do not copy audit records to stderr')
    .option('--trusted-cert <pem>', 'a certificate whose signatures on policies are trusted (repeatable)', collect, [])
    .option('--require-signed', 'accept only policies signed by a trusted certificate')
    .option('--check-config', 'validate the configuration and the boot policy, print the effective configuration, exit')
    .option('--json', 'with --check-config: print one JSON object')
    .action((f: DaemonFlags & { json?: boolean }) =>
      run(async () => {
        const config = configFrom(f);
        return f.checkConfig ? checkConfig(config, f.json ?? false) : runDaemon(config);
      }),
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
        if (!existsSync(path)) throw new CliError('ENOENT', `no audit log at ${path} (is ward daemon running? see --log)`, EXIT_FAIL);
        const records = readAuditRecords(path);
        show(records.slice(-n), f.json ?? false);
        if (!f.follow) return EXIT_OK;
        let offset = statSync(path).size;
        return new Promise<number>(() => {
          watch(path, () => {
            const size = statSync(path).size;
            if (size < offset) offset = 0; // rotated
            const text = readFileSync(path).subarray(offset).toString('utf8');
            offset = size;
            for (const line of text.split('\n')) if (line) show([JSON.parse(line) as AuditRecord], f.json ?? false);
          });
        });
      }),
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
        const path = auditPath(f);
        if (!existsSync(path)) throw new CliError('ENOENT', `no audit log at ${path} (see --log)`, EXIT_FAIL);
        const records = readAuditRecords(path).filter((r) => Date.parse(r.time) >= since && (!f.denied || (r.type === 'IPE_ACCESS' && r.decision === 'DENY')));
        show(records, f.json ?? false);
        return EXIT_OK;
      }),
    );
}
