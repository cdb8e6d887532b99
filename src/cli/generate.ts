// `ward policy generate --from-dpkg | --from-dir DIR`: argument handling and output only; the
// work is in src/trust/generate.ts.

import type { Command } from 'commander';
import { resolve } from 'node:path';
import { nextVersion, parseVersionString, versionString, type Version } from '../policy/model.ts';
import { validatePolicy } from '../policy/parser.ts';
import type { Skipped } from '../trust/generate.ts';
import { WardError } from '../errors.ts';
import type { HashProgress } from '../trust/hash-pool.ts';
import { CliError, EXIT_FAIL, EXIT_OK, EXIT_USAGE, collect, displayName, printJson, readInput, writeFileAtomic, type Run } from './io.ts';
import { policyParseFailure } from './policy-error.ts';
import { terminalSafe } from '../util/terminal.ts';

interface GenerateFlags {
  fromDpkg?: boolean;
  fromDir?: string;
  name?: string;
  version: string;
  libraries?: boolean;
  output?: string;
  json?: boolean;
  admindir?: string;
  jobs?: string;
  withDeb: string[];
  versionAfter?: string;
}

/** A one-line progress report on stderr, only when a person is watching (a terminal). */
export function terminalProgress(what: string, enabled: boolean): { onProgress?: HashProgress; done: () => void } {
  if (!enabled || !process.stderr.isTTY) return { done: () => {} };
  let last = 0;
  return {
    onProgress: (files, totalFiles, bytes, totalBytes) => {
      const now = Date.now();
      if (now - last < 100 && files < totalFiles) return;
      last = now;
      process.stderr.write(`\r\x1b[K${what}: ${files}/${totalFiles} files, ${(bytes / 2 ** 20).toFixed(0)}/${(totalBytes / 2 ** 20).toFixed(0)} MiB`);
    },
    done: () => process.stderr.write('\r\x1b[K'),
  };
}

export function jobsFlag(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 256) throw new CliError('EINVAL', `--jobs takes a number of worker threads 1-256, got "${v}"`);
  return Number(v);
}

/** A file left out, one line: its name (any bytes but NUL and /) and the rest shown escaped. */
function skippedLine(s: Skipped): string {
  return terminalSafe(`ward: skipped ${s.path}${s.packages.length ? ` (${s.packages.join(', ')})` : ''}: ${s.reason}: ${s.detail}`) + '\n';
}

/**
 * The version after an existing policy's (revision + 1, carrying): what an update through the
 * daemon needs (a version not higher than the loaded one is ESTALE). A missing file starts at
 * --version.
 */
function versionAfter(file: string, initial: string): Version | undefined {
  let text: Uint8Array;
  try {
    text = readInput(file);
  } catch (e) {
    if (e instanceof CliError && e.code === 'ENOENT') return parseVersionString(initial);
    throw e;
  }
  const r = validatePolicy(text);
  if (!r.ok) throw policyParseFailure(displayName(file), file, text, r.error, EXIT_USAGE);
  const next = nextVersion(r.value.version);
  if (!next) throw new CliError('ERANGE', `${file} has version ${versionString(r.value.version)}, the highest there is; choose a new policy name`, EXIT_USAGE, false, { path: file });
  return next;
}

