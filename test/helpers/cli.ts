import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const WARD_BIN = fileURLToPath(new URL('../../bin/ward.js', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI in a child process with this test's Node. */
export function ward(args: string[], opts: SpawnSyncOptions & { input?: string | Uint8Array } = {}): CliResult {
  const r = spawnSync(process.execPath, [WARD_BIN, ...args], { encoding: 'utf8', timeout: 60_000, ...opts });
  return { status: r.status, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
}
