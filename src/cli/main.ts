// The ward command line: parses arguments (commander), calls the library, prints.
// Exit status: 0 success, 1 a negative answer (invalid policy, DENY…), 2 usage or input errors.

import { Command, CommanderError } from 'commander';
import { EXIT_USAGE, printJson, reportError, reportJsonError, type Run } from './io.ts';
import { terminalSafe } from '../util/terminal.ts';
import { wardVersion } from '../util/version.ts';
import { errorCode } from '../errors.ts';

export type Register = (program: Command, run: Run) => void;

/**
 * The command groups: the top-level commands each registers, and how to load it. A group is
 * imported only when one of its commands runs, so `ward run` and `ward exec` do not load the
 * policy engine (start-up time is paid on every launch). test/cli/main.test.ts checks that each
 * group registers exactly the commands listed here.
 */
export const GROUPS = {
  policy: { commands: ['policy', 'enforce', 'audit-success', 'daemon-status'], load: async () => (await import('./policy.ts')).registerPolicyCommands },
  trust: { commands: ['check', 'securebits', 'exec'], load: async () => (await import('./trust.ts')).registerTrustCommands },
  trustdb: { commands: ['trust'], load: async () => (await import('./trustdb.ts')).registerTrustDbCommands },
  digest: { commands: ['digest'], load: async () => (await import('./digest.ts')).registerDigestCommand },
  status: { commands: ['status'], load: async () => (await import('./status.ts')).registerStatusCommand },
  run: { commands: ['run'], load: async () => (await import('./run.ts')).registerRunCommand },
  daemon: { commands: ['daemon', 'audit'], load: async () => (await import('./daemon.ts')).registerDaemonCommands },
  node: { commands: ['node'], load: async () => (await import('./node.ts')).registerNodeCommand },
  modules: { commands: ['modules'], load: async () => (await import('./modules.ts')).registerModuleCommands },
} satisfies Record<string, { commands: readonly string[]; load: () => Promise<Register> }>;

export type GroupName = keyof typeof GROUPS;

/** Command name → its group, derived from GROUPS. */
export const GROUP_OF: ReadonlyMap<string, GroupName> = new Map(
  (Object.entries(GROUPS) as Array<[GroupName, { commands: readonly string[] }]>).flatMap(([g, { commands }]) => commands.map((c) => [c, g] as const)),
);

/**
 * Whether argv asks for --json of a command that takes it (the command found by following argv's
 * words down the subcommands): commander's own usage errors are then reported as JSON too.
 */
function wantsJson(program: Command, argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  const args = end < 0 ? argv : argv.slice(0, end);
  if (!args.includes('--json')) return false;
  let cmd = program;
  for (const a of args) {
    if (a.startsWith('-')) continue;
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    cmd = sub;
  }
  return cmd.options.some((o) => o.long === '--json');
}

/** The command line being run, and commander's usage errors when they are to be JSON. */
export interface Usage {
  argv: readonly string[];
  json: boolean;
  errors: string[];
}

export async function buildProgram(setExit: (pending: Promise<number>) => void, only?: GroupName, usage: Usage = { argv: [], json: false, errors: [] }): Promise<Command> {
  const program = new Command('ward');
  program
    .description('ward: decide what code may run on a Linux host (IPE policies, AT_EXECVE_CHECK, Landlock)')
    .version(wardVersion(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    // Commander quotes the arguments it rejects: escaped like every other message. With --json
    // the message becomes the JSON report instead (main prints it).
    .configureOutput({
      outputError: (str, write) => {
        if (usage.json) usage.errors.push(str.replace(/^error: /, '').trim());
        else write(terminalSafe(str.startsWith('error:') ? `ward: ${str}` : str, '\n'));
      },
    });

  const run: Run = (fn, jsonErrors = false) => setExit(Promise.resolve().then(fn).catch((e: unknown) => (jsonErrors ? reportJsonError(e) : Promise.reject(e))));
  program.enablePositionalOptions();
  const groups = only ? [only] : (Object.keys(GROUPS) as GroupName[]);
  for (const g of groups) (await GROUPS[g].load())(program, run);
  program.commands.forEach(function harden(c: Command): void {
    c.exitOverride().showSuggestionAfterError(true);
    c.commands.forEach(harden);
  });
  usage.json = wantsJson(program, usage.argv);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  // `ward … | head`: a closed pipe ends the output quietly, as for other CLI tools.
  process.stdout.on('error', (e) => {
    if (errorCode(e) === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  let pending: Promise<number> = Promise.resolve(0);
  const first = argv.find((a) => !a.startsWith('-'));
  const usage: Usage = { argv, json: false, errors: [] };
  const program = await buildProgram((p) => (pending = p), first === undefined ? undefined : GROUP_OF.get(first), usage);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return await pending;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      if (usage.errors.length > 0) printJson({ ok: false, errno: 'EINVAL', message: usage.errors.join('\n') });
      return EXIT_USAGE;
    }
    return reportError(e);
  }
}
