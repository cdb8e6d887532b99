// `ward run`'s options as one table, with no commander in it: run.ts registers them with
// commander (help, usage errors), and bin/ward.js's fast entry (run-fast.ts) parses a plain
// `ward run …` with them before commander is even loaded — commander and the full CLI cost a
// launch ~20 ms, and every `ward run` pays its start-up. The fast parser accepts only what it
// can read exactly as commander would (test/cli/run-fast.test.ts compares the two); anything
// else — help, an unknown or malformed option, a bad value — goes to commander unchanged, so
// its messages and exit codes stay the only ones.

import { CliError, collect } from './io.ts';

/** How an option's value is taken: a boolean flag, a single value (last wins), or a collected list. */
export type RunOptionKind = 'flag' | 'value' | 'list' | 'port' | 'collect';

export interface RunOption {
  /** commander's flags string: `--name` or `--name <value>`. */
  readonly flags: string;
  readonly description: string;
  readonly kind: RunOptionKind;
  readonly hidden?: boolean;
  readonly choices?: readonly string[];
}

// landrun's forms: every path and port flag also takes a comma-separated list.
export function collectList(v: string, prev: string[]): string[] {
  const items = v.split(',');
  if (items.some((x) => x === '')) throw new CliError('EINVAL', `"${v}": an empty path in a comma-separated list`);
  return [...prev, ...items];
}

export function collectPort(v: string, prev: number[]): number[] {
  return [
    ...prev,
    ...v.split(',').map((p) => {
      const n = Number(p);
      if (!/^\d+$/.test(p) || n > 65535) throw new CliError('EINVAL', `"${p}" is not a TCP port number (0-65535)`);
      return n;
    }),
  ];
}

/** The collectors of the list kinds, as commander's argParser (value, previous) → next. */
export const COLLECTORS = { list: collectList, port: collectPort, collect } as const;

export const RUN_OPTIONS: readonly RunOption[] = [
  { flags: '--ro <path>', kind: 'list', description: 'allow reading under PATH (repeatable; or PATH,PATH…)' },
  { flags: '--rox <path>', kind: 'list', description: 'allow reading and executing under PATH' },
  { flags: '--rw <path>', kind: 'list', description: 'allow reading and writing under PATH (create, remove, truncate)' },
  { flags: '--rwx <path>', kind: 'list', description: 'allow reading, writing and executing under PATH' },
  { flags: '--bind-tcp <port>', kind: 'port', description: 'allow binding this TCP port (or PORT,PORT…)' },
  { flags: '--connect-tcp <port>', kind: 'port', description: 'allow connecting to this TCP port (or PORT,PORT…)' },
  { flags: '--unrestricted-fs', kind: 'flag', description: 'do not restrict the filesystem' },
  { flags: '--unrestricted-net', kind: 'flag', description: 'do not restrict TCP' },
  { flags: '--allow-signals-out', kind: 'flag', description: 'allow signals to processes outside the sandbox' },
  { flags: '--allow-abstract-unix-out', kind: 'flag', description: 'allow connecting to abstract unix sockets outside the sandbox' },
  { flags: '--unrestricted-filesystem', kind: 'flag', hidden: true, description: "landrun's name for --unrestricted-fs" },
  { flags: '--unrestricted-network', kind: 'flag', hidden: true, description: "landrun's name for --unrestricted-net" },
  { flags: '--unrestricted-scoped', kind: 'flag', hidden: true, description: "landrun's: --allow-signals-out and --allow-abstract-unix-out" },
  { flags: '--ldd', kind: 'flag', description: "add read+execute rules for CMD's interpreter and shared libraries (not CMD itself)" },
  { flags: '--add-exec', kind: 'flag', description: 'add a read+execute rule for CMD itself' },
  { flags: '--log-level <level>', kind: 'value', choices: ['error', 'info', 'debug'], description: "landrun's logging level: debug prints the ruleset as --explain does (default: $LANDRUN_LOG_LEVEL)" },
  // landrun's audit flags, Landlock's restrict-self logging flags (ABI 7; dropped, with a note, below it).
  { flags: '--log-disable-originating', kind: 'flag', description: "Landlock audit: no records of denials before CMD's exec (ward's own; LANDLOCK_RESTRICT_SELF_LOG_SAME_EXEC_OFF)" },
  { flags: '--log-enable-subprocesses', kind: 'flag', description: 'Landlock audit: records of denials after the exec, i.e. of CMD and its children (LANDLOCK_RESTRICT_SELF_LOG_NEW_EXEC_ON)' },
  { flags: '--log-disable-subdomains', kind: 'flag', description: 'Landlock audit: no records of denials by sandboxes CMD nests inside (LANDLOCK_RESTRICT_SELF_LOG_SUBDOMAINS_OFF)' },
  { flags: '--profile <file>', kind: 'value', description: 'a JSON profile with the same vocabulary as these flags (flags add to it)' },
  { flags: '--profile-json <json>', kind: 'value', hidden: true, description: 'a profile given inline (used by spawnSandboxed)' },
  { flags: '--strict', kind: 'flag', description: 'refuse to run if the kernel cannot enforce everything asked (the default)' },
  { flags: '--best-effort', kind: 'flag', description: 'run with what the kernel can enforce; print what was dropped' },
  { flags: '--soft', kind: 'flag', description: 'if anything is missing, run without any sandbox (and say so)' },
  { flags: '--abi <n>', kind: 'value', description: 'the Landlock ABI whose restrictions to require (default auto: at least 6, more if the kernel has it)' },
  { flags: '--add-libs', kind: 'flag', description: 'add read+execute rules for CMD, its interpreter and shared libraries' },
  { flags: '--ignore-missing', kind: 'flag', description: 'skip rule paths that do not exist instead of failing' },
  { flags: '--unix <path>', kind: 'list', description: 'allow connecting to the unix socket at PATH (Landlock ABI 9; see docs)' },
  { flags: '--allow-unix-sockets', kind: 'flag', description: 'allow connecting to every pathname unix socket the file modes allow' },
  { flags: '--allow-udp', kind: 'flag', description: 'allow UDP while the network is restricted' },
  { flags: '--allow-sysv-ipc', kind: 'flag', description: "allow SysV IPC (shared memory, message queues, semaphores; other processes' objects become reachable)" },
  { flags: '--allow-keyrings', kind: 'flag', description: "allow the key management system calls (the user's keyrings, shared with every process of the user)" },
  { flags: '--env <NAME[=value]>', kind: 'collect', description: 'pass the variable NAME through, or set NAME=value, for CMD (repeatable)' },
  { flags: '--keep-env', kind: 'flag', description: "give CMD the caller's whole environment (default: only the --env variables)" },
  { flags: '--clear-env', kind: 'flag', hidden: true, description: 'a clean environment (the default)' },
  { flags: '--share-session', kind: 'flag', description: "keep CMD in the caller's session, so Ctrl-C from a script's terminal reaches it (typing into the terminal stays refused)" },
  { flags: '--keep-caps', kind: 'flag', description: 'as root, let CMD keep its capabilities (default: all dropped)' },
  { flags: '--env-handover', kind: 'flag', hidden: true, description: "CMD's environment is in WARD_CMD_ENV (used by spawnSandboxed)" },
  { flags: '--learn <profile.json>', kind: 'value', description: 'run CMD unrestricted but watched (root) and write the profile it needed' },
  { flags: '--log-denials', kind: 'flag', description: "print each Landlock denial as it happens, with the flag that would allow it (root: reads the kernel's audit records)" },
  { flags: '--log-new-exec', kind: 'flag', hidden: true, description: 'ask the kernel to log denials after the exec (used by --log-denials)' },
  { flags: '--audit-marker <uid>', kind: 'value', hidden: true, description: 'the login uid marking this run in audit records (used by --log-denials)' },
  { flags: '--explain', kind: 'flag', description: "print the final ruleset on stderr before running; as root, also a summary of the run's denials after it" },
  { flags: '--dry-run', kind: 'flag', description: 'print the final ruleset and exit without running' },
  { flags: '--preserve-fds <n>', kind: 'value', description: 'pass inherited fds 3..3+n-1 to CMD (LISTEN_FDS is honoured by itself)' },
];

