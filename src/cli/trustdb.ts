// `ward trust check POLICY`: argument handling and output only; the work is in src/trust/check.ts.

import type { Command } from 'commander';
import { displayName, CliError, EXIT_FAIL, EXIT_OK, EXIT_USAGE, printJson, readInput, type Run } from './io.ts';
import { terminalSafe } from '../util/terminal.ts';
import { WardError } from '../errors.ts';
import { jobsFlag, terminalProgress } from './generate.ts';

interface CheckFlags {
  json?: boolean;
  active?: boolean;
  socket?: string;
  admindir?: string;
  jobs?: string;
}

async function check(file: string | undefined, f: CheckFlags): Promise<number> {
  if ((file === undefined) === !f.active) throw new CliError('EINVAL', 'name a policy file (or -), or use --active for the daemon\'s active policy, not both');
  const { readTrustPolicy } = await import('../trust/trust-policy.ts');
  const { checkTrustPolicy, trustCheckClean } = await import('../trust/check.ts');
  const { parsePolicy } = await import('../policy/parser.ts');
  const { policyParseFailure } = await import('./policy-error.ts');
  let bytes: Uint8Array;
  let name: string;
  if (file !== undefined) {
    bytes = readInput(file);
    name = displayName(file);
  } else {
    const { activePolicy } = await import('./active.ts');
    const active = await activePolicy(f.socket);
    bytes = active.text;
    name = `active policy "${active.name}"`;
  }
  const parsed = parsePolicy(bytes);
  if (!parsed.ok) throw policyParseFailure(name, file, bytes, parsed.error, EXIT_FAIL);
  const meta = readTrustPolicy(Buffer.from(bytes).toString('utf8'), name);
  if (!meta.ok) throw new CliError(meta.error.code, meta.error.message, EXIT_USAGE, false, file === undefined ? {} : { path: file });
  const progress = terminalProgress('checking', !f.json);
  let r;
  try {
    r = await checkTrustPolicy(meta.value, { admindir: f.admindir, workers: jobsFlag(f.jobs), onProgress: progress.onProgress });
  } catch (e) {
    if (e instanceof WardError && !(e instanceof CliError)) throw new CliError(e.code, e.message, EXIT_USAGE);
    throw e;
  } finally {
    progress.done();
  }
  const clean = trustCheckClean(r);
  if (f.json) {
    printJson({ ok: clean, ...r });
    return clean ? EXIT_OK : EXIT_FAIL;
  }
  // Paths come from the policy's comments and the file system, package names from dpkg's database.
  const t = terminalSafe;
  const owners = (p: readonly string[]) => (p.length ? ` (${t(p.join(', '))})` : '');
  for (const c of r.changed) process.stdout.write(`changed: ${t(c.path)}${owners(c.packages)}: policy has ${t(c.expected)}, file is ${t(c.found)}\n`);
  for (const v of r.vanished) process.stdout.write(`vanished: ${t(v.path)}${owners(v.packages)}\n`);
  for (const u of r.unreadable) process.stdout.write(`unreadable: ${t(u.path)}${owners(u.packages)}: ${t(u.error)}\n`);
  for (const u of r.uncovered) process.stdout.write(`uncovered: ${t(u.path)}${owners(u.packages)}: installed code the policy does not allow\n`);
  process.stdout.write(
    `${t(name)}: ${r.checked} files checked: ${r.changed.length} changed, ${r.vanished.length} vanished, ${r.unreadable.length} unreadable, ${r.uncovered.length} uncovered${clean ? ' — up to date' : ' — regenerate with ward policy generate'}\n`,
  );
  return clean ? EXIT_OK : EXIT_FAIL;
}

export function registerTrustDbCommands(program: Command, run: Run): void {
  const trust = program.command('trust').description('check a trust policy made by `ward policy generate` against this host');
  trust
    .command('check')
    .description('files the policy names that changed or vanished, and installed code it does not cover; exit 0 if none, 1 if any')
    .argument('[policy]', 'a policy written by ward policy generate, or - for standard input')
    .option('--active', "check the running daemon's active policy")
    .option('--socket <path>', "the daemon's control socket (with --active)")
    .option('--json', 'print one JSON object')
    .option('--admindir <dir>', "dpkg's database directory (default /var/lib/dpkg)")
    .option('--jobs <n>', 'worker threads hashing files (default: one per core)')
    .action((file: string | undefined, f: CheckFlags) => run(() => check(file, f), f.json));
}
