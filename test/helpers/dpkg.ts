// Building, installing and purging a small Debian package in a test (dpkg-deb, dpkg).

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const HAVE_DPKG = existsSync('/var/lib/dpkg/status') && spawnSync('dpkg', ['--version']).status === 0;

/** dpkg takes its lock without waiting: retry while another process (apt, another test) holds it. */
export function dpkg(args: string[]): void {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const r = spawnSync('dpkg', args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status === 0) return;
    if (!/lock/i.test(r.stderr) || Date.now() > deadline) throw new Error(`dpkg ${args.join(' ')}: ${r.stderr}`);
    spawnSync('sleep', ['2']);
  }
}

export function md5(path: string): string {
  return execFileSync('md5sum', [path], { encoding: 'utf8' }).slice(0, 32);
}

/**
 * Builds PKG_1.0_all.deb in `dir` from `files` (install path → content, mode), with md5sums for
 * the non-conffiles, as dh_md5sums writes them.
 */
export function buildDeb(dir: string, pkg: string, files: Record<string, { content: string | Buffer; mode: number; conffile?: boolean }>, scripts: Record<string, string> = {}): string {
  const root = join(dir, `${pkg}-root`);
  for (const [p, f] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), f.content);
    chmodSync(join(root, p), f.mode);
  }
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  writeFileSync(join(root, 'DEBIAN/control'), `Package: ${pkg}\nVersion: 1.0\nArchitecture: all\nMaintainer: ward tests <root@localhost>\nDescription: ward test package\n`);
  const conffiles = Object.entries(files).filter(([, f]) => f.conffile).map(([p]) => p);
  if (conffiles.length) writeFileSync(join(root, 'DEBIAN/conffiles'), conffiles.join('\n') + '\n');
  const sums = Object.entries(files).filter(([, f]) => !f.conffile).map(([p]) => `${md5(join(root, p))}  ${p.slice(1)}`);
  writeFileSync(join(root, 'DEBIAN/md5sums'), sums.join('\n') + '\n');
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(root, 'DEBIAN', name), body);
    chmodSync(join(root, 'DEBIAN', name), 0o755);
  }
  const deb = join(dir, `${pkg}_1.0_all.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '--build', root, deb], { stdio: 'ignore' });
  return deb;
}
