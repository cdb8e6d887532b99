// `ward trust check POLICY`: argument handling and output only; the work is in src/trust/check.ts.

import type { Command } from 'commander';
import { displayName, CliError, EXIT_FAIL, EXIT_OK, printJson, readInput } from './io.ts';
import { jobsFlag, terminalProgress } from './generate.ts';

interface CheckFlags {
  json?: boolean;
  admindir?: string;
  jobs?: string;
}

async function check(file: string, f: CheckFlags): Promise<number> {
  const { readTrustPolicy } = await import('../trust/trust-policy.ts');
  const { checkTrustPolicy, trustCheckClean } = await import('../trust/check.ts');
  const { parsePolicy } = await import('../policy/parser.ts');
  const { renderParseError } = await import('../policy/errors.ts');
  const bytes = readInput(file);
  const parsed = parsePolicy(bytes);
  if (!parsed.ok) throw new CliError(parsed.error.code, renderParseError(displayName(file), bytes, parsed.error), EXIT_FAIL, true);
  const meta = readTrustPolicy(Buffer.from(bytes).toString('utf8'), displayName(file));
  if (!meta.ok) throw new CliError(meta.error.code, meta.error.message);
  const progress = terminalProgress('checking', !f.json);
  let r;
  try {
    r = await checkTrustPolicy(meta.value, { admindir: f.admindir, workers: jobsFlag(f.jobs), onProgress: progress.onProgress });
  } finally {
    progress.done();
  }
  const clean = trustCheckClean(r);
  if (f.json) {
    printJson({ ok: clean, ...r });
    return clean ? EXIT_OK : EXIT_FAIL;
  }
  const owners = (p: readonly string[]) => (p.length ? ` (${p.join(', ')})` : '');
  for (const c of r.changed) process.stdout.write(`changed: ${c.path}${owners(c.packages)}: policy has ${c.expected}, file is ${c.found}\n`);
  for (const v of r.vanished) process.stdout.write(`vanished: ${v.path}${owners(v.packages)}\n`);
  for (const u of r.unreadable) process.stdout.write(`unreadable: ${u.path}${owners(u.packages)}: ${u.error}\n`);
  for (const u of r.uncovered) process.stdout.write(`uncovered: ${u.path}${owners(u.packages)}: installed code the policy does not allow\n`);
  process.stdout.write(
    `${displayName(file)}: ${r.checked} files checked: ${r.changed.length} changed, ${r.vanished.length} vanished, ${r.unreadable.length} unreadable, ${r.uncovered.length} uncovered${clean ? ' — up to date' : ' — regenerate with ward policy generate'}\n`,
  );
  return clean ? EXIT_OK : EXIT_FAIL;
}

export function registerTrustDbCommands(program: Command, run: (fn: () => number | Promise<number>) => void): void {
  const trust = program.command('trust').description('check a trust policy made by `ward policy generate` against this host');
  trust
    .command('check')
    .description('files the policy names that changed or vanished, and installed code it does not cover; exit 0 if none, 1 if any')
    .argument('<policy>', 'a policy written by ward policy generate, or - for standard input')
    .option('--json', 'print one JSON object')
    .option('--admindir <dir>', "dpkg's database directory", '/var/lib/dpkg')
    .option('--jobs <n>', 'worker threads hashing files (default: one per core)')
    .action((file: string, f: CheckFlags) => run(() => check(file, f)));
}
