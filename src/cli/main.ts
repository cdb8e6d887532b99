// The ward command line: parses arguments (commander), calls the library, prints.
// Exit status: 0 success, 1 a negative answer (invalid policy, DENY…), 2 usage or input errors.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CliError, EXIT_USAGE } from './io.ts';
import { registerPolicyCommands } from './policy.ts';
import { registerTrustCommands } from './trust.ts';
import { registerFileCommands } from './files.ts';
import { registerRunCommand } from './run.ts';
import { WardError } from '../errors.ts';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('ward');
  program
    .description('ward: decide what code may run on a Linux host (IPE policies, AT_EXECVE_CHECK, Landlock)')
    .version(packageVersion(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str.startsWith('error:') ? `ward: ${str}` : str) });

  const run = (fn: () => number): void => setExit(fn());
  program.enablePositionalOptions();
  registerPolicyCommands(program, run);
  registerTrustCommands(program, run);
  registerFileCommands(program, run);
  registerRunCommand(program, run);
  program.commands.forEach(function harden(c: Command): void {
    c.exitOverride().showSuggestionAfterError(true);
    c.commands.forEach(harden);
  });
  return program;
}

export function main(argv: readonly string[]): number {
  // `ward … | head`: a closed pipe ends the output quietly, as for other CLI tools.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  let code = 0;
  const program = buildProgram((c) => (code = c));
  try {
    program.parse(argv as string[], { from: 'user' });
    return code;
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
