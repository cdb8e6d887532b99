// fapolicyd's Debian trust backend (trust = debdb) as a peer of `ward policy generate
// --from-dpkg`: built by scripts/bench-deps/fapolicyd-debdb.sh into .cache/, run through its
// driver, which runs the daemon's trust-database build without the daemon (no fanotify).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/bench-deps/fapolicyd-debdb.sh');
const BIN = join(ROOT, '.cache/bench-deps/fapolicyd-debdb/bin/fapolicyd-debdb-load');

export type DebdbPeer = { bin: string; version: string } | { missing: string };

/** The built driver: built (or found cached) by the script when WARD_BENCH_DEPS=1 or a
 * cache exists — the script returns at once when the cached build matches its inputs. */
export function debdbPeer(): DebdbPeer {
  if (process.env.WARD_BENCH_DEPS !== '1' && !existsSync(BIN)) {
    return { missing: 'not built: run `bash scripts/bench-deps/fapolicyd-debdb.sh` (or the bench with WARD_BENCH_DEPS=1)' };
  }
  const r = spawnSync('bash', [SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 1_800_000 });
  if (r.status !== 0) return { missing: (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`).replace(/^fapolicyd-debdb: /, '') };
  const bin = r.stdout.trim().split('\n').pop()!;
  const version = readFileSync(join(dirname(realpathSync(bin)), 'version'), 'utf8').trim();
  return { bin, version };
}

/** One build of the trust database into an empty dbDir: wall ms and the files it left out
 * because their MD5 did not match dpkg's record (its log says "hash mismatch" for each). */
export function runDebdb(bin: string, dbDir: string): { ms: number; mismatches: number } {
  rmSync(dbDir, { recursive: true, force: true });
  mkdirSync(dbDir, { recursive: true });
  const t = process.hrtime.bigint();
  // stdout carries a progress line per package; the log (stderr) one line per skipped file.
  const r = spawnSync(bin, ['build', dbDir], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 256 << 20, timeout: 600_000, killSignal: 'SIGKILL' });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`fapolicyd-debdb-load build: exit ${r.status ?? r.signal}: ${r.stderr.slice(-2000)}`);
  return { ms, mismatches: (r.stderr.match(/hash mismatch/g) ?? []).length };
}

/** The entries of the database (paths written to listFile) and the bytes they record. */
export function countDebdb(bin: string, dbDir: string, listFile: string): { entries: number; bytes: number; paths: Set<string> } {
  const r = spawnSync(bin, ['count', dbDir, listFile], { encoding: 'utf8', timeout: 300_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`fapolicyd-debdb-load count: exit ${r.status ?? r.signal}: ${r.stderr}`);
  const c = JSON.parse(r.stdout) as { entries: number; bytes: number };
  return { ...c, paths: new Set(readFileSync(listFile, 'utf8').split('\n').filter(Boolean)) };
}

/** Every path dpkg records an MD5 for (the md5sums control files), read independently of
 * both tools: the files debdb can trust. Conffiles' hashes live in the status file instead. */
export function dpkgMd5sumPaths(admindir = '/var/lib/dpkg'): Set<string> {
  const info = join(admindir, 'info');
  const out = new Set<string>();
  for (const f of readdirSync(info)) {
    if (!f.endsWith('.md5sums')) continue;
    for (const line of readFileSync(join(info, f), 'utf8').split('\n')) {
      // "<32 hex>  <path without leading slash>"
      if (line.length > 34) out.add('/' + line.slice(34));
    }
  }
  return out;
}
