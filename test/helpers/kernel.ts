// Helpers for tests on the real kernel: feature gates that may skip only outside CI, tmpfs
// mounts the test makes (and removes), and running code as an unprivileged user.

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

export const IN_CI = process.env.CI === 'true';
export const IS_ROOT = process.getuid?.() === 0;
export const NOBODY = 65534;
export const NOGROUP = 65534;

/**
 * Skips a test whose requirement is missing — except under CI=true, where this machine has
 * everything (root, Linux 6.18): there a missing requirement fails the test.
 */
export function requires(t: TestContext, ok: boolean, what: string): boolean {
  if (ok) return true;
  if (IN_CI) throw new Error(`requirement missing under CI: ${what}`);
  t.skip(`needs ${what}`);
  return false;
}

/** A directory every user can traverse, removed (with its mounts) by cleanup(). */
export class Scratch {
  readonly root: string;
  readonly #mounts: string[] = [];
  constructor(prefix = 'ward-test-') {
    this.root = mkdtempSync(join(tmpdir(), prefix));
    chmodSync(this.root, 0o755);
  }
  dir(name: string, mode = 0o755): string {
    const p = join(this.root, name);
    mkdirSync(p, { recursive: true, mode });
    chmodSync(p, mode);
    return p;
  }
  /** mount -t tmpfs [-o noexec] on a new directory. */
  tmpfs(name: string, options: string[] = []): string {
    const p = this.dir(name);
    execFileSync('mount', ['-t', 'tmpfs', '-o', ['size=256m', 'mode=0755', ...options].join(','), 'tmpfs', p]);
    this.#mounts.push(p);
    return p;
  }
  cleanup(): void {
    for (const m of this.#mounts.reverse()) spawnSync('umount', ['-l', m]);
    rmSync(this.root, { recursive: true, force: true });
  }
}

export const PROBE = fileURLToPath(new URL('./probe.ts', import.meta.url));

/**
 * Runs test/helpers/probe.ts in a child Node: it loads ward's modules as root, then (if asked)
 * drops to uid/gid nobody before running `task` with `args`; returns the task's JSON result.
 * Loading first means the unprivileged part needs no access to the repository's files.
 */
export function probe<T>(task: string, args: unknown, options: { unprivileged?: boolean; timeoutMs?: number } = {}): T {
  const r = spawnSync(process.execPath, [PROBE, task, JSON.stringify(args), options.unprivileged ? 'drop' : 'keep'], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    cwd: '/',
  });
  if (r.status !== 0) throw new Error(`probe ${task} failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Writes `text` at `rel` below `dir` (parents made 0755) with exactly `mode`, returns the path. */
export function placeFile(dir: string, rel: string, text: string | Uint8Array, mode = 0o755): string {
  const p = join(dir, rel);
  mkdirSync(dirname(p), { recursive: true, mode: 0o755 });
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}
