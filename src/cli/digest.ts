// `ward digest`: argument handling and output only; the work is in src/properties.

import type { Command } from 'commander';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { PropertyReader } from '../properties/context.ts';
import { describeError, errorCode, WardError } from '../errors.ts';
import { CliError, EXIT_FAIL, EXIT_OK, printJson, type Run } from './io.ts';
import { terminalSafe } from '../util/terminal.ts';

const PROGRESS_MIN_BYTES = 256 * 1024 * 1024;

function digest(paths: string[], opts: { json?: boolean; hashAlg?: string }): number {
  const alg = opts.hashAlg ?? 'sha256';
  if (alg !== 'sha256' && alg !== 'sha512') throw new CliError('EINVAL', `--hash-alg must be sha256 or sha512, not "${alg}"`);
  const reader = new PropertyReader({ algorithm: alg });
  const results: Array<{ path: string; digest?: string; source?: string; size?: number; error?: string }> = [];
  for (const path of paths) {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const st = fstatSync(fd);
      if (!st.isFile()) throw st.isDirectory() ? new WardError('EISDIR', 'is a directory') : new WardError('EINVAL', 'not a regular file');
      // Progress on stderr for big files, when a person is watching.
      const showProgress = !opts.json && process.stderr.isTTY && st.size >= PROGRESS_MIN_BYTES;
      const progress = showProgress
        ? (done: number, total: number) => process.stderr.write(`\r\x1b[K${terminalSafe(path)}: ${Math.floor((done / total) * 100)}% of ${(total / 2 ** 20).toFixed(0)} MiB`)
        : undefined;
      const d = reader.verityDigest(fd, undefined, progress);
      if (showProgress) process.stderr.write('\r\x1b[K');
      results.push({ path, digest: d.value, source: d.source, size: st.size });
      if (!opts.json) process.stdout.write(`${d.value} ${terminalSafe(path)}\n`);
    } catch (e) {
      const code = errorCode(e);
      const why = describeError(e);
      results.push({ path, error: `${code}: ${why}` });
      if (!opts.json) process.stderr.write(`ward: ${terminalSafe(path)}: ${code}: ${terminalSafe(why)}\n`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  if (opts.json) printJson({ results });
  return results.every((r) => r.digest) ? EXIT_OK : EXIT_FAIL;
}

export function registerDigestCommand(program: Command, run: Run): void {
  program
    .command('digest')
    .description('print fs-verity file digests, as `fsverity digest` does (kernel measurement if the file has fs-verity)')
    .argument('<path...>', 'files')
    .option('--hash-alg <alg>', 'sha256 (default) or sha512', 'sha256')
    .option('--json', 'print one JSON object')
    .action((paths: string[], opts: { json?: boolean; hashAlg?: string }) => run(() => digest(paths, opts), opts.json));
}
