// `ward node trust DIR`: makes a tree's code loadable under SECBIT_EXEC_RESTRICT_FILE. The kernel
// refuses a file without an execute bit before any policy is consulted, and npm installs every
// file 0644; this sets the execute bit on exactly the files Node loads as code — by name (.js
// .mjs .cjs .json .node .wasm .ts .mts .cts) or, without an extension, by content (a `#!` line
// naming node, or WebAssembly's magic number) — for each class (user, group, other) that can
// already read the file, and on nothing else. Symbolic links are not followed; files already
// executable for every reader are left alone.

import { closeSync, lstatSync, openSync, readdirSync, readSync, chmodSync } from 'node:fs';
import { extname, join } from 'node:path';
import { WardError, errorCode, type ErrnoName } from '../errors.ts';

const CODE_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.json', '.node', '.wasm', '.ts', '.mts', '.cts']);

export interface TrustReport {
  dir: string;
  dryRun: boolean;
  /** Regular files looked at. */
  files: number;
  /** Files Node would load as code. */
  code: number;
  /** Code files whose mode was (or, with dryRun, would be) changed. */
  changed: number;
  /** Code files already executable by every class that can read them. */
  alreadyExecutable: number;
  /** Files that could not be read or changed, with the errno. */
  errors: Array<{ path: string; code: ErrnoName }>;
}

function head(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(128);
    return b.subarray(0, readSync(fd, b, 0, b.length, 0));
  } finally {
    closeSync(fd);
  }
}

/** Whether Node would load this regular file as code (by name, or by content when it has no extension). */
export function isNodeCode(path: string): boolean {
  const ext = extname(path);
  if (CODE_EXTENSIONS.has(ext)) return true;
  if (ext !== '') return false;
  const h = head(path);
  if (h.length >= 4 && h[0] === 0 && h[1] === 0x61 && h[2] === 0x73 && h[3] === 0x6d) return true;
  const first = h.toString('latin1').split('\n', 1)[0]!;
  return first.startsWith('#!') && /\bnode\b|\bward node\b|\btsx\b/.test(first);
}

/** The mode with x added for each class that has r (as `chmod` would, but only where reading is allowed). */
export function withExecute(mode: number): number {
  return mode | ((mode & 0o444) >> 2);
}

export function trustTree(dir: string, options: { dryRun?: boolean } = {}): TrustReport {
  let st;
  try {
    st = lstatSync(dir);
  } catch (e) {
    const code = errorCode(e);
    throw new WardError(code, `${dir}: cannot read the directory (${code}); give a directory that exists`);
  }
  if (!st.isDirectory()) throw new WardError('ENOTDIR', `${dir}: not a directory; give the directory of the project (e.g. the one holding node_modules)`);
  const r: TrustReport = { dir, dryRun: !!options.dryRun, files: 0, code: 0, changed: 0, alreadyExecutable: 0, errors: [] };
  const walk = (d: string) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch (e) {
      r.errors.push({ path: d, code: errorCode(e) });
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) visit(p);
    }
  };
  const visit = (p: string) => {
    r.files++;
    try {
      if (!isNodeCode(p)) return;
      r.code++;
      const mode = lstatSync(p).mode & 0o7777;
      const want = withExecute(mode);
      if (want === mode) r.alreadyExecutable++;
      else {
        if (!options.dryRun) chmodSync(p, want);
        r.changed++;
      }
    } catch (e) {
      r.errors.push({ path: p, code: errorCode(e) });
    }
  };
  walk(dir);
  return r;
}
