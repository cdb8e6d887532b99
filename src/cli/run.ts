// `ward run`: the commander command (help, usage errors). The options are run-options.ts's
// table, the action is run-action.ts; a plain `ward run` skips this module (see run-fast.ts).

import { Option, type Command } from 'commander';
import type { Run } from './io.ts';
import { run, type RunFlags } from './run-action.ts';
import { COLLECTORS, RUN_OPTIONS } from './run-options.ts';

export function registerRunCommand(program: Command, runner: Run): void {
  const command = program
    .command('run')
    .description('run CMD in a Landlock sandbox: only the listed files and ports, no signals or abstract sockets out');
  for (const o of RUN_OPTIONS) {
    const option = new Option(o.flags, o.description).hideHelp(o.hidden === true);
    if (o.choices) option.choices(o.choices);
    if (o.kind === 'list' || o.kind === 'port' || o.kind === 'collect') option.argParser(COLLECTORS[o.kind] as (v: string, prev: unknown) => unknown).default([]);
    command.addOption(option);
  }
  command
    .argument('<command...>', 'the command and its arguments (after --)')
    .passThroughOptions()
    .addHelpText(
      'after',
      "\nStrict by default. CMD's exit status and signals are its own (ward becomes CMD); 125 if the sandbox could not be set up, 126 if CMD cannot be executed in it, 127 if not found.",
    )
    .action((command: string[], flags: RunFlags, cmd: Command) => {
      const raw = (cmd.parent as unknown as { rawArgs?: string[] } | null)?.rawArgs ?? [];
      // rawArgs starts with "run" (and whatever came before it).
      runner(() => run(command, flags, raw.slice(raw.indexOf('run') + 1)));
    });
}
