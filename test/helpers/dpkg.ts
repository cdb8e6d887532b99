// Building, installing and purging a small Debian package in a test (dpkg-deb, dpkg).

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

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
 * dpkg records every directory of a package, and a directory that exists on the host gets its
 * archive entry's metadata where dpkg creates it: each directory of the archive that exists on
 * the host gets the host's mode (e.g. /tmp stays 1777), so installing never changes one.
 */
function hostModes(root: string, dir = root): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || (dir === root && e.name === 'DEBIAN')) continue;
    const p = join(dir, e.name);
    const host = `/${relative(root, p)}`;
    if (existsSync(host) && statSync(host).isDirectory()) chmodSync(p, statSync(host).mode & 0o7777);
    hostModes(root, p);
  }
}

/**
 * Builds PKG_VERSION_all.deb (version 1.0 unless given) in `dir` from `files` (install path →
 * content, mode), with md5sums for the non-conffiles, as dh_md5sums writes them.
 */
export function buildDeb(dir: string, pkg: string, files: Record<string, { content: string | Buffer; mode: number; conffile?: boolean }>, scripts: Record<string, string> = {}, version = '1.0'): string {
  const root = join(dir, `${pkg}-${version}-root`);
  for (const [p, f] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), f.content);
    chmodSync(join(root, p), f.mode);
  }
  hostModes(root);
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  writeFileSync(join(root, 'DEBIAN/control'), `Package: ${pkg}\nVersion: ${version}\nArchitecture: all\nMaintainer: ward tests <root@localhost>\nDescription: ward test package\n`);
  const conffiles = Object.entries(files).filter(([, f]) => f.conffile).map(([p]) => p);
  if (conffiles.length) writeFileSync(join(root, 'DEBIAN/conffiles'), conffiles.join('\n') + '\n');
  const sums = Object.entries(files).filter(([, f]) => !f.conffile).map(([p]) => `${md5(join(root, p))}  ${p.slice(1)}`);
  writeFileSync(join(root, 'DEBIAN/md5sums'), sums.join('\n') + '\n');
  for (const [name, body] of Object.entries(scripts)) {
    writeFileSync(join(root, 'DEBIAN', name), body);
    chmodSync(join(root, 'DEBIAN', name), 0o755);
  }
  const deb = join(dir, `${pkg}_${version}_all.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '--build', root, deb], { stdio: 'ignore' });
  return deb;
}
