// `ward check`, `ward securebits`, `ward exec`: argument handling and output only; the work is in
// src/trust (trusted-for.ts, exec.ts).

import type { Command } from 'commander';
import { trustedFor, trustMechanism, type TrustResult } from '../trust/trusted-for.ts';
import { currentExecBits, execWithSecurebits } from '../trust/exec.ts';
import { CliError, EXIT_CANNOT_EXECUTE, EXIT_FAIL, EXIT_LAUNCH_FAILED, EXIT_NOT_FOUND, EXIT_OK, preserveCount, printJson, type Run } from './io.ts';
import { terminalSafe } from '../util/terminal.ts';

interface CheckOptions {
  json?: boolean;
  nofollow?: boolean;
  mechanism?: 'auto' | 'kernel' | 'emulated';
}

function check(paths: string[], opts: CheckOptions): number {
  const mechanism = opts.mechanism ?? 'auto';
  if (!['auto', 'kernel', 'emulated'].includes(mechanism)) throw new CliError('EINVAL', `--mechanism must be auto, kernel or emulated, not "${mechanism}"`);
  if (mechanism === 'kernel' && trustMechanism('auto') !== 'kernel') {
    throw new CliError('ENOSYS', 'this kernel has no AT_EXECVE_CHECK (Linux 6.14+); use --mechanism emulated or auto');
  }
  const results: Array<TrustResult & { path: string }> = paths.map((p) => ({
    path: p,
    ...(p === '-' ? trustedFor(0, 'execution', { mechanism }) : trustedFor(p, 'execution', { mechanism, nofollow: opts.nofollow })),
  }));
  const all = results.every((r) => r.trusted);
  if (opts.json) {
    printJson({ trusted: all, results });
  } else {
    for (const r of results) {
      const name = terminalSafe(r.path === '-' ? '<stdin>' : r.path);
      process.stdout.write(r.trusted ? `${name}: trusted (${r.mechanism})\n` : `${name}: not trusted: ${r.errno}: ${terminalSafe(r.reason)} (${r.mechanism})\n`);
    }
  }
  return all ? EXIT_OK : EXIT_FAIL;
}

function securebits(opts: { json?: boolean }): number {
  const { raw, ...bits } = currentExecBits();
  if (opts.json) {
    printJson({ raw, ...bits });
    return EXIT_OK;
  }
  const line = (name: string, on: boolean, locked: boolean) => `${name.padEnd(30)} ${on ? 'on ' : 'off'}${locked ? ' (locked)' : ''}\n`;
  process.stdout.write(
    line('SECBIT_EXEC_RESTRICT_FILE', bits.restrictFile, bits.restrictFileLocked) +
      line('SECBIT_EXEC_DENY_INTERACTIVE', bits.denyInteractive, bits.denyInteractiveLocked) +
      `securebits                     0x${raw.toString(16)}\n`,
  );
  return EXIT_OK;
}

interface ExecOptions {
  restrictFile?: boolean;
  denyInteractive?: boolean;
  lock?: boolean;
  preserveFds?: string;
  moduleAutoload?: string;
}

async function exec(command: string[], opts: ExecOptions): Promise<number> {
  if (!opts.restrictFile && !opts.denyInteractive && opts.moduleAutoload === undefined) {
    throw new CliError('EINVAL', 'say which bits to set: --restrict-file and/or --deny-interactive (--lock also locks them), or --module-autoload=N');
  }
  if (command.length === 0) throw new CliError('EINVAL', 'missing the command: ward exec [--restrict-file] [--deny-interactive] [--lock] -- CMD [ARGS…]');
  let moduleAutoload: 0 | 1 | 2 | undefined;
  if (opts.moduleAutoload !== undefined) {
    if (!/^[012]$/.test(opts.moduleAutoload)) throw new CliError('EINVAL', `--module-autoload must be 0, 1 or 2, not "${opts.moduleAutoload}"`);
    moduleAutoload = Number(opts.moduleAutoload) as 0 | 1 | 2;
  }
  const failure = await execWithSecurebits(command, { ...opts, moduleAutoload }, preserveCount(opts.preserveFds));
  switch (failure.stage) {
    case 'resolve':
      process.stderr.write(`ward: ${terminalSafe(failure.command)}: command not found\n`);
      return EXIT_NOT_FOUND;
    case 'unsupported':
      process.stderr.write('ward: this kernel has no exec securebits (SECBIT_EXEC_RESTRICT_FILE/SECBIT_EXEC_DENY_INTERACTIVE, Linux 6.14+, with AT_EXECVE_CHECK): nothing would enforce them, so the command was not run; for Node, `ward node --enforce` checks files without them\n');
      return EXIT_LAUNCH_FAILED;
    case 'securebits':
      process.stderr.write(
        `ward: cannot set securebits 0x${failure.wanted.toString(16)} (now 0x${failure.current.toString(16)}): ${failure.code}${failure.code === 'EPERM' ? ': a bit is locked in the other state' : ''}\n`,
      );
      return EXIT_LAUNCH_FAILED;
    case 'autoload':
      process.stderr.write(`ward: cannot set the module autoload level: ${failure.code}: ${terminalSafe(failure.message)}\n`);
      return EXIT_LAUNCH_FAILED;
    case 'execve':
      process.stderr.write(`ward: cannot execute ${terminalSafe(failure.path)}: ${failure.code}\n`);
      return failure.code === 'ENOENT' ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE;
  }
}

export function registerTrustCommands(program: Command, run: Run): void {
  program
    .command('check')
    .description('ask the kernel whether files may be executed (AT_EXECVE_CHECK); exit 0 if all are trusted, 1 if not')
    .argument('<path...>', 'files to check; - checks standard input the way an interpreter must')
    .option('--json', 'print one JSON object')
    .option('--nofollow', 'do not follow a final symbolic link (ELOOP)')
    .option('--mechanism <m>', 'auto (default), kernel, or emulated (the trusted_for policy in user space)', 'auto')
    .action((paths: string[], opts: CheckOptions) => run(() => check(paths, opts), opts.json));

  program
    .command('securebits')
    .description('print the exec securebits of this process (inherited from its parent)')
    .option('--json', 'print one JSON object')
    .action((opts: { json?: boolean }) => run(() => securebits(opts), opts.json));

  program
    .command('exec')
    .description('set exec securebits, then become CMD (it and all it starts inherit them)')
    .option('--restrict-file', 'SECBIT_EXEC_RESTRICT_FILE: interpreters refuse files that fail AT_EXECVE_CHECK')
    .option('--deny-interactive', 'SECBIT_EXEC_DENY_INTERACTIVE: interpreters refuse code not from a checked file')
    .option('--lock', 'also lock the bits being set (they can never be cleared in CMD or its children)')
    .option('--module-autoload <level>', 'ModAutoRestrict level for CMD and its children: 0, 1 (needs CAP_SYS_MODULE) or 2 (never); only rises')
    .option('--preserve-fds <n>', 'pass inherited fds 3..3+n-1 to CMD (LISTEN_FDS is honoured by itself)')
    .argument('<command...>', 'the command and its arguments (after --)')
    .passThroughOptions()
    .addHelpText('after', '\nExit status is CMD\'s own (ward becomes CMD); 125 if the bits could not be set, 126 if CMD cannot be executed, 127 if not found.')
    .action((command: string[], opts: ExecOptions) => run(() => exec(command, opts)));
}
