// The fast entry for `ward run` (bin/ward.js calls it when "run" is the first argument): the
// arguments are parsed from run-options.ts's table and the action runs without loading
// commander, main.ts or any other command group — ~20 ms less start-up on every launch, which
// is the whole cost of a sandbox launch. Returns undefined when the parse is not one it is sure
// of (help, a usage error, an unusual form): bin/ward.js then runs the full CLI, whose commander
// parse gives the same outcome for the forms parsed here and the only messages for the rest.

import { reportError } from './io.ts';
import { run, type RunFlags } from './run-action.ts';
import { parseRunArgs } from './run-options.ts';

export async function runFast(argv: readonly string[]): Promise<number | undefined> {
  if (argv[0] !== 'run') return undefined;
  const parsed = parseRunArgs(argv.slice(1));
  if (!parsed) return undefined;
  try {
    return await run(parsed.command, parsed.flags as unknown as RunFlags, argv.slice(1));
  } catch (e) {
    return reportError(e);
  }
}
