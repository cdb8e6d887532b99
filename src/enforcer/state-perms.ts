// Who can change the daemon's state directory decides what runs: its policies, the active one,
// the version floor and the mode are read from it at start-up. ward refuses a state directory
// that anyone but the daemon's own user (root) could change — as ssh's StrictModes refuses a
// writable ~/.ssh. A directory a user created before the daemon first ran (e.g. a state
// directory configured under a shared path) would otherwise be trusted as it is.

import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const S_ISVTX = 0o1000;

function problem(path: string, st: Stats, uid: number, inside: boolean): string | undefined {
  if (st.isSymbolicLink()) return inside ? `${path} is a symbolic link` : undefined;
  if (st.uid !== uid && st.uid !== 0) return `${path} is owned by uid ${st.uid}`;
  // Above the state directory a sticky, world-writable directory (/tmp) is fine: others cannot
  // rename or remove what they do not own there.
  if ((st.mode & 0o022) !== 0 && !(!inside && st.isDirectory() && (st.mode & S_ISVTX) !== 0)) return `${path} is writable by ${(st.mode & 0o002) !== 0 ? 'everyone' : 'its group'}`;
  return undefined;
}

/**
 * Why users other than `uid` (and root) could replace what the daemon keeps in directory `dir`
 * (its control socket: clients would talk to an impostor; its audit log: records could be
 * removed): `dir` or a directory above it owned by another user, or writable by group or others
 * without the sticky bit. [] when none can.
 */
export function directoryProblems(dir: string, uid: number = process.geteuid?.() ?? 0): string[] {
  const out: string[] = [];
  for (let p = resolve(dir); ; p = dirname(p)) {
    try {
      const why = problem(p, lstatSync(p), uid, false);
      if (why) out.push(why);
    } catch {
      /* missing: created by the daemon */
    }
    if (p === dirname(p)) break;
  }
  return out;
}

/** Why users other than `uid` (and root) could change the state in `dir`; [] when none can. */
export function stateDirProblems(dir: string, uid: number = process.geteuid?.() ?? 0): string[] {
  const out: string[] = [];
  const check = (path: string, inside: boolean) => {
    try {
      const p = problem(path, lstatSync(path), uid, inside);
      if (p) out.push(p);
    } catch {
      /* missing: created by the daemon, with its own modes */
    }
  };
  // Every directory above it: whoever can rename one of them can put another state in its place.
  for (let p = dirname(resolve(dir)); ; p = dirname(p)) {
    check(p, false);
    if (p === dirname(p)) break;
  }
  check(dir, true);
  for (const sub of ['state.json', 'policies']) check(join(dir, sub), true);
  try {
    for (const f of readdirSync(join(dir, 'policies'))) check(join(dir, 'policies', f), true);
  } catch {
    /* no policies yet */
  }
  return out;
}
