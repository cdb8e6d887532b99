// `ward node [options] [node options] app.js [args]`: parses and prints; the launch (the preload,
// its variables and flags) is src/node/launch.ts.

import type { Command } from 'commander';
import { launchNode } from '../node/launch.ts';
import { CliError, EXIT_CANNOT_EXECUTE } from './io.ts';

interface NodeOpts {
  audit?: boolean;
  enforce?: boolean;
  denyCodegen?: boolean;
  moduleAutoload?: string;
}

function runNode(args: string[], opts: NodeOpts): number {
  let level: number | undefined;
  if (opts.moduleAutoload !== undefined) {
    if (!/^[012]$/.test(opts.moduleAutoload)) throw new CliError('EINVAL', `--module-autoload takes 0, 1 or 2, got "${opts.moduleAutoload}"`);
    level = Number(opts.moduleAutoload);
  }
  try {
    launchNode(args, { audit: opts.audit, enforce: opts.enforce, denyCodegen: opts.denyCodegen, moduleAutoload: level });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    process.stderr.write(`ward: cannot start node: ${typeof code === 'string' ? code : String(e)}\n`);
    return EXIT_CANNOT_EXECUTE;
  }
}

export function registerNodeCommand(program: Command, run: (fn: () => number | Promise<number>) => void): void {
  program
    .command('node')
    .description('run Node.js enlightened: every file of code checked with AT_EXECVE_CHECK, no code from nowhere under the exec securebits, optional frozen module graph')
    .option('--audit', 'log failed checks that are not enforced (JSON lines on stderr)')
    .option('--enforce', 'enforce as if both exec securebits were set (for hosts without them; can only add checks)')
    .option('--deny-codegen', 'also refuse code generated from strings or bytes (eval, new Function, node:vm, WebAssembly from bytes, loader-invented source)')
    .option('--module-autoload <level>', 'restrict module loading once the entry module has loaded: 1 allow-list only, 2 nothing new')
    .argument('[args...]', 'node options, the script and its arguments')
    .passThroughOptions()
    .allowUnknownOption()
    .addHelpText('after', '\nExamples:\n  ward node app.js\n  ward exec --restrict-file --deny-interactive -- ward node app.js\n  ward node --deny-codegen app.js\n  ward node --module-autoload=2 server.js')
    .action((args: string[], opts: NodeOpts) => run(() => runNode(args, opts)));
}
