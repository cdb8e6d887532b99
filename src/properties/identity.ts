// A file's identity for caching: same (dev, ino, size, mtime, ctime) = same content, as far as
// user space can tell. A writer that keeps all five unchanged is not detectable (see
// docs/properties.md). execve itself refuses a file open for writing (ETXTBSY: deny_write_access
// in do_open_execat), so an exec'd file cannot change through a writer that is still open.

import { fstatSync } from 'node:fs';

export interface FileIdentity {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly mode: number;
  readonly key: string;
}

export function identityOfFd(fd: number): FileIdentity {
  const st = fstatSync(fd, { bigint: true });
  return {
    dev: st.dev,
    ino: st.ino,
    size: st.size,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    mode: Number(st.mode),
    key: `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`,
  };
}
