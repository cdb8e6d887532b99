// What to watch: /proc/self/mountinfo (proc(5)), filtered by filesystem type, or an explicit
// list of mount points; the fanotify backend marks each chosen *filesystem* (superblock), so every
// mount of it — bind mounts, copies in new mount namespaces — is decided.

import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';

export interface MountInfo {
  id: number;
  devMajor: number;
  devMinor: number;
  mountPoint: string;
  fsType: string;
  source: string;
}

// Mount points escape space, tab, newline and backslash as \ooo octal.
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const f = left.split(' ');
    const r = right.split(' ');
    const [maj, min] = (f[2] ?? '0:0').split(':').map(Number);
    out.push({ id: Number(f[0]), devMajor: maj ?? 0, devMinor: min ?? 0, mountPoint: unescape(f[4] ?? ''), fsType: r[0] ?? '', source: unescape(r[1] ?? '') });
  }
  return out;
}

export function readMounts(): MountInfo[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** Mount points to mark: the explicit list, or every mount of a watched type. */
export function watchedMounts(mounts: MountInfo[], filesystems: readonly string[], explicit?: readonly string[]): MountInfo[] {
  if (explicit) return mounts.filter((m) => explicit.includes(m.mountPoint));
  return mounts.filter((m) => filesystems.includes(m.fsType));
}

/** A mount point as given (trailing slashes, symlinks, relative paths) → as mountinfo shows it. */
export function normalizeMountPoint(path: string): string {
  let p = resolve(path);
  try {
    p = realpathSync(p);
  } catch {
    /* a path that does not exist is reported by explicitMountErrors */
  }
  return p;
}

/** Why explicit --mount entries cannot be watched (not a mount point, missing…); [] when all can. */
export function explicitMountErrors(mounts: MountInfo[], explicit: readonly string[]): string[] {
  const points = new Set(mounts.map((m) => m.mountPoint));
  const errors: string[] = [];
  for (const want of explicit) {
    const p = normalizeMountPoint(want);
    if (!existsSync(p)) errors.push(`mount ${JSON.stringify(want)} does not exist`);
    else if (!points.has(p)) errors.push(`mount ${JSON.stringify(want)} is not a mount point (it is a directory on another filesystem; give the directory where a filesystem is mounted, see findmnt)`);
  }
  return errors;
}

/** One mount per filesystem (superblock, by device number): a filesystem mark covers them all. */
export function filesystemsToMark(mounts: MountInfo[], filesystems: readonly string[], explicit?: readonly string[]): MountInfo[] {
  const chosen = explicit ? mounts.filter((m) => explicit.map(normalizeMountPoint).includes(m.mountPoint)) : mounts.filter((m) => filesystems.includes(m.fsType));
  const seen = new Set<string>();
  return chosen.filter((m) => {
    const dev = `${m.devMajor}:${m.devMinor}`;
    if (seen.has(dev)) return false;
    seen.add(dev);
    return true;
  });
}
