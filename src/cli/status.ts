// `ward status`: output only; what the machine offers is found in src/system/status.ts.

import type { Command } from 'commander';
import { machineStatus } from '../system/status.ts';
import { EXIT_OK, printJson, type Run } from './io.ts';
import { terminalSafe } from '../util/terminal.ts';

function status(opts: { json?: boolean }): number {
  const items = machineStatus();
  if (opts.json) {
    printJson({ items });
    return EXIT_OK;
  }
  const width = Math.max(...items.map((i) => i.name.length));
  const mark = (u: boolean | 'partial') => (u === true ? '+' : u === 'partial' ? '~' : '-');
  for (const i of items) process.stdout.write(`${mark(i.usable)} ${i.name.padEnd(width)}  ${terminalSafe(String(i.value))}${i.source ? ` (${terminalSafe(i.source)})` : ''}\n    ${i.meaning}\n`);
  process.stdout.write('\n+ usable   ~ usable with limits   - not available\n');
  return EXIT_OK;
}

export function registerStatusCommand(program: Command, run: Run): void {
  program
    .command('status')
    .description('what this machine offers (Landlock, AT_EXECVE_CHECK, securebits, fanotify, IPE, verity…) and what ward can do with it')
    .option('--json', 'print one JSON object')
    .action((opts: { json?: boolean }) => run(() => status(opts), opts.json));
}
