// Helpers for the package tests: build the npm tarball the way `npm publish` would (prepack →
// build), fetch Node runtimes from the registry's `node` package into the repo's ignored cache,
// and run commands with a PATH that holds only what the test chose.

import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.ts';

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The directories of the repo's own Node (registry `node@24`, a dev dependency) and the system tools. */
export const NODE_DIR = dirname(process.execPath);
export const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

export function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export function mustRun(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** npm, run by this test's Node (the repo's Node 24), with the registry cache preferred. */
export function npm(args: string[], cwd: string): string {
  return mustRun('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], { cwd, env: { ...process.env, PATH: `${NODE_DIR}:${process.env.PATH ?? SYSTEM_PATH}` } });
}

/** `npm pack` of the repository into dir (runs prepack → npm run build); returns the tarball's path. */
export function packTarball(dir: string): string {
  const out = npm(['pack', '--json', '--pack-destination', dir], REPO_ROOT);
  const [info] = JSON.parse(out.slice(out.indexOf('['))) as Array<{ filename: string }>;
  if (!info) throw new Error(`npm pack printed no file: ${out}`);
  return join(dir, info.filename);
}

/**
 * The directory holding `node` for a major version, from the registry's `node` package (as the
 * repo's own Node 24), installed once into .cache/runtimes/node<major> (ignored by git).
 */
export function nodeRuntime(major: number): string {
  const dir = join(REPO_ROOT, '.cache', 'runtimes', `node${major}`);
  const bin = join(dir, 'node_modules', 'node', 'bin');
  if (!existsSync(join(bin, 'node'))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ private: true, allowScripts: { node: true } }));
    npm(['install', `node@${major}`], dir);
  }
  const v = mustRun(join(bin, 'node'), ['--version']).trim();
  if (!v.startsWith(`v${major}.`)) throw new Error(`${bin}/node is ${v}, expected Node ${major}`);
  return bin;
}

/** Every file under dir, relative to it. */
export function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}