async function generate(f: GenerateFlags): Promise<number> {
  if (Boolean(f.fromDpkg) === (f.fromDir !== undefined)) throw new CliError('EINVAL', 'say where the trusted files come from: --from-dpkg or --from-dir DIR (one of them)');
  if (f.admindir !== undefined && !f.fromDpkg) throw new CliError('EINVAL', '--admindir goes with --from-dpkg');
  if (f.withDeb.length > 0 && !f.fromDpkg) throw new CliError('EINVAL', '--with-deb goes with --from-dpkg');
  const version = f.versionAfter !== undefined ? versionAfter(f.versionAfter, f.version) : parseVersionString(f.version);
  if (!version) throw new CliError('EINVAL', `--version must be MAJOR.MINOR.REV with parts 0-65535 (e.g. 1.0.0), got "${f.version}"`);
  const name = f.name ?? (f.fromDpkg ? 'dpkg' : 'app');
  if (!/^[\x21-\x7e]+$/.test(name) || name.includes('#')) throw new CliError('EINVAL', `--name must be printable ASCII without spaces or '#', got ${JSON.stringify(name)}`);
  if (f.json && f.output === undefined) throw new CliError('EINVAL', '--json prints a summary, so the policy needs a file: add -o FILE');
  const source = f.fromDpkg ? ({ kind: 'dpkg' } as const) : ({ kind: 'dir', dir: resolve(f.fromDir!) } as const);
  const started = process.hrtime.bigint();
  const progress = terminalProgress('hashing', !f.json);
  // Imported here: `ward policy check` should not pay for loading the generator.
  const { generateTrustPolicy } = await import('../trust/generate.ts');
  let r;
  try {
    r = await generateTrustPolicy({ source, name, version, libraries: Boolean(f.libraries), admindir: f.admindir, debs: f.withDeb, workers: jobsFlag(f.jobs), onProgress: progress.onProgress });
  } catch (e) {
    // Bad input (no such directory, not a .deb, no dpkg database): say so, exit 2.
    if (e instanceof WardError && !(e instanceof CliError)) throw new CliError(e.code, e.message, EXIT_USAGE);
    throw e;
  } finally {
    progress.done();
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (f.output !== undefined) writeFileAtomic(f.output, Buffer.from(r.text));
  // Into a file or a pipe as generated; on a terminal, the comments' file names (any bytes but
  // NUL and /) with their control characters made visible, as `ward policy fmt` shows a policy.
  else process.stdout.write(process.stdout.isTTY ? terminalSafe(r.text, '\n') : r.text);
  const summary = {
    output: f.output ?? null,
    source: source.kind,
    ...(source.kind === 'dir' ? { dir: source.dir } : {}),
    files: r.trusted.length,
    rules: r.rules,
    packages: r.packages,
    bytes: r.bytes,
    skipped: r.skipped,
    ms: Math.round(ms),
  };
  if (f.json) printJson(summary);
  else {
    for (const s of r.skipped) process.stderr.write(skippedLine(s));
    const from = source.kind === 'dpkg' ? `${r.packages} packages` : source.dir;
    process.stderr.write(
      `ward: ${r.trusted.length} files from ${terminalSafe(from)} → ${r.rules} rules${f.output ? ` in ${terminalSafe(f.output)}` : ''} (${(r.bytes / 2 ** 20).toFixed(0)} MiB hashed in ${(ms / 1000).toFixed(1)} s)${r.skipped.length ? `; ${r.skipped.length} skipped` : ''}\n`,
    );
  }
  return r.skipped.length === 0 ? EXIT_OK : EXIT_FAIL;
}

export function registerGenerateCommand(policy: Command, run: Run): void {
  policy
    .command('generate')
    .description('write a policy that allows exactly the code dpkg installed (verified against its md5 records), or the code in a directory tree; exit 0, or 1 if files were skipped')
    .option('--from-dpkg', 'trust the executables (and with --libraries the shared objects) dpkg installed')
    .option('--from-dir <dir>', 'trust the executables (and shared objects) in a directory tree, e.g. /opt/app')
    .option('--name <name>', 'policy_name (default: dpkg, or app for --from-dir)')
    .option('--version <x.y.z>', 'policy_version', '1.0.0')
    .option('--libraries', 'also trust ELF shared objects (op=EXECUTE covers mmap with PROT_EXEC)')
    .option('-o, --output <file>', 'write the policy to FILE (atomically) instead of standard output')
    .option('--json', 'print a JSON summary (files, packages, skipped with reasons, time); needs -o')
    .option('--admindir <dir>', "dpkg's database directory (default /var/lib/dpkg)")
    .option('--jobs <n>', 'worker threads hashing files (default: one per core)')
    .option('--with-deb <file>', 'also trust the code in this .deb archive, about to be installed (repeatable; the apt hook uses it)', collect, [])
    .option('--version-after <policy>', "policy_version = this policy's version + 1 (a missing file starts at --version)")
    .addHelpText('after', '\nA file whose content no longer matches its package (as debsums reports it) is left out and\nreported on standard error; diverted files and conffiles are handled as dpkg does.')
    .action((f: GenerateFlags) => run(() => generate(f), f.json));
}
