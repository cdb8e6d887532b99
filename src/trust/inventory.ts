// Which files are code: the regular files dpkg installed (or a directory tree holds) that can be
// executed — any execute bit, as execve(2) needs — and, when asked, the ELF shared objects that
// can be mapped executable (IPE's op=EXECUTE covers mmap/mprotect with PROT_EXEC too). Symbolic
// links are not code themselves: their targets are listed in their own right.

import { closeSync, lstatSync, openSync, readdirSync, readSync, type Dirent, type Stats } from 'node:fs';
import { WardError, describeError, errorCode } from '../errors.ts';
import { join } from 'node:path';
import { divertedPath, type DpkgDatabase } from './dpkg.ts';

export type CodeKind = 'executable' | 'library';

export interface CodeFile {
  /** Where the file is on disk (after dpkg's diversions). */
  readonly path: string;
  readonly kind: CodeKind;
  readonly size: number;
  /** Packages that installed it, with the md5 each recorded (a conffile's from the status file). */
  readonly owners: ReadonlyArray<Owner>;
  /**
   * Its name is not UTF-8 (a Linux file name is any bytes but NUL and /): `path` shows it with
   * U+FFFD and names no file, so it can be neither read by that name nor named in a policy.
   */
  readonly unnamed?: true;
}

export interface Owner {
  readonly pkg: string;
  readonly md5: string | undefined;
  readonly conffile: boolean;
  /** A maintainer script (preinst, postinst…): dpkg keeps no md5 of these. */
  readonly script?: boolean;
}

/** The maintainer scripts dpkg runs (deb-preinst(5), deb-postinst(5), …, debconf's config). */
export const MAINTAINER_SCRIPTS = ['preinst', 'postinst', 'prerm', 'postrm', 'config'] as const;

// A shared object's name: libfoo.so, libfoo.so.1.2, foo.cpython-311-x86_64-linux-gnu.so.
const SO_NAME = /\.so(\.\d+)*$/;
const ET_DYN = 3;

/** ELF with e_type ET_DYN (elf(5)): a shared object (or a PIE, which has an x bit anyway). */
export function isElfSharedObject(path: string | Buffer): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const h = Buffer.alloc(18);
    if (readSync(fd, h, 0, 18, 0) < 18) return false;
    if (h.readUInt32BE(0) !== 0x7f454c46) return false;
    // EI_DATA (byte 5): 1 little-endian, 2 big-endian.
    const type = h[5] === 2 ? h.readUInt16BE(16) : h.readUInt16LE(16);
    return type === ET_DYN;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The kind of code a file is, or undefined if it is not code (or not a regular file). */
export function codeKind(path: string | Buffer, st: Stats, libraries: boolean): CodeKind | undefined {
  if (!st.isFile()) return undefined;
  if ((st.mode & 0o111) !== 0) return 'executable';
  if (libraries && SO_NAME.test(path.toString()) && isElfSharedObject(path)) return 'library';
  return undefined;
}

function lstatOrUndefined(path: string | Buffer): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** The code dpkg installed, by on-disk path (sorted), with every package that lists it. */
export function dpkgCode(db: DpkgDatabase, libraries: boolean): CodeFile[] {
  const byPath = new Map<string, { kind: CodeKind; size: number; owners: Owner[] }>();
  const notCode = new Set<string>();
  for (const pkg of db.packages) {
    const sums = db.md5sums(pkg);
    for (const listed of db.list(pkg)) {
      const path = divertedPath(listed, pkg, db.diversions);
      if (notCode.has(path)) continue;
      let entry = byPath.get(path);
      if (!entry) {
        const st = lstatOrUndefined(path);
        const kind = st && codeKind(path, st, libraries);
        if (!kind) {
          notCode.add(path);
          continue;
        }
        entry = { kind, size: st.size, owners: [] };
        byPath.set(path, entry);
      }
      const conffile = pkg.conffiles.get(listed);
      const md5 = conffile !== undefined ? (conffile === 'newconffile' ? undefined : conffile) : sums?.get(listed);
      entry.owners.push({ pkg: pkg.id, md5, conffile: conffile !== undefined });
    }
  }
  // dpkg runs a package's maintainer scripts from its database: they are code it installed too.
  for (const pkg of db.packages) {
    for (const s of MAINTAINER_SCRIPTS) {
      const path = join(db.admindir, 'info', `${pkg.id}.${s}`);
      const st = lstatOrUndefined(path);
      if (st?.isFile() && (st.mode & 0o111) !== 0) byPath.set(path, { kind: 'executable', size: st.size, owners: [{ pkg: pkg.id, md5: undefined, conffile: false, script: true }] });
    }
  }
  return [...byPath.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([path, e]) => ({ path, ...e }));
}

/** The code in a directory tree (symlinks are not followed, other mounts are not skipped). */
export function dirCode(dir: string, libraries: boolean): CodeFile[] {
  const out: CodeFile[] = [];
  // Walked by bytes: Node decodes a name that is not UTF-8 with U+FFFD, and that string names no
  // file, so a string walk loses such files (and fails on such a directory). A file the tree
  // holds under such a name is listed as `unnamed`, for the caller to report.
  const walk = (d: Buffer) => {
    let listed: Array<Dirent<Buffer>>;
    try {
      listed = readdirSync(d, { withFileTypes: true, encoding: 'buffer' });
    } catch (e) {
      const code = errorCode(e);
      const shown = d.toString();
      throw new WardError(code, `cannot list ${shown}: ${describeError(e)}${shown === dir && code === 'ENOTDIR' ? ' (--from-dir takes a directory)' : ''}`);
    }
    const entries = listed.map((e) => ({ e, name: e.name.toString() })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const { e } of entries) {
      const p = Buffer.concat([d, d.at(-1) === 0x2f ? Buffer.alloc(0) : SLASH, e.name]);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = lstatOrUndefined(p);
        const kind = st && codeKind(p, st, libraries);
        const path = p.toString();
        if (kind) out.push({ path, kind, size: st.size, owners: [], ...(Buffer.from(path).equals(p) ? {} : { unnamed: true as const }) });
      }
    }
  };
  walk(Buffer.from(dir));
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

const SLASH = Buffer.from('/');
