// What commander makes of `ward run ARGS` — the oracle the fast `ward run` parser
// (src/cli/run-options.ts) is compared with: the command and opts(), or the error code it stops with.

import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.ts';

export type CommanderResult = { command: string[]; flags: Record<string, unknown> } | { error: string };

export async function commanderParse(args: string[]): Promise<CommanderResult> {
  const program = await buildProgram(() => {}, 'run');
  const run = program.commands.find((c) => c.name() === 'run') as Command;
  run.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  let got: { command: string[]; flags: Record<string, unknown> } | undefined;
  run.action((command: string[], flags: Record<string, unknown>) => {
    got = { command, flags: { ...flags } };
  });
  try {
    await program.parseAsync(['run', ...args], { from: 'user' });
  } catch (e) {
    return { error: (e as { code?: string }).code ?? String(e) };
  }
  return got ?? { error: 'no action' };
}
