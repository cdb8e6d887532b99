// --add-libs: what a program needs to start — itself, the interpreter its #! line names (read as
// the kernel reads it, see shebang.ts), its ELF interpreter (PT_INTERP) and the shared libraries
// the loader will map (DT_NEEDED, searched as glibc's ld.so does: DT_RPATH, DT_RUNPATH,
// /etc/ld.so.cache, the default directories), recursively. Nothing is run and no tool's text is
// parsed: the program is about to be confined, so it must not get to choose its own rules.
// Every grant is for one regular file (never a directory). Anything unusual — a '\r' or control
// character in a #! line, a relative interpreter, a library name with a '/', a $LIB token, an
// empty search-path entry (the current directory) — is refused with the reason, not guessed at.
// LD_LIBRARY_PATH and dlopen()ed libraries are not followed (add them with --ro/--rox).

import { closeSync, fstatSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { WardError } from '../errors.ts';
import { arch } from '../kernel/arch.ts';
import { readElfIdentified, type FileIdentity } from './elf.ts';
import { readLdCache, type LdCache } from './ldcache.ts';
import { BINPRM_BUF_SIZE, parseShebang } from './shebang.ts';

export interface LibraryNeeds {
  /** Files that need read + execute. */
  readonly executables: string[];
  /** Files that need read. */
  readonly readable: string[];
  /** Libraries the loader will not find (it will fail to start the program). */
  readonly notFound: string[];
  /**
   * The file each granted path named when ward read it (device, inode of the fd it read). The
   * rule must be bound to that file: a directory on the search path may belong to someone else,
   * who can swap a checked library for a link to any file between ward's read and the rule
   * (tested: root's sandbox got read+execute on /etc/shadow).
   */
  readonly identity: ReadonlyMap<string, FileIdentity>;
}

const LD_CACHE = '/etc/ld.so.cache';
/** ld.so's default directories after the cache, this machine's multiarch ones first (the kernel table). */
function defaultDirs(): string[] {
  const m = arch().libs.multiarch;
  return [`/lib/${m}`, `/usr/lib/${m}`, '/lib', '/usr/lib', '/lib64', '/usr/lib64'];
}
/** The kernel follows at most 5 interpreter rewrites (fs/exec.c, exec_binprm). */
const MAX_INTERP_DEPTH = 5;
const MAX_OBJECTS = 1024;

const show = (b: Uint8Array | string): string => JSON.stringify(typeof b === 'string' ? b : Buffer.from(b).toString('latin1'));

function odd(where: string, what: string): WardError {
  return new WardError('EINVAL', `--add-libs: ${where}: ${what}; refusing to guess (add the rules yourself with --ro/--rox)`);
}

/** An absolute path of printable characters, no blanks; the reason otherwise. */
function pathProblem(p: string): string | undefined {
  if (p.endsWith('\r')) return 'it ends in a carriage return (a DOS line ending); the kernel keeps it as part of the name';
  if (/[\x00-\x20\x7f-\xff]/.test(p)) return 'it contains a blank, control or non-ASCII character';
  if (!p.startsWith('/')) return 'it is not an absolute path (the kernel would resolve it from the current directory)';
  // /proc/self/fd/N and friends name whatever ward (or CMD) has open, not a file on disk.
  if (/^\/+(proc|dev|sys)(\/|$)/.test(p)) return 'it lies in /proc, /dev or /sys, not in an installed file';
  return undefined;
}

function regularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function head(path: string): { bytes: Uint8Array; id: FileIdentity; regular: boolean } {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    const buf = Buffer.alloc(BINPRM_BUF_SIZE);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return { bytes: buf.subarray(0, n), id: { dev: st.dev, ino: st.ino }, regular: st.isFile() };
  } finally {
    closeSync(fd);
  }
}

