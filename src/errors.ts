// Errors are values with an errno-style code, a human message, and (for the CLI) an exit code.
// Numbers are Linux's (include/uapi/asm-generic/errno-base.h, errno.h).

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ENOTTY: 25,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  EMLINK: 31,
  EPIPE: 32,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENODATA: 61,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
  ECONNREFUSED: 111,
  EBADMSG: 74,
  EOVERFLOW: 75,
  ESTALE: 116,
  ENOKEY: 126,
  EKEYREJECTED: 129,
} as const;

export type ErrnoName = keyof typeof ERRNO;

export function errnoName(num: number): string {
  for (const [name, value] of Object.entries(ERRNO)) if (value === num) return name;
  return `E${num}`;
}

export class WardError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WardError';
    this.code = code;
  }
  get errno(): number | undefined {
    return (ERRNO as Record<string, number>)[this.code];
  }
}

export type Result<T, E = WardError> = { ok: true; value: T } | { ok: false; error: E };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail<E>(error: E): { ok: false; error: E } {
  return { ok: false, error };
}
