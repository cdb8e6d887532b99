// --add-libs: what a program needs to start: itself (read+exec), its ELF interpreter and shared
// libraries (from ldd, i.e. the dynamic loader's own resolution), the loader cache, and for a
// script the interpreter named by its #! line, recursively. ldd runs the loader on CMD — which
// is about to be run anyway.

import { closeSync, existsSync, openSync, readSync, realpathSync } from 'node:fs';

export interface LibraryNeeds {
  /** Files that need read + execute. */
  readonly executables: string[];
  /** Files that need read. */
  readonly readable: string[];
  /** Libraries the loader could not find. */
  readonly notFound: string[];
}

function shebang(path: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buf = Buffer.alloc(256);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const text = buf.subarray(0, n).toString('latin1');
    if (!text.startsWith('#!')) return undefined;
    const interp = text.slice(2).split('\n')[0]!.trim().split(/[ \t]+/)[0];
    return interp || undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function parseLdd(output: string): { libs: string[]; notFound: string[] } {
  const libs: string[] = [];
  const notFound: string[] = [];
  for (const line of output.split('\n')) {
    const t = line.trim();
    let m = /^(\S+) => not found$/.exec(t);
    if (m) {
      notFound.push(m[1]!);
      continue;
    }
    m = /^\S+ => (\/\S+) \(0x[0-9a-f]+\)$/.exec(t) ?? /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(t);
    if (m) libs.push(m[1]!);
  }
  return { libs, notFound };
}

export function libraryNeeds(program: string): LibraryNeeds {
  const executables = new Set<string>();
  const readable = new Set<string>();
  const notFound: string[] = [];
  const visit = (path: string, depth: number) => {
    const real = realpathSync(path);
    if (executables.has(real) || depth > 4) return;
    executables.add(real);
    const interp = shebang(real);
    if (interp) {
      visit(interp, depth + 1);
      return;
    }
    const { spawnSync } = process.getBuiltinModule('node:child_process'); // only with --add-libs
    const r = spawnSync('ldd', [real], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) return; // static or not an ELF: nothing more to add
    const parsed = parseLdd(r.stdout);
    notFound.push(...parsed.notFound);
    for (const lib of parsed.libs) executables.add(realpathSync(lib));
  };
  visit(program, 0);
  if (existsSync('/etc/ld.so.cache')) readable.add('/etc/ld.so.cache');
  return { executables: [...executables], readable: [...readable], notFound };
}
