// The errors an enlightened Node raises. They carry a `code` like Node's own errors so apps and
// logs can tell them apart.

export type WardNodeCode = 'ERR_WARD_EXEC_DENIED' | 'ERR_WARD_CODE_DENIED' | 'ERR_WARD_MODULE_DENIED' | 'ERR_WARD_EPERM';

export class WardNodeError extends Error {
  readonly code: WardNodeCode;
  readonly errno?: string;
  constructor(code: WardNodeCode, message: string, errno?: string) {
    super(message);
    this.name = 'WardNodeError';
    this.code = code;
    if (errno) this.errno = errno;
  }
}