/** `--bind-tcp <port>` → `--bind-tcp`. */
export function longName(o: RunOption): string {
  return o.flags.split(' ')[0]!;
}

/** commander's attribute name: `--bind-tcp` → `bindTcp`. */
export function attributeName(o: RunOption): string {
  return longName(o)
    .slice(2)
    .replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

export interface FastParse {
  readonly command: string[];
  /** The options as commander's opts() would hold them. */
  readonly flags: Record<string, unknown>;
}

/**
 * `ward run`'s arguments (after "run") as commander parses them, for the common forms only:
 * `--name`, `--name VALUE`, `--name=VALUE`, then CMD after `--` or at the first operand
 * (commander's passThroughOptions). Returns undefined — "let commander do it" — for anything
 * else: a short or unknown option, a value missing or outside its choices, a flag given a
 * value, no CMD, or a value its collector refuses. Mirrors commander 14's parseOptions: a
 * required value is the next argument whatever it looks like.
 */
export function parseRunArgs(args: readonly string[]): FastParse | undefined {
  const byName = new Map(RUN_OPTIONS.map((o) => [longName(o), o]));
  const flags: Record<string, unknown> = {};
  for (const o of RUN_OPTIONS) if (o.kind !== 'flag' && o.kind !== 'value') flags[attributeName(o)] = [];
  let i = 0;
  while (i < args.length) {
    const arg = args[i++]!;
    if (arg === '--') return done(flags, args.slice(i));
    if (!arg.startsWith('-')) return done(flags, args.slice(i - 1));
    if (!arg.startsWith('--')) return undefined; // short options, "-", negative numbers: commander's
    const eq = arg.indexOf('=');
    const option = byName.get(eq < 0 ? arg : arg.slice(0, eq));
    if (!option) return undefined;
    const key = attributeName(option);
    if (option.kind === 'flag') {
      if (eq >= 0) return undefined;
      flags[key] = true;
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : args[i++];
    if (value === undefined) return undefined;
    if (option.kind === 'value') {
      if (option.choices && !option.choices.includes(value)) return undefined;
      flags[key] = value;
      continue;
    }
    try {
      flags[key] = (COLLECTORS[option.kind] as (v: string, prev: unknown[]) => unknown[])(value, flags[key] as unknown[]);
    } catch {
      return undefined; // commander reports it (the same CliError, through main)
    }
  }
  return undefined; // no CMD: commander's "missing required argument"
}

function done(flags: Record<string, unknown>, command: string[]): FastParse | undefined {
  return command.length > 0 ? { command, flags } : undefined;
}
