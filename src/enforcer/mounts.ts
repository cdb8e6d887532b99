// Which mounts to watch: /proc/self/mountinfo (proc(5)), filtered by filesystem type, or an
// explicit list of mount points.

import { readFileSync } from 'node:fs';

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
