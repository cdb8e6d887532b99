// One way to fail. Every error ward raises is a WardError whose `code` is a Linux errno name from
// the table below (numbers from include/uapi/asm-generic/errno-base.h and errno.h, which x86-64
// and arm64 share), so a caller, a log and `--json` output all see one closed set of codes.
//
// The rule, per layer:
// - src/policy, src/properties validation, src/util/json: pure code; bad input is an answer, so
//   they RETURN `Result<T>` (`ok`/`fail` below) and never throw for it.
// - src/kernel: a failed system call THROWS a KernelError (errno name + syscall), except calls
//   whose failure is the answer being asked for (AT_EXECVE_CHECK, faccessat, landlock) — those
//   return the errno name as a value.
// - src/trust, src/sandbox, src/enforcer, src/system: throw WardError for faults; return
//   results for verdicts (trusted or not, allowed or not).
// - src/cli: catches, prints `ward: CODE: message` (CliError adds the exit status), never lets a
//   stack trace out.
// - src/node (the enlightened runtime inside an application): throws WardNodeError
//   (src/node/errors.ts), the one other error type. Its refusals reach the application's own
//   code (a denied require/import/eval), so its `code` is Node-style (ERR_WARD_EXEC_DENIED,
//   ERR_WARD_MODULE_DENIED, …) as apps already test Node's errors by `code`; the errno behind a
//   refusal, when there is one, is in its `errno`, typed ErrnoName like everywhere else.
// `errorCode(e)` turns anything caught (WardError, Node's fs errors, a stray Error) into an
// ErrnoName; `describeError(e)` gives the words a person reads.

export const ERRNO = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9,
  ECHILD: 10, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTBLK: 15, EBUSY: 16, EEXIST: 17,
  EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOTTY: 25,
  ETXTBSY: 26, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, EROFS: 30, EMLINK: 31, EPIPE: 32, EDOM: 33,
  ERANGE: 34, EDEADLK: 35, ENAMETOOLONG: 36, ENOLCK: 37, ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40,
  ENOMSG: 42, EIDRM: 43, ECHRNG: 44, EL2NSYNC: 45, EL3HLT: 46, EL3RST: 47, ELNRNG: 48, EUNATCH: 49,
  ENOCSI: 50, EL2HLT: 51, EBADE: 52, EBADR: 53, EXFULL: 54, ENOANO: 55, EBADRQC: 56, EBADSLT: 57,
  EBFONT: 59, ENOSTR: 60, ENODATA: 61, ETIME: 62, ENOSR: 63, ENONET: 64, ENOPKG: 65, EREMOTE: 66,
  ENOLINK: 67, EADV: 68, ESRMNT: 69, ECOMM: 70, EPROTO: 71, EMULTIHOP: 72, EDOTDOT: 73, EBADMSG: 74,
  EOVERFLOW: 75, ENOTUNIQ: 76, EBADFD: 77, EREMCHG: 78, ELIBACC: 79, ELIBBAD: 80, ELIBSCN: 81,
  ELIBMAX: 82, ELIBEXEC: 83, EILSEQ: 84, ERESTART: 85, ESTRPIPE: 86, EUSERS: 87, ENOTSOCK: 88,
  EDESTADDRREQ: 89, EMSGSIZE: 90, EPROTOTYPE: 91, ENOPROTOOPT: 92, EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94, EOPNOTSUPP: 95, EPFNOSUPPORT: 96, EAFNOSUPPORT: 97, EADDRINUSE: 98,
  EADDRNOTAVAIL: 99, ENETDOWN: 100, ENETUNREACH: 101, ENETRESET: 102, ECONNABORTED: 103,
  ECONNRESET: 104, ENOBUFS: 105, EISCONN: 106, ENOTCONN: 107, ESHUTDOWN: 108, ETOOMANYREFS: 109,
  ETIMEDOUT: 110, ECONNREFUSED: 111, EHOSTDOWN: 112, EHOSTUNREACH: 113, EALREADY: 114,
  EINPROGRESS: 115, ESTALE: 116, EUCLEAN: 117, ENOTNAM: 118, ENAVAIL: 119, EISNAM: 120,
  EREMOTEIO: 121, EDQUOT: 122, ENOMEDIUM: 123, EMEDIUMTYPE: 124, ECANCELED: 125, ENOKEY: 126,
  EKEYEXPIRED: 127, EKEYREVOKED: 128, EKEYREJECTED: 129, EOWNERDEAD: 130, ENOTRECOVERABLE: 131,
  ERFKILL: 132, EHWPOISON: 133,
  // POSIX's "not supported", an alias of EOPNOTSUPP on Linux (asm-generic/errno.h has no own
  // number for it): ward says ENOTSUP for a kernel feature this machine lacks.
  ENOTSUP: 95,
} as const;