function expandSearchPath(list: Uint8Array, origin: string, where: string): string[] {
  const text = Buffer.from(list).toString('latin1');
  return text.split(':').map((entry) => {
    if (entry === '') throw odd(where, `the search path ${show(text)} has an empty entry (the current directory)`);
    const dir = entry.replace(/\$(ORIGIN\b|\{ORIGIN\})/g, origin);
    if (dir.includes('$')) throw odd(where, `the search path entry ${show(entry)} uses a token other than $ORIGIN`);
    const problem = pathProblem(dir);
    if (problem) throw odd(where, `the search path entry ${show(entry)}: ${problem}`);
    return dir;
  });
}

export function libraryNeeds(program: string): LibraryNeeds {
  const executables = new Set<string>();
  const notFound: string[] = [];
  let cache: LdCache | undefined | null = null;
  const ldCache = (): LdCache | undefined => (cache === null ? (cache = readLdCache(LD_CACHE)) : cache);
  const identity = new Map<string, FileIdentity>();
  // Grants `path` as the file that was read (`id`, `regular`: from the fd its bytes came from).
  const file = (path: string, where: string, id: FileIdentity, regular: boolean): void => {
    if (!regular) throw odd(where, `${show(path)} is not a regular file`);
    const before = identity.get(path);
    if (before && (before.dev !== id.dev || before.ino !== id.ino)) throw odd(where, `${show(path)} changed while ward read it (another file each time)`);
    identity.set(path, id);
    executables.add(path);
  };

  // One ELF object and, breadth first, everything it needs.
  const loadElf = (main: string) => {
    const queue: Array<{ path: string; rpathChain: string[][]; name?: string }> = [{ path: main, rpathChain: [] }];
    const seenNames = new Set<string>();
    const seenPaths = new Set<string>();
    let exeRpath: string[] | undefined;
    while (queue.length) {
      const { path, rpathChain, name: neededAs } = queue.shift()!;
      const real = realpathSync(path);
      if (seenPaths.has(real)) continue;
      seenPaths.add(real);
      if (seenPaths.size > MAX_OBJECTS) throw odd(main, `more than ${MAX_OBJECTS} shared objects`);
      let info;
      let read;
      try {
        read = readElfIdentified(path);
        info = read.info;
      } catch (e) {
        throw odd(path, `malformed ELF file (${(e as Error).message})`);
      }
      if (info.kind === 'not-elf') throw odd(path, path === main ? 'neither an ELF program nor a #! script (binfmt_misc handlers are not followed)' : 'not an ELF file, but found where a shared library was expected');
      if (info.kind === 'foreign') throw odd(path, info.why);
      if (neededAs !== undefined) {
        // The program names its libraries (and where to look): what is found must be that
        // library, not any file it points at — a shared object whose SONAME is the name asked for.
        if (!info.sharedLibrary) throw odd(path, `found for the needed library ${show(neededAs)}, but it is a program, not a shared library`);
        if (info.soname && Buffer.from(info.soname).toString('latin1') !== neededAs) {
          throw odd(path, `found for the needed library ${show(neededAs)}, but it calls itself ${show(info.soname)}`);
        }
      }
      file(path, path, read.id, read.regular);
      if (info.interp) {
        const interp = Buffer.from(info.interp).toString('latin1');
        const problem = pathProblem(interp);
        if (problem) throw odd(path, `its ELF interpreter ${show(info.interp)}: ${problem}`);
        // The dynamic loader, not any program the ELF names: a shared object whose SONAME (if
        // any) is its file name, as ld-linux's and musl's are.
        let loader;
        let loaderRead;
        try {
          loaderRead = readElfIdentified(interp);
          loader = loaderRead.info;
        } catch (e) {
          throw odd(path, `its ELF interpreter ${show(interp)} is not a readable ELF file (${(e as Error).message})`);
        }
        const soname = loader.kind === 'elf' && loader.soname ? Buffer.from(loader.soname).toString('latin1') : undefined;
        if (loader.kind !== 'elf' || !loader.sharedLibrary || (soname !== undefined && soname !== basename(interp) && soname !== basename(realpathSync(interp)))) {
          throw odd(path, `its ELF interpreter ${show(interp)} is not a dynamic loader (a shared object named by its SONAME)`);
        }
        file(interp, `${path} (PT_INTERP)`, loaderRead.id, loaderRead.regular);
      }
      const origin = dirname(real);
      const runpath = info.runpath ? expandSearchPath(info.runpath, origin, `${path} (DT_RUNPATH)`) : undefined;
      const rpath = info.rpath && !info.runpath ? expandSearchPath(info.rpath, origin, `${path} (DT_RPATH)`) : undefined;
      if (path === main) exeRpath = rpath;
      const chain = rpath ? [rpath, ...rpathChain] : rpathChain;
      for (const raw of info.needed) {
        const name = Buffer.from(raw).toString('latin1');
        if (!/^[A-Za-z0-9._+-]+$/.test(name) || name === '.' || name === '..') {
          throw odd(path, `the needed library ${show(raw)} is not a plain file name (ld.so would treat a '/' as a path from the current directory)`);
        }
        if (seenNames.has(name)) continue;
        seenNames.add(name);
        const dirs: string[] = [...(runpath ? [] : [...chain.flat(), ...(exeRpath && path !== main ? exeRpath : [])]), ...(runpath ?? [])];
        let found: string | undefined;
        for (const d of dirs) {
          // ld.so looks in glibc-hwcaps subdirectories first, picking by this CPU: grant each that exists.
          for (const c of [...arch().libs.glibcHwcaps.map((h) => `${d}/glibc-hwcaps/${h}/${name}`), `${d}/${name}`]) {
            if (!regularFile(c)) continue;
            found ??= c;
            queue.push({ path: c, rpathChain: chain, name }); // checked and granted when its turn comes
          }
          if (found) break;
        }
        if (!found) {
          // The cache may list variants (hwcaps); grant each, the loader picks one.
          for (const c of ldCache()?.get(name) ?? []) {
            const problem = pathProblem(c);
            if (problem) throw odd(LD_CACHE, `the entry for ${show(name)} ${show(c)}: ${problem}`);
            if (regularFile(c)) {
              found ??= c;
              queue.push({ path: c, rpathChain: chain, name });
            }
          }
        }
        if (!found) {
          for (const d of defaultDirs()) {
            if (!regularFile(`${d}/${name}`)) continue;
            found = `${d}/${name}`;
            queue.push({ path: found, rpathChain: chain, name });
            break;
          }
        }
        if (!found) {
          notFound.push(`${name} (needed by ${path})`);
          continue;
        }
      }
    }
  };

  // The program, and the interpreters its #! lines name, as the kernel follows them.
  let current = program;
  for (let depth = 0; ; depth++) {
    if (depth > MAX_INTERP_DEPTH) throw odd(program, `more than ${MAX_INTERP_DEPTH} #! interpreters in a row (the kernel gives up: ELOOP)`);
    if (!regularFile(current)) throw odd(current, 'not a regular file');
    const h = head(current);
    const sb = parseShebang(h.bytes);
    if (sb.kind === 'enoexec') throw odd(current, `${sb.why} (the kernel refuses to run it: ENOEXEC)`);
    if (sb.kind === 'none') {
      loadElf(current);
      break;
    }
    file(current, current, h.id, h.regular); // the script: the kernel checks execute, the interpreter reads it
    const interp = Buffer.from(sb.interpreter).toString('latin1');
    const problem = pathProblem(interp);
    if (problem) throw odd(current, `the #! line names the interpreter ${show(sb.interpreter)}: ${problem}`);
    current = interp;
  }
  const readable = regularFile(LD_CACHE) ? [LD_CACHE] : [];
  return { executables: [...executables], readable, notFound, identity };
}
