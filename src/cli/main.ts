// The ward command line: parses arguments (commander), calls the library, prints.
// Exit status: 0 success, 1 a negative answer (invalid policy, DENY…), 2 usage or input errors.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CliError, EXIT_USAGE } from './io.ts';
type Register = (program: Command, run: (fn: () => number | Promise<number>) => void) => void;

// Each command group is imported only when needed, so `ward run` and `ward exec` do not load the
// policy engine (start-up time is paid on every launch).
const GROUPS: Record<string, () => Promise<Register>> = {
  policy: async () => (await import('./policy.ts')).registerPolicyCommands,
  trust: async () => (await import('./trust.ts')).registerTrustCommands,
  files: async () => (await import('./files.ts')).registerFileCommands,
  run: async () => (await import('./run.ts')).registerRunCommand,
  daemon: async () => (await import('./daemon.ts')).registerDaemonCommands,
  node: async () => (await import('./node.ts')).registerNodeCommand,
  modules: async () => (await import('./modules.ts')).registerModuleCommands,
};
const GROUP_OF: Record<string, string> = { policy: 'policy', check: 'trust', securebits: 'trust', exec: 'trust', digest: 'files', status: 'files', run: 'run', daemon: 'daemon', audit: 'daemon', enforce: 'policy', 'audit-success': 'policy', 'daemon-status': 'policy', node: 'node', modules: 'modules' };
import { WardError } from '../errors.ts';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function buildProgram(setExit: (pending: Promise<number>) => void, only?: string): Promise<Command> {
  const program = new Command('ward');
  program
    .description('ward: decide what code may run on a Linux host (IPE policies, AT_EXECVE_CHECK, Landlock)')
    .version(packageVersion(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str.startsWith('error:') ? `ward: ${str}` : str) });

  const run = (fn: () => number | Promise<number>): void => setExit(Promise.resolve().then(fn));
  program.enablePositionalOptions();
  const groups = only ? [only] : Object.keys(GROUPS);
  for (const g of groups) (await GROUPS[g]!())(program, run);
  program.commands.forEach(function harden(c: Command): void {
    c.exitOverride().showSuggestionAfterError(true);
    c.commands.forEach(harden);
  });
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  // `ward … | head`: a closed pipe ends the output quietly, as for other CLI tools.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  let pending: Promise<number> = Promise.resolve(0);
  const first = argv.find((a) => !a.startsWith('-'));
  const program = await buildProgram((p) => (pending = p), first === undefined ? undefined : GROUP_OF[first]);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return await pending;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    if (e instanceof CliError) {
      process.stderr.write(e.preformatted ? `${e.message}\n` : `ward: ${e.code}: ${e.message}\n`);
      return e.exitCode;
    }
    if (e instanceof WardError) {
      process.stderr.write(`ward: ${e.code}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
