// Trust from the package manager: an IPE policy that allows exactly the code dpkg installed (or a
// directory tree holds), each file verified against dpkg's own md5 record before it is trusted,
// as debsums(1) verifies — a file whose content no longer matches its package is left out and
// reported. Deterministic: the same files give the same policy, byte for byte.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WardError } from '../errors.ts';
import { debCode } from './deb.ts';
import { parsePolicy } from '../policy/parser.ts';
import { parseErrorLine } from '../policy/errors.ts';
import type { Version } from '../policy/model.ts';
import { openDpkgDatabase } from './dpkg.ts';
import { hashFiles, type HashProgress, type HashResult } from './hash-pool.ts';
import { dirCode, dpkgCode, type CodeFile, type CodeKind } from './inventory.ts';
import { renderTrustPolicy, type TrustSource } from './trust-policy.ts';

export interface TrustedFile {
  readonly path: string;
  readonly kind: CodeKind;
  /** Packages whose record the content matches ([] for a directory tree). */
  readonly packages: readonly string[];
  readonly digest: string;
}

export type SkipReason = 'modified' | 'unverifiable' | 'vanished' | 'unreadable' | 'unsafe-path';

export interface Skipped {
  readonly path: string;
  readonly packages: readonly string[];
  readonly reason: SkipReason;
  /** modified: the md5 dpkg recorded and the md5 found. */
  readonly expected?: string;
  readonly found?: string;
  readonly detail: string;
}

/** Decides one hashed file: trusted, or skipped with the reason debsums would give. */
export function verifyFile(file: CodeFile, r: HashResult, source: TrustSource['kind']): { trusted: TrustedFile } | { skipped: Skipped } {
  const packages = file.owners.map((o) => o.pkg);
  const skip = (reason: SkipReason, detail: string, extra: { expected?: string; found?: string } = {}) => ({ skipped: { path: file.path, packages, reason, detail, ...extra } });
  if ('error' in r) {
    if (r.error === 'ENOENT') return skip('vanished', 'the file disappeared while it was read');
    return skip('unreadable', `cannot read it: ${r.error}${r.detail ? ` (${r.detail})` : ''}`);
  }
  if (source === 'dir') return { trusted: { path: file.path, kind: file.kind, packages, digest: r.digest } };
  // dpkg keeps no md5 of maintainer scripts: they are trusted as its database holds them.
  if (file.owners.every((o) => o.script)) return { trusted: { path: file.path, kind: file.kind, packages, digest: r.digest } };
  const recorded = file.owners.filter((o) => o.md5 !== undefined);
  if (recorded.length === 0) {
    return skip('unverifiable', `dpkg has no md5 record of it (${file.owners.some((o) => o.conffile) ? 'a conffile not yet configured' : 'no md5sums entry'}); nothing to verify it against`);
  }
  const matching = recorded.filter((o) => o.md5 === r.md5);
  if (matching.length === 0) {
    const expected = recorded[0]!.md5!;
    const what = file.owners.every((o) => o.conffile) ? 'conffile changed since installation' : 'content does not match its package';
    return skip('modified', `${what}: md5 expected ${expected}, found ${r.md5}`, { expected, found: r.md5 });
  }
  return { trusted: { path: file.path, kind: file.kind, packages: matching.map((o) => o.pkg), digest: r.digest } };
}

export interface GenerateOptions {
  readonly source: TrustSource;
  readonly name: string;
  readonly version: Version;
  readonly libraries: boolean;
  /** dpkg's database directory (default /var/lib/dpkg). */
  readonly admindir?: string;
  /** .deb archives about to be installed: their code is trusted too (with source dpkg). */
  readonly debs?: readonly string[];
  readonly workers?: number;
  readonly onProgress?: HashProgress;
}

export interface GenerateResult {
  readonly text: string;
  readonly trusted: readonly TrustedFile[];
  readonly skipped: readonly Skipped[];
  readonly rules: number;
  readonly packages: number;
  readonly bytes: number;
}

/** The code files of a source, in path order. */
export function listCode(source: TrustSource, libraries: boolean, admindir?: string): CodeFile[] {
  return source.kind === 'dpkg' ? dpkgCode(openDpkgDatabase(admindir), libraries) : dirCode(source.dir, libraries);
}

export async function generateTrustPolicy(o: GenerateOptions): Promise<GenerateResult> {
  if (o.debs?.length && o.source.kind !== 'dpkg') throw new WardError('EINVAL', '.deb archives go with the dpkg source');
  // Installed files, then the code of each archive (hashed where it was extracted, named where
  // dpkg will put it).
  const files: Array<CodeFile & { installPath?: string; fromDeb?: boolean }> = listCode(o.source, o.libraries, o.admindir);
  const scratch = o.debs?.length ? mkdtempSync(join(tmpdir(), 'ward-debs-')) : undefined;
  try {
    o.debs?.forEach((deb, i) => {
      for (const f of debCode(deb, join(scratch!, String(i)), o.libraries).files) files.push({ ...f, fromDeb: true });
    });
    const skipped: Skipped[] = [];
    // A path with a line break cannot be named in a comment line, nor one that is not UTF-8 (the
    // comments are read as UTF-8): refuse it rather than write a policy whose comments say
    // something else.
    const nameable = files.filter((f) => {
      const unsafe = f.unnamed ? 'the name is not UTF-8 (shown with U+FFFD)' : /[\n\r]/.test(f.installPath ?? f.path) ? 'the path holds a line break' : undefined;
      if (unsafe === undefined) return true;
      skipped.push({ path: f.installPath ?? f.path, packages: f.owners.map((x) => x.pkg), reason: 'unsafe-path', detail: unsafe });
      return false;
    });
    const results = await hashFiles(
      nameable.map((f) => ({ path: f.path, md5: o.source.kind === 'dpkg', size: f.size })),
      { workers: o.workers, onProgress: o.onProgress },
    );
    const trusted: TrustedFile[] = [];
    let bytes = 0;
    nameable.forEach((f, i) => {
      const r = results[i]!;
      if (!('error' in r)) bytes += r.size;
      // An archive's conffile has no md5sums entry: it is taken as the (apt-verified) archive holds it.
      const asIs = f.fromDeb === true && f.owners.every((x) => x.conffile && x.md5 === undefined);
      const v = verifyFile(f, r, asIs ? 'dir' : o.source.kind);
      const named = f.installPath ?? f.path;
      if ('trusted' in v) trusted.push({ ...v.trusted, path: named });
      else skipped.push({ ...v.skipped, path: named });
    });
    return finish(o, trusted, skipped, bytes);
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

function finish(o: GenerateOptions, trusted: TrustedFile[], skipped: Skipped[], bytes: number): GenerateResult {
  skipped.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const { text, rules } = renderTrustPolicy(trusted, { name: o.name, version: o.version, source: o.source, libraries: o.libraries });
  // What is written must be a policy the kernel accepts: parse it with the kernel's rules.
  const check = parsePolicy(text);
  if (!check.ok) throw new WardError(check.error.code, `the generated policy does not parse (${parseErrorLine('generated', check.error)}): check --name and --version`);
  const packages = new Set(trusted.flatMap((t) => t.packages)).size;
  return { text, trusted, skipped, rules, packages, bytes };
}

