// `ward digest` and `ward status`: argument handling and output only.

import type { Command } from 'commander';
import { closeSync, fstatSync, openSync } from 'node:fs';
import { PropertyReader } from '../properties/context.ts';
import { machineStatus } from '../system/status.ts';
import { CliError, EXIT_FAIL, EXIT_OK, printJson } from './io.ts';

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
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: st.isDirectory() ? 'EISDIR' : 'EINVAL' });
      // Progress on stderr for big files, when a person is watching.
      const showProgress = !opts.json && process.stderr.isTTY && st.size >= PROGRESS_MIN_BYTES;
      const progress = showProgress
        ? (done: number, total: number) => process.stderr.write(`\r\x1b[K${path}: ${Math.floor((done / total) * 100)}% of ${(total / 2 ** 20).toFixed(0)} MiB`)
        : undefined;
      const d = reader.verityDigest(fd, undefined, progress);
      if (showProgress) process.stderr.write('\r\x1b[K');
      results.push({ path, digest: d.value, source: d.source, size: st.size });
      if (!opts.json) process.stdout.write(`${d.value} ${path}\n`);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
      results.push({ path, error: `${code}: ${why}` });
      if (!opts.json) process.stderr.write(`ward: ${path}: ${code}: ${why}\n`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  if (opts.json) printJson({ results });
  return results.every((r) => r.digest) ? EXIT_OK : EXIT_FAIL;
}

function status(opts: { json?: boolean }): number {
  const items = machineStatus();
  if (opts.json) {
    printJson({ items });
    return EXIT_OK;
  }
  const width = Math.max(...items.map((i) => i.name.length));
  const mark = (u: boolean | 'partial') => (u === true ? '+' : u === 'partial' ? '~' : '-');
  for (const i of items) process.stdout.write(`${mark(i.usable)} ${i.name.padEnd(width)}  ${String(i.value)}\n    ${i.meaning}\n`);
  process.stdout.write('\n+ usable   ~ usable with limits   - not available\n');
  return EXIT_OK;
}

export function registerFileCommands(program: Command, run: (fn: () => number | Promise<number>) => void): void {
  program
    .command('digest')
    .description('print fs-verity file digests, as `fsverity digest` does (kernel measurement if the file has fs-verity)')
    .argument('<path...>', 'files')
    .option('--hash-alg <alg>', 'sha256 (default) or sha512', 'sha256')
    .option('--json', 'print one JSON object')
    .action((paths: string[], opts: { json?: boolean; hashAlg?: string }) => run(() => digest(paths, opts)));

  program
    .command('status')
    .description('what this machine offers (Landlock, AT_EXECVE_CHECK, securebits, fanotify, IPE, verity…) and what ward can do with it')
    .option('--json', 'print one JSON object')
    .action((opts: { json?: boolean }) => run(() => status(opts)));
}
