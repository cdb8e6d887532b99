// trusted_for(fd, "execution"): may this file's content be executed? On kernels with
// AT_EXECVE_CHECK (6.14+) the kernel answers, through its whole exec permission path (mount
// flags, file mode, LSMs, fanotify listeners) and nothing else is consulted. On older kernels
// ward emulates the trusted_for proposal's system policy (seeds/000, 003): only regular files,
// never on a noexec mount, and only with execute permission for the caller — and says so.

const { closeSync, fstatSync, openSync, lstatSync } = process.getBuiltinModule('node:fs');
import { execveCheckFd, execveCheckPath, execveCheckSupported } from '../kernel/exec-check.ts';
import { O_CLOEXEC, O_NOFOLLOW, O_PATH, ST_NOEXEC, X_OK, faccessFd, fstatfsFlags } from '../kernel/files.ts';
import { errorCode, type ErrnoName } from '../errors.ts';

export type TrustMechanism = 'kernel' | 'emulated';

export interface TrustResult {
  trusted: boolean;
  errno?: ErrnoName;
  mechanism: TrustMechanism;
  reason: string;
}

export interface TrustOptions {
  /** 'auto' (default): the kernel where it has AT_EXECVE_CHECK, else emulation. */
  mechanism?: 'auto' | TrustMechanism;
  /** Do not follow a final symlink (ELOOP instead), like AT_SYMLINK_NOFOLLOW. */
  nofollow?: boolean;
}

export function trustMechanism(requested: TrustOptions['mechanism'] = 'auto'): TrustMechanism {
  if (requested === 'auto') return execveCheckSupported() ? 'kernel' : 'emulated';
  return requested;
}

function typeName(mode: number): string {
  switch (mode & 0o170000) {
    case 0o040000: return 'a directory';
    case 0o010000: return 'a FIFO or pipe';
    case 0o140000: return 'a socket';
    case 0o020000: return 'a character device';
    case 0o060000: return 'a block device';
    case 0o120000: return 'a symbolic link';
    default: return 'not a regular file';
  }
}

/** The proposal's system policy on an fd: regular file, exec mount, execute permission. */
export function emulatedVerdict(fd: number): { ok: true } | { ok: false; errno: ErrnoName; reason: string } {
  const st = fstatSync(fd);
  if (!st.isFile()) return { ok: false, errno: 'EACCES', reason: `${typeName(st.mode)} cannot be trusted for execution (only regular files can)` };
  if (fstatfsFlags(fd) & ST_NOEXEC) return { ok: false, errno: 'EACCES', reason: 'the file is on a noexec mount' };
  const x = faccessFd(fd, X_OK);
  if (!x.ok) return { ok: false, errno: 'EACCES', reason: 'the file has no execute permission for this user' };
  return { ok: true };
}

function explainKernelDenial(fd: number | undefined, errno: ErrnoName): string {
  switch (errno) {
    case 'ETXTBSY': return 'the file is open for writing';
    case 'ELOOP': return 'the path is a symbolic link and links are not followed';
    case 'ENOENT': return 'no such file';
    // fanotify permission listeners answer a denial with EPERM (IPE itself says EACCES).
    case 'EPERM': return 'denied by an exec policy daemon (a fanotify permission listener such as ward daemon)';
    case 'EACCES': {
      if (fd === undefined) return 'execution denied';
      try {
        const e = emulatedVerdict(fd);
        // The mount, type and mode allow it: the kernel's "no" came from an LSM (Landlock, IPE)
        // or a fanotify permission listener such as ward daemon.
        return e.ok ? 'denied by a security policy (an LSM such as Landlock or IPE, or an exec policy daemon)' : e.reason;
      } catch {
        return 'execution denied';
      }
    }
    default: return `the kernel refused: ${errno}`;
  }
}

function openForCheck(path: string, nofollow: boolean): { fd: number } | { errno: ErrnoName } {
  try {
    return { fd: openSync(path, O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0)) };
  } catch (e) {
    return { errno: errorCode(e) };
  }
}

/** Checks an fd the caller will read the code from (the checked content is the run content). */
export function trustedForFd(fd: number, options: TrustOptions = {}): TrustResult {
  const mechanism = trustMechanism(options.mechanism);
  if (mechanism === 'kernel') {
    const r = execveCheckFd(fd);
    if (r.ok) return { trusted: true, mechanism, reason: 'the kernel allows executing it (AT_EXECVE_CHECK)' };
    return { trusted: false, errno: r.error, mechanism, reason: explainKernelDenial(fd, r.error) };
  }
  try {
    const e = emulatedVerdict(fd);
    if (e.ok) return { trusted: true, mechanism, reason: 'regular file with execute permission on an exec mount (emulated: this kernel has no AT_EXECVE_CHECK)' };
    return { trusted: false, errno: e.errno, mechanism, reason: e.reason };
  } catch (err) {
    const errno = errorCode(err);
    return { trusted: false, errno, mechanism, reason: `cannot inspect the file: ${errno}` };
  }
}

/** trustedFor(path | fd, "execution"). */
export function trustedFor(target: string | number, usage: 'execution' = 'execution', options: TrustOptions = {}): TrustResult {
  if (usage !== 'execution') throw new TypeError(`unknown usage "${String(usage)}"; only "execution" exists`);
  if (typeof target === 'number') return trustedForFd(target, options);
  const mechanism = trustMechanism(options.mechanism);
  const nofollow = options.nofollow ?? false;
  if (nofollow) {
    // AT_SYMLINK_NOFOLLOW: a final symlink is refused with ELOOP rather than followed.
    let isLink = false;
    try {
      isLink = lstatSync(target).isSymbolicLink();
    } catch {
      /* reported by the open below */
    }
    if (isLink) {
      if (mechanism === 'kernel') {
        const r = execveCheckPath(target, true);
        if (r.ok) return { trusted: true, mechanism, reason: 'the kernel allows executing it (AT_EXECVE_CHECK)' };
        return { trusted: false, errno: r.error, mechanism, reason: explainKernelDenial(undefined, r.error) };
      }
      return { trusted: false, errno: 'ELOOP', mechanism, reason: explainKernelDenial(undefined, 'ELOOP') };
    }
  }
  const opened = openForCheck(target, nofollow);
  if ('errno' in opened) {
    const why = opened.errno === 'ENOENT' ? 'no such file' : opened.errno === 'EACCES' ? 'a directory on the path is not searchable' : opened.errno;
    return { trusted: false, errno: opened.errno, mechanism, reason: `cannot open: ${why}` };
  }
  try {
    return trustedForFd(opened.fd, { ...options, mechanism });
  } finally {
    closeSync(opened.fd);
  }
}
