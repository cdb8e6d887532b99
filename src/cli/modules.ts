// `ward modules autoload`: ModAutoRestrict levels (BPF LSM, bpf/modauto.bpf.c). Arguments and
// output only.

import type { Command } from 'commander';
import { modautoState, setGlobalModuleAutoload, ensureModauto } from '../enforcer/bpf-modauto.ts';
import { CliError, EXIT_OK, printJson, type Run } from './io.ts';
import { terminalSafe } from '../util/terminal.ts';

const MEANING = ['no restriction', 'auto-loading needs CAP_SYS_MODULE (CAP_NET_ADMIN for netdev-*)', 'no auto-loading (final)'];

export function parseLevel(text: string, what: string): number {
  if (!/^[012]$/.test(text)) throw new CliError('EINVAL', `${what} must be 0, 1 or 2, not "${text}"`);
  return Number(text);
}

function autoload(opts: { global?: string; json?: boolean; pid?: string }): number {
  if (opts.pid !== undefined && !/^[1-9][0-9]*$/.test(opts.pid)) throw new CliError('EINVAL', `--pid must be a process id, not "${opts.pid}"`);
  if (opts.global !== undefined) setGlobalModuleAutoload(parseLevel(opts.global, '--global'));
  else if (process.getuid?.() === 0) ensureModauto();
  const s = modautoState(opts.pid === undefined ? process.pid : Number(opts.pid));
  if (opts.json) {
    printJson(s);
    return EXIT_OK;
  }
  if (!s.loaded) {
    process.stdout.write('ModAutoRestrict: not loaded (run ward modules autoload as root)\n');
    return EXIT_OK;
  }
  process.stdout.write(`global level   ${s.global}: ${MEANING[s.global]}\n`);
  process.stdout.write(`level of ${String(s.pid).padEnd(6)}${s.task}: ${MEANING[s.task]}\n`);
  process.stdout.write(`denials        ${s.denials}\n`);
  for (const d of s.recent) process.stdout.write(`  #${d.seq} ${terminalSafe(d.module) || '(name unreadable)'} pid ${d.tgid} ${terminalSafe(d.comm)} (${d.scope} level ${d.level})\n`);
  return EXIT_OK;
}

export function registerModuleCommands(program: Command, run: Run): void {
  const modules = program.command('modules').description('kernel module controls (BPF LSM)');
  modules
    .command('autoload')
    .description('ModAutoRestrict: show (or, with --global, set) the automatic module loading levels; loads the programs once as root')
    .option('--global <level>', 'set the global level: 0 none, 1 needs CAP_SYS_MODULE, 2 never (final)')
    .option('--pid <pid>', 'show this process\'s level (default: ward\'s own, inherited from its parent)')
    .option('--json', 'print one JSON object')
    .action((opts: { global?: string; json?: boolean; pid?: string }) => run(() => autoload(opts), opts.json));
}
