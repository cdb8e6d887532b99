// Landlock's audit records (Linux 6.15+, ABI 7: AUDIT_LANDLOCK_ACCESS / AUDIT_LANDLOCK_DOMAIN,
// security/landlock/audit.c) turned into what a user needs: what was denied, and the ward run
// flag that would allow it. Pure: parsing and hints only.

export interface Denial {
  readonly domain: string;
  /** Landlock's blocker names, e.g. fs.read_file, net.connect_tcp, scope.signal. */
  readonly blockers: readonly string[];
  readonly path?: string;
  readonly port?: number;
  readonly target?: string;
}

/** key=value fields of an audit record; audit writes untrusted strings quoted or as hex. */
export function auditFields(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const body = text.replace(/^audit\([^)]*\):\s*/, '');
  for (const m of body.matchAll(/(\w+)=("([^"]*)"|\S*)/g)) {
    const [, key, raw, quoted] = m;
    let v = quoted ?? raw!;
    if (quoted === undefined && /^([0-9A-F]{2})+$/.test(raw!) && (key === 'path' || key === 'ocomm' || key === 'comm' || key === 'exe')) {
      v = Buffer.from(raw!, 'hex').toString('utf8');
    }
    out.set(key!, v);
  }
  return out;
}

export function parseAccessRecord(text: string): Denial | undefined {
  const f = auditFields(text);
  const domain = f.get('domain');
  const blockers = f.get('blockers');
  if (!domain || !blockers) return undefined;
  const port = f.get('dest') ?? f.get('src');
  const target = f.get('opid') ? `pid ${f.get('opid')}${f.get('ocomm') ? ` (${f.get('ocomm')})` : ''}` : undefined;
  return {
    domain,
    blockers: blockers.split(','),
    ...(f.get('path') !== undefined ? { path: f.get('path')! } : {}),
    ...(port !== undefined && /^\d+$/.test(port) ? { port: Number(port) } : {}),
    ...(target ? { target } : {}),
  };
}

/** The domain id and the pid that created it, from an AUDIT_LANDLOCK_DOMAIN "allocated" record. */
export function parseDomainRecord(text: string): { domain: string; pid: number } | undefined {
  const f = auditFields(text);
  if (f.get('status') !== 'allocated' || !f.get('domain') || !f.get('pid')) return undefined;
  return { domain: f.get('domain')!, pid: Number(f.get('pid')) };
}

/**
 * The denials of one Landlock domain — the one a given pid created — from the audit stream, which
 * carries every process's. The kernel writes a domain's AUDIT_LANDLOCK_DOMAIN record ("allocated",
 * with the creating pid) once, right after that domain's first AUDIT_LANDLOCK_ACCESS record
 * (security/landlock/audit.c, landlock_log_denial then log_domain): until the child's arrives,
 * denials are held. Held denials of a domain announced for another pid are dropped, and that
 * domain's later ones are never held: any local user can make denials in a sandbox of their own,
 * and holding them all grew a root `ward run --explain` by ~50 MB/s while CMD was not denied.
 */
export class DomainFilter {
  readonly #pid: number;
  #domain: string | undefined;
  #held: Denial[] = [];
  readonly #foreign = new Set<string>();
  static readonly MAX_HELD = 10_000;
  /** Held denials dropped because more than MAX_HELD waited for their domain's record. */
  dropped = 0;

  constructor(pid: number) {
    this.#pid = pid;
  }

  /** An AUDIT_LANDLOCK_DOMAIN record: the held denials it shows to be the child's, in order. */
  domainRecord(text: string): Denial[] {
    const dom = parseDomainRecord(text);
    if (!dom) return [];
    if (dom.pid !== this.#pid) {
      this.#foreign.add(dom.domain);
      this.#held = this.#held.filter((d) => d.domain !== dom.domain);
      return [];
    }
    this.#domain = dom.domain;
    const mine = this.#held.filter((d) => d.domain === dom.domain);
    this.#held = [];
    return mine;
  }

