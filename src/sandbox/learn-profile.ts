// ward run --learn, the pure part: audit events of a watched run (SYSCALL + CWD + PATH + SOCKADDR
// records sharing one serial, include/uapi/linux/audit.h) → the smallest profile that lets that
// run succeed: what it read, wrote, created and executed, collapsed to sensible directories, and
// the ports it connected to or bound. Only what succeeded counts; what the run did not do is not
// in the profile.

import { posix } from 'node:path';
import { auditFields } from './denials.ts';
import type { SandboxProfile } from './profile.ts';

export const AUDIT_SYSCALL = 1300;
export const AUDIT_PATH = 1302;
export const AUDIT_SOCKADDR = 1306;
export const AUDIT_CWD = 1307;
export const AUDIT_EOE = 1320;

export interface AuditEvent {
  syscall?: Map<string, string>;
  cwd?: string;
  paths: Array<Map<string, string>>;
  sockaddr?: string;
}

const AT_FDCWD = 'ffffff9c';
const EINPROGRESS = '-115';
const O_ACCMODE = 3;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;

/** Groups records into events by their serial, audit(TIME:SERIAL). */
export function serialOf(text: string): string | undefined {
  return /^audit\([\d.]+:(\d+)\)/.exec(text)?.[1];
}

export function addRecord(ev: AuditEvent, type: number, text: string): void {
  const f = auditFields(text);
  if (type === AUDIT_SYSCALL) ev.syscall = f;
  else if (type === AUDIT_CWD) ev.cwd = f.get('cwd');
  else if (type === AUDIT_PATH) ev.paths.push(f);
  else if (type === AUDIT_SOCKADDR) ev.sockaddr = f.get('saddr');
}

// Trees whose files come as a set (the same as --log-denials' hints), and per-process names.
const TREES = [/^(\/(?:usr\/(?:local\/)?)?lib\/[^/]+)\//, /^(\/usr\/(?:local\/)?share\/[^/]+)\//, /^(\/usr\/lib64\/[^/]+)\//, /^(\/opt\/[^/]+)\//, /^(\/etc\/ssl)\//];
function collapse(p: string): string {
  if (/^\/proc\/(\d+|self|thread-self)(\/|$)/.test(p)) return '/proc';
  if (/^\/dev\/pts\/\d+$/.test(p)) return '/dev/pts';
  for (const t of TREES) {
    const m = t.exec(p);
    if (m) return m[1]!;
  }
  return p;
}

export interface Learned {
  readonly read: Set<string>;
  readonly write: Set<string>;
  readonly exec: Set<string>;
  readonly connect: Set<number>;
  readonly bind: Set<number>;
  readonly unix: Set<string>;
  /** Events whose paths were relative to a directory fd ward cannot place. */
  unplaced: number;
}

export function newLearned(): Learned {
  return { read: new Set(), write: new Set(), exec: new Set(), connect: new Set(), bind: new Set(), unix: new Set(), unplaced: 0 };
}

/** Adds one event; `names` maps syscall numbers to names (the architecture's table). */
export function learnEvent(l: Learned, ev: AuditEvent, names: ReadonlyMap<number, string>, oDirectory: number): void {
  const sc = ev.syscall;
  if (!sc) return;
  const name = names.get(Number(sc.get('syscall')));
  if (!name) return;
  const ok = sc.get('success') === 'yes' || ((name === 'connect') && sc.get('exit') === EINPROGRESS);
  if (!ok) return;
  if (name === 'connect' || name === 'bind') {
    const raw = Buffer.from(ev.sockaddr ?? '', 'hex');
    if (raw.length < 4) return;
    const family = raw.readUInt16LE(0);
    if (family === 2 || family === 10) {
      const port = raw.readUInt16BE(2);
      if (port !== 0) (name === 'connect' ? l.connect : l.bind).add(port);
    } else if (family === 1 && name === 'connect' && raw.length > 2 && raw[2] !== 0) {
      const end = raw.indexOf(0, 2);
      l.unix.add(raw.toString('utf8', 2, end < 0 ? raw.length : end));
    }
    return;
  }
  const arg = (i: number) => parseInt(sc.get(`a${i}`) ?? '0', 16);
  const dirfdArg = ['openat', 'openat2', 'mkdirat', 'unlinkat', 'renameat', 'renameat2', 'linkat', 'mknodat', 'execveat'].includes(name) ? sc.get('a0') : AT_FDCWD;
  const resolve = (p: string): string | undefined => {
    if (p.startsWith('/')) return posix.normalize(p);
    if (dirfdArg !== AT_FDCWD || !ev.cwd) return undefined;
    return posix.join(ev.cwd, p);
  };
  for (const item of ev.paths) {
    const type = item.get('nametype');
    const raw = item.get('name');
    if (!raw || raw === '(null)' || type === 'PARENT' || type === 'UNKNOWN') continue;
    const p = resolve(raw);
    if (!p) {
      l.unplaced++;
      continue;
    }
    if (type === 'CREATE' || type === 'DELETE') {
      l.write.add(posix.dirname(p)); // creating and removing are rights on the directory
      continue;
    }
    if (name === 'execve' || name === 'execveat') {
      l.exec.add(collapse(p));
      continue;
    }
    let flags = 0;
    if (name === 'open') flags = arg(1);
    else if (name === 'openat') flags = arg(2);
    else if (name === 'creat') flags = 1 | O_CREAT | O_TRUNC;
    if (name === 'truncate' || (flags & O_ACCMODE) !== 0 || flags & O_TRUNC) l.write.add(p);
    else if (name.startsWith('open') || name === 'creat') l.read.add(flags & oDirectory ? p : collapse(p));
  }
}

const within = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/** The profile: rw/rwx/rox/ro lists without entries another one covers, and the ports. */
export function learnedProfile(l: Learned, env: readonly string[] = []): SandboxProfile {
  const rwx = [...l.write].filter((p) => l.exec.has(p));
  const rw = [...l.write].filter((p) => !l.exec.has(p));
  const rox = [...l.exec].filter((p) => !l.write.has(p) && ![...l.write].some((w) => within(p, w) && l.exec.has(w)));
  const covered = (p: string) => [...l.write, ...l.exec].some((d) => within(p, d));
  const ro = [...l.read].filter((p) => !covered(p) && ![...l.read].some((d) => d !== p && within(p, d)));
  const sort = (xs: string[]) => [...new Set(xs)].sort();
  const p: SandboxProfile = {};
  if (ro.length) p.ro = sort(ro);
  if (rox.length) p.rox = sort(rox);
  if (rw.length) p.rw = sort(rw);
  if (rwx.length) p.rwx = sort(rwx);
  if (l.connect.size) p['connect-tcp'] = [...l.connect].sort((a, b) => a - b);
  if (l.bind.size) p['bind-tcp'] = [...l.bind].sort((a, b) => a - b);
  if (l.unix.size) p.unix = sort([...l.unix]);
  if (env.length) p.env = [...env];
  return p;
}
