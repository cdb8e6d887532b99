// `ward node [options] [node options] app.js [args]`: parses and prints; the launch (the preload,
// its variables and flags) is src/node/launch.ts.

import type { Command } from 'commander';
import { launchNode } from '../node/launcher.ts';
import { trustTree, type TrustReport } from '../node/trust.ts';
import { errorCode, WardError } from '../errors.ts';
import { CliError, EXIT_CANNOT_EXECUTE, printJson, type Run } from './io.ts';
import { terminalSafe } from '../util/terminal.ts';

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
    process.stderr.write(`ward: cannot start node: ${e instanceof WardError ? terminalSafe(e.message) : errorCode(e)}\n`);
    return EXIT_CANNOT_EXECUTE;
  }
}

function printTrust(r: TrustReport, json: boolean): number {
  if (json) printJson(r);
  else {
    const verb = r.dryRun ? 'would set' : 'set';
    process.stdout.write(`${terminalSafe(r.dir)}: ${r.files} files, ${r.code} that Node loads as code: ${verb} the execute bit on ${r.changed}, ${r.alreadyExecutable} already executable\n`);
    for (const e of r.errors) process.stderr.write(`ward node trust: ${terminalSafe(e.path)}: ${e.code}\n`);
  }
  return r.errors.length ? 1 : 0;
}

export function registerNodeCommand(program: Command, run: Run): void {
  const node = program.command('node');
  node
    .command('trust')
    .description("set the execute bit on the files of DIR that Node loads as code (.js .mjs .cjs .json .node .wasm .ts .mts .cts, node #! scripts, wasm), and on nothing else, so they pass AT_EXECVE_CHECK; a script named trust runs as `ward node ./trust`")
    .argument('<dir>', 'the project directory (node_modules included)')
    .option('--dry-run', 'report what would change, change nothing')
    .option('--json', 'print one JSON object')
    .action((dir: string, opts: { dryRun?: boolean; json?: boolean }) => run(() => printTrust(trustTree(dir, { dryRun: opts.dryRun }), !!opts.json), opts.json));
  node
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