  /** An AUDIT_LANDLOCK_ACCESS record's denial: it, if it is the child's; held while that is unknown. */
  access(d: Denial): Denial[] {
    if (this.#domain !== undefined) return d.domain === this.#domain ? [d] : [];
    if (this.#foreign.has(d.domain)) return [];
    if (this.#held.length >= DomainFilter.MAX_HELD) {
      this.#held.shift();
      this.dropped++;
    }
    this.#held.push(d);
    return [];
  }

  /** How many denials wait for their domain's record. */
  get held(): number {
    return this.#held.length;
  }
}

// Trees whose files come as a set: a hint names the package directory, not each file.
const TREES = [/^(\/usr\/(?:local\/)?lib\/[^/]+)\//, /^(\/usr\/(?:local\/)?share\/[^/]+)\//, /^(\/opt\/[^/]+)\//, /^(\/etc\/ssl)\//, /^(\/usr\/lib64\/[^/]+)\//];

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

function readTarget(path: string): string {
  for (const t of TREES) {
    const m = t.exec(path);
    if (m) return m[1]!;
  }
  return path;
}

const q = (p: string) => (/^[\w@%+=:,./-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`);

/**
 * `FLAG PATH`, or a sentence (not starting with "--", so it stays off the "to allow these:" line)
 * when no flag should be suggested: the line is meant to be pasted, and CMD chooses the paths it
 * is denied. ward run splits every path flag's value at commas (landrun's PATH,PATH… form, quoted
 * or not), so a denial on /tmp/x,/etc — a directory "x," CMD or any local user can make — would
 * paste as --rw /tmp/x --rw /etc. And `touch /f` is denied on "/", where the flag would open the
 * whole filesystem.
 */
function pathFlag(flag: '--ro' | '--rox' | '--rw' | '--unix', path: string): string {
  if (path === '/') return `only ${flag} / would allow it, which opens the whole filesystem: not suggested`;
  if (path.includes(',')) {
    return `no flag can name ${q(path)}: ward run splits ${flag}'s value at commas; if it is to be allowed, list it under "${flag.slice(2)}" in a --profile file`;
  }
  return `${flag} ${q(path)}`;
}

/** The flag that would allow this denial, or a sentence when no ward run flag does. */
export function hintFor(d: Denial): string {
  const b = d.blockers;
  const has = (x: string) => b.includes(x);
  if (b.some((x) => x.startsWith('net.'))) {
    if (has('net.bind_tcp')) return d.port !== undefined ? `--bind-tcp ${d.port}` : '--bind-tcp PORT';
    if (has('net.connect_tcp')) return d.port !== undefined ? `--connect-tcp ${d.port}` : '--connect-tcp PORT';
    return '--allow-udp';
  }
  if (has('scope.signal')) return '--allow-signals-out';
  if (has('scope.abstract_unix_socket')) return '--allow-abstract-unix-out';
  if (has('fs.refer')) return 'moving or linking files between directories (refer) is not granted by ward run: copy instead';
  if (has('fs.resolve_unix')) return d.path ? pathFlag('--unix', d.path) : '--unix PATH';
  const p = d.path;
  if (!p) return `a right ward run does not grant by path (${b.join(', ')})`;
  const writes = ['fs.make_reg', 'fs.make_dir', 'fs.make_sym', 'fs.make_fifo', 'fs.make_sock', 'fs.make_char', 'fs.make_block', 'fs.remove_file', 'fs.remove_dir'];
  if (b.some((x) => writes.includes(x))) return pathFlag('--rw', p); // creation and removal are checked on the directory
  if (has('fs.write_file') || has('fs.truncate') || has('fs.ioctl_dev')) return pathFlag('--rw', p);
  if (has('fs.execute')) return pathFlag('--rox', readTarget(p));
  if (has('fs.read_dir')) return pathFlag('--ro', readTarget(p + '/') === p + '/' ? p : readTarget(p + '/'));
  if (has('fs.read_file')) return pathFlag('--ro', readTarget(p));
  return pathFlag('--rw', dirOf(p));
}

/** One line per denial: what, the missing right, the flag. */
export function describeDenial(d: Denial): string {
  const what = d.path ?? (d.port !== undefined ? `port ${d.port}` : d.target ?? 'unknown object');
  return `denied ${d.blockers.map((x) => x.replace(/^(fs|net|scope)\./, '')).join(', ')} on ${what}${d.target && d.path ? ` (${d.target})` : ''} — allow with: ${hintFor(d)}`;
}

/** A refusal by ward's seccomp layer (an AUDIT_SECCOMP record names only the system call). */
export function seccompHint(syscall: string): string {
  if (syscall === 'socket') {
    return 'refused socket() (seccomp layer) — unix sockets: --allow-unix-sockets or --unix PATH; UDP: --allow-udp; other protocols and families: --unrestricted-net';
  }
  if (syscall === 'ioctl') return 'refused a TIOCSTI/TIOCLINUX ioctl (seccomp layer): typing into the terminal is never allowed (and TIOCSPGRP while sharing the caller\'s terminal)';
  if (syscall === 'setpgid') return 'refused setpgid into another process group (seccomp layer): sharing the caller\'s terminal, CMD may not join its foreground; run ward from a script (own session) if CMD needs job control';
  if (/^(shm|sem|msg)/.test(syscall)) return `refused ${syscall} (seccomp layer): SysV IPC reaches objects outside the sandbox; allow with --allow-sysv-ipc`;
  if (['add_key', 'request_key', 'keyctl'].includes(syscall)) return `refused ${syscall} (seccomp layer): the user's keyrings are shared with processes outside; allow with --allow-keyrings`;
  if (syscall === 'io_uring_setup') return 'refused io_uring_setup (seccomp layer): io_uring is not available in ward run';
  return `refused ${syscall} (seccomp layer)`;
}

/** What a run was denied, for the summary after it: each distinct denial once, with a count. */
export interface DenialSummary {
  readonly total: number;
  readonly distinct: ReadonlyArray<{ readonly text: string; readonly count: number }>;
  /** The ward run flags that would allow all of them (those a flag can allow). */
  readonly flags: readonly string[];
  /** How many distinct denials no flag allows (their lines say what to do instead). */
  readonly withoutFlag: number;
}

// The seccomp refusals one flag lifts; socket() is ambiguous (unix, UDP or another family).
const SECCOMP_FLAGS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^(shm|sem|msg)/, '--allow-sysv-ipc'],
  [/^(add_key|request_key|keyctl)$/, '--allow-keyrings'],
];

/** Landlock denials and seccomp refusals (by system call name), in the order seen. */
export function summarizeDenials(denials: readonly Denial[], refusedSyscalls: readonly string[]): DenialSummary {
  const counts = new Map<string, { count: number; flag: string | undefined }>();
  const add = (text: string, flag: string | undefined) => {
    const e = counts.get(text);
    if (e) e.count++;
    else counts.set(text, { count: 1, flag });
  };
  for (const d of denials) {
    const h = hintFor(d);
    add(describeDenial(d), h.startsWith('--') ? h : undefined);
  }
  for (const sc of refusedSyscalls) add(seccompHint(sc), SECCOMP_FLAGS.find(([re]) => re.test(sc))?.[1]);
  const hints = new Set([...counts.values()].map((e) => e.flag).filter((f): f is string => f !== undefined));
  // --rw and --rox on a path cover --ro on it.
  for (const h of [...hints]) if (h.startsWith('--ro ') && (hints.has(`--rw ${h.slice(5)}`) || hints.has(`--rox ${h.slice(5)}`))) hints.delete(h);
  return {
    total: denials.length + refusedSyscalls.length,
    distinct: [...counts].map(([text, e]) => ({ text, count: e.count })),
    flags: [...hints],
    withoutFlag: [...counts.values()].filter((e) => e.flag === undefined).length,
  };
}

/** The summary as lines (without the "ward: " prefix). */
export function formatSummary(s: DenialSummary): string[] {
  if (s.total === 0) return ['no Landlock denials'];
  const lines = [`denied during the run: ${s.distinct.length} distinct, ${s.total} in all:`];
  for (const d of s.distinct) lines.push(`  ${d.count}× ${d.text}`);
  // The flags alone on their line, so that it can be pasted (or parsed) as it is.
  if (s.flags.length) lines.push(`to allow these: ${s.flags.join(' ')}`);
  if (s.withoutFlag) lines.push(`${s.withoutFlag} of them no single flag allows: their lines above say what does`);
  return lines;
}
