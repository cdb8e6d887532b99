// The code inside .deb archives apt is about to install (its Pre-Install-Pkgs hook hands them
// over), so a trust policy can allow it before dpkg unpacks it. Each archive is opened with
// dpkg-deb, dpkg's own tool: its control member gives the package name, md5sums and conffiles;
// its data is extracted into a scratch directory and each code file is checked against md5sums
// like an installed one. Conffiles have no md5sums entry: they are taken as the archive holds
// them (apt verified the archive's sha256 against its signed index before handing it over).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WardError } from '../errors.ts';
import { parseMd5sums } from './dpkg.ts';
import { dirCode, MAINTAINER_SCRIPTS, type CodeFile } from './inventory.ts';
import { lstatSync } from 'node:fs';

export interface DebCode {
  readonly pkg: string;
  /** Code files with `path` where they were extracted and `installPath` where dpkg will put them. */
  readonly files: ReadonlyArray<CodeFile & { readonly installPath: string }>;
}

function dpkgDeb(args: string[]): string {
  try {
    return execFileSync('dpkg-deb', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? '').trim();
    throw new WardError('EINVAL', `dpkg-deb ${args.join(' ')}: ${stderr || (e as Error).message}`);
  }
}

/** Extracts `deb` under `scratch` (a fresh directory) and lists its code files. */
export function debCode(deb: string, scratch: string, libraries: boolean): DebCode {
  if (!existsSync(deb)) throw new WardError('ENOENT', `${deb}: no such file (a .deb archive was expected)`);
  const pkg = dpkgDeb(['--field', deb, 'Package']).trim();
  const multiArch = dpkgDeb(['--field', deb, 'Multi-Arch']).trim();
  const arch = dpkgDeb(['--field', deb, 'Architecture']).trim();
  const id = multiArch === 'same' ? `${pkg}:${arch}` : pkg;
  const control = join(scratch, 'control');
  const root = join(scratch, 'root');
  mkdirSync(control, { recursive: true });
  mkdirSync(root, { recursive: true });
  dpkgDeb(['--control', deb, control]);
  dpkgDeb(['--extract', deb, root]);
  const sums = existsSync(join(control, 'md5sums')) ? parseMd5sums(readFileSync(join(control, 'md5sums'), 'utf8')) : new Map<string, string>();
  const conffiles = new Set(existsSync(join(control, 'conffiles')) ? readFileSync(join(control, 'conffiles'), 'utf8').split('\n').filter((l) => l.startsWith('/')) : []);
  const files: Array<CodeFile & { installPath: string }> = dirCode(root, libraries).map((f) => {
    const installPath = f.path.slice(root.length);
    const conffile = conffiles.has(installPath);
    return { ...f, installPath, owners: [{ pkg: id, md5: sums.get(installPath), conffile }] };
  });
  // Its maintainer scripts, which dpkg runs from a temporary copy and then from its database.
  for (const name of MAINTAINER_SCRIPTS) {
    const path = join(control, name);
    if (!existsSync(path)) continue;
    const st = lstatSync(path);
    if (!st.isFile() || (st.mode & 0o111) === 0) continue;
    files.push({ path, kind: 'executable', size: st.size, installPath: `/var/lib/dpkg/info/${id}.${name}`, owners: [{ pkg: id, md5: undefined, conffile: false, script: true }] });
  }
  return { pkg: id, files };
}
