// Reading dpkg's own record of what it installed (its "admindir", /var/lib/dpkg): the status
// file (which packages have files on disk, their conffiles with md5), info/PKG.list (every path
// a package shipped), info/PKG.md5sums (the md5 of every shipped regular file except conffiles)
// and the diversions file. Formats as dpkg 1.21 writes them (deb-md5sums(5), deb-conffiles(5),
// dpkg-divert(1)); parsing is pure, reading is thin.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WardError, errorCode } from '../errors.ts';

export interface DpkgPackage {
  /** Package name, with ":arch" for Multi-Arch: same packages (as their info files are named). */
  readonly id: string;
  readonly name: string;
  readonly arch: string;
  /** Conffile path → md5 as recorded at installation (deb-conffiles(5); 'newconffile' if unset). */
  readonly conffiles: ReadonlyMap<string, string>;
}

export interface Diversion {
  readonly to: string;
  /** The diverting package, or undefined for a local diversion (dpkg-divert --local). */
  readonly by: string | undefined;
}

// Package states whose files are on disk (dpkg-query(1) "Package states"): all but
// not-installed and config-files.
const HAS_FILES = new Set(['installed', 'half-installed', 'unpacked', 'half-configured', 'triggers-awaited', 'triggers-pending']);

/** The status file: the packages whose files are on disk. */
export function parseStatus(text: string): DpkgPackage[] {
  const out: DpkgPackage[] = [];
  for (const stanza of text.split(/\n\n+/)) {
    const fields = new Map<string, string>();
    let current: string | undefined;
    for (const line of stanza.split('\n')) {
      if (line === '') continue;
      if (line.startsWith(' ') || line.startsWith('\t')) {
        if (current !== undefined) fields.set(current, `${fields.get(current)}\n${line}`);
        continue;
      }
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      current = line.slice(0, colon);
      fields.set(current, line.slice(colon + 1).trim());
    }
    const name = fields.get('Package');
    const state = fields.get('Status')?.split(/\s+/)[2];
    if (!name || !state || !HAS_FILES.has(state)) continue;
    const arch = fields.get('Architecture') ?? 'all';
    const multiArchSame = fields.get('Multi-Arch') === 'same';
    const conffiles = new Map<string, string>();
    for (const l of (fields.get('Conffiles') ?? '').split('\n')) {
      // " /etc/foo 0123abcd… [obsolete] [remove-on-upgrade]"; an obsolete conffile is no longer
      // shipped by the package (dpkg keeps it on disk but it is the admin's now).
      const m = /^\s+(\/.*?) ([0-9a-f]{32}|newconffile)((?: (?:obsolete|remove-on-upgrade))*)$/.exec(l);
      if (m && !m[3]!.includes('obsolete')) conffiles.set(m[1]!, m[2]!);
    }
    out.push({ id: multiArchSame ? `${name}:${arch}` : name, name, arch, conffiles });
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** info/PKG.md5sums: "md5  relative/path" per line → absolute path → md5. */
export function parseMd5sums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{32}) [ *](.+)$/.exec(line);
    if (m) out.set(m[2]!.startsWith('/') ? m[2]! : `/${m[2]!}`, m[1]!);
  }
  return out;
}

/** info/PKG.list: one absolute path per line ("/." for the root). */
export function parseList(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('/') && l !== '/.');
}

/** The diversions file: triples of lines (from, to, package; ":" for a local diversion). */
export function parseDiversions(text: string): Map<string, Diversion> {
  const lines = text.split('\n');
  const out = new Map<string, Diversion>();
  for (let i = 0; i + 2 < lines.length + (text.endsWith('\n') ? 0 : 1); i += 3) {
    const [from, to, by] = [lines[i]!, lines[i + 1]!, lines[i + 2]!];
    if (!from.startsWith('/') || !to?.startsWith('/')) break;
    out.set(from, { to, by: by === ':' ? undefined : by });
  }
  return out;
}

/**
 * Where package `pkg`'s file `path` is on disk, as dpkg places it: a diversion applies to every
 * package except the one that made it (local diversions apply to all).
 */
export function divertedPath(path: string, pkg: DpkgPackage, diversions: ReadonlyMap<string, Diversion>): string {
  const d = diversions.get(path);
  if (!d) return path;
  if (d.by !== undefined && (d.by === pkg.name || d.by === pkg.id)) return path;
  return d.to;
}

export interface DpkgDatabase {
  readonly admindir: string;
  readonly packages: readonly DpkgPackage[];
  readonly diversions: ReadonlyMap<string, Diversion>;
  list(pkg: DpkgPackage): string[];
  /** The package's md5sums, or undefined when it has none (dpkg then has nothing to verify against). */
  md5sums(pkg: DpkgPackage): Map<string, string> | undefined;
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if (errorCode(e) === 'ENOENT') return undefined;
    throw new WardError(errorCode(e), `cannot read dpkg's database: ${path}: ${errorCode(e)}`);
  }
}

/** Opens dpkg's database (read-only; nothing is locked, as dpkg-query does). */
export function openDpkgDatabase(admindir = '/var/lib/dpkg'): DpkgDatabase {
  const status = readOptional(join(admindir, 'status'));
  if (status === undefined) throw new WardError('ENOENT', `no dpkg database at ${admindir} (no status file): is this a Debian-based system?`);
  const packages = parseStatus(status);
  const diversions = parseDiversions(readOptional(join(admindir, 'diversions')) ?? '');
  // Info files are named PKG.ext, or PKG:ARCH.ext for Multi-Arch: same packages (dpkg 1.16.2+).
  const info = (pkg: DpkgPackage, ext: string) => readOptional(join(admindir, 'info', `${pkg.id}.${ext}`));
  return {
    admindir,
    packages,
    diversions,
    list: (pkg) => parseList(info(pkg, 'list') ?? ''),
    md5sums: (pkg) => {
      const t = info(pkg, 'md5sums');
      return t === undefined ? undefined : parseMd5sums(t);
    },
  };
}
