// `ward node [node options] app.js [args]`: starts Node with ward's preload first (through
// NODE_OPTIONS, so child Node processes and workers get it too), V8's
// --disallow-code-generation-from-strings when SECBIT_EXEC_DENY_INTERACTIVE is set, and the module
// autoload level. Becomes Node (exec), so exit status and signals are Node's own.

import type { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { decodeExecBits, getSecurebits } from '../kernel/securebits.ts';
import { replaceProcess } from '../kernel/process.ts';
import { errorCode } from '../errors.ts';
import { CliError, EXIT_CANNOT_EXECUTE } from './io.ts';

export const PRELOAD = fileURLToPath(new URL('../../bin/ward-node-preload.cjs', import.meta.url));

function quoteNodeOption(v: string): string {
  return /[\s"\\]/.test(v) ? `"${v.replace(/(["\\])/g, '\\$1')}"` : v;
}

export function nodeEnvironment(base: NodeJS.ProcessEnv, opts: { audit?: boolean; enforce?: boolean; moduleAutoload?: number; denyInteractive: boolean }): NodeJS.ProcessEnv {
  const env = { ...base };
  const parts = [`--require=${quoteNodeOption(PRELOAD)}`];
  if (opts.denyInteractive || opts.enforce) parts.push('--disallow-code-generation-from-strings');
  const existing = (env.NODE_OPTIONS ?? '').trim();
  env.NODE_OPTIONS = existing.includes(PRELOAD) ? existing : [...parts, existing].filter(Boolean).join(' ');
  if (opts.audit) env.WARD_NODE_AUDIT = '1';
  if (opts.enforce) env.WARD_NODE_ENFORCE = '1';
  if (opts.moduleAutoload !== undefined) env.WARD_NODE_AUTOLOAD_AT_ENTRY = String(opts.moduleAutoload);
  return env;
}

function runNode(args: string[], opts: { audit?: boolean; enforce?: boolean; moduleAutoload?: string }): number {
  let level: number | undefined;
  if (opts.moduleAutoload !== undefined) {
    if (!/^[012]$/.test(opts.moduleAutoload)) throw new CliError('EINVAL', `--module-autoload takes 0, 1 or 2, got "${opts.moduleAutoload}"`);
    level = Number(opts.moduleAutoload);
  }
  const bits = decodeExecBits(getSecurebits());
  // WARD_NODE_ENFORCE=1 in the environment enforces as much as --enforce does.
  const enforce = opts.enforce || process.env.WARD_NODE_ENFORCE === '1';
  const env = nodeEnvironment(process.env, { audit: opts.audit, enforce, moduleAutoload: level, denyInteractive: bits.denyInteractive });
  try {
    replaceProcess(process.execPath, [process.execPath, ...args], env);
  } catch (e) {
    process.stderr.write(`ward: cannot start node: ${errorCode(e)}\n`);
    return EXIT_CANNOT_EXECUTE;
  }
}

export function registerNodeCommand(program: Command, run: (fn: () => number | Promise<number>) => void): void {
  program
    .command('node')
    .description('run Node.js enlightened: every file of code checked with AT_EXECVE_CHECK, no code from nowhere under the exec securebits, optional frozen module graph')
    .option('--audit', 'log failed checks that are not enforced (JSON lines on stderr)')
    .option('--enforce', 'enforce as if both exec securebits were set (for hosts without them; can only add checks)')
    .option('--module-autoload <level>', 'restrict module loading once the entry module has loaded: 1 allow-list only, 2 nothing new')
    .argument('[args...]', 'node options, the script and its arguments')
    .passThroughOptions()
    .allowUnknownOption()
    .addHelpText('after', '\nExamples:\n  ward node app.js\n  ward exec --restrict-file --deny-interactive -- ward node app.js\n  ward node --module-autoload=2 server.js')
    .action((args: string[], opts: { audit?: boolean; enforce?: boolean; moduleAutoload?: string }) => run(() => runNode(args, opts)));
}