/** The closed set of error codes: Linux's errno names (and POSIX's ENOTSUP). */
export type ErrnoName = keyof typeof ERRNO;

// First name wins: 95 is EOPNOTSUPP, as strerror and the kernel headers call it.
const BY_NUMBER = new Map<number, ErrnoName>();
for (const [k, v] of Object.entries(ERRNO)) if (!BY_NUMBER.has(v)) BY_NUMBER.set(v, k as ErrnoName);

export function isErrnoName(s: unknown): s is ErrnoName {
  return typeof s === 'string' && Object.hasOwn(ERRNO, s);
}

/**
 * The name of an errno number. The table is Linux's complete list (1–133), so any errno the
 * kernel returns has a name; a number outside it is not an errno and is reported as EIO.
 */
export function errnoName(num: number): ErrnoName {
  return BY_NUMBER.get(Math.abs(num)) ?? 'EIO';
}

export class WardError extends Error {
  readonly code: ErrnoName;
  constructor(code: ErrnoName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WardError';
    this.code = code;
  }
  get errno(): number {
    return ERRNO[this.code];
  }
}

/**
 * The errno name of anything caught: a WardError's code, a Node system error's code (libuv names;
 * another name is mapped through its number), else `fallback` (EIO: an I/O fault).
 */
export function errorCode(e: unknown, fallback: ErrnoName = 'EIO'): ErrnoName {
  return carriedCode(e) ?? fallback;
}

function carriedCode(e: unknown): ErrnoName | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, errno } = e as { code?: unknown; errno?: unknown };
  if (isErrnoName(code)) return code;
  if (typeof errno === 'number' && BY_NUMBER.has(Math.abs(errno))) return errnoName(errno);
  return undefined;
}

// strerror(3)'s words for the errors people meet most; the rest show their code alone.
const REASONS: Partial<Record<ErrnoName, string>> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  EIO: 'input/output error',
  EACCES: 'permission denied',
  EEXIST: 'file exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EINVAL: 'invalid argument',
  ETXTBSY: 'text file busy',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  ELOOP: 'too many levels of symbolic links',
  ENOSYS: 'function not implemented',
  ENAMETOOLONG: 'file name too long',
  EOPNOTSUPP: 'operation not supported',
  ENOEXEC: 'exec format error',
  EBUSY: 'device or resource busy',
  ECONNREFUSED: 'connection refused',
};

/** strerror-like words for a code ("no such file or directory"), or the code itself. */
export function errnoText(code: ErrnoName): string {
  return REASONS[code] ?? code;
}

/**
 * What went wrong, in words: a WardError's own message (it was written for a person), else the
 * errno's words. The code is not repeated: callers print `CODE: ` + this where they want it.
 */
export function describeError(e: unknown): string {
  if (e instanceof WardError) return e.message;
  const code = carriedCode(e);
  if (code !== undefined) return errnoText(code);
  return e instanceof Error ? e.message : String(e);
}

export type Result<T, E = WardError> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}
