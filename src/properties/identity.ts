// A file's identity for caching: same (dev, ino, size, mtime, ctime) = same content, as far as
// user space can tell. A writer that keeps all five unchanged is not detectable (see
// docs/properties.md). execve itself refuses a file open for writing (ETXTBSY: deny_write_access
// in do_open_execat), so an exec'd file cannot change through a writer that is still open.
//
// Unprivileged users CAN keep all five unchanged: on tmpfs (shmem has no dirty-page tracking,
// mm/memory.c fault_dirty_shared_page updates the times only on a write *fault*), a shared
// writable mapping whose pages were first read-faulted is mapped writable at once, and later
// writes through it change the content without touching mtime or ctime. So an identity stands
// for the content only when no one but root can write the file (contentRootOnly).

import { fstatSync } from 'node:fs';

export interface FileIdentity {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly mode: number;
  readonly uid: number;
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
    uid: Number(st.uid),
    key: `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`,
  };
}

/**
 * true when only root can change the file's content: owned by uid 0 and not writable by group or
 * others (with POSIX ACLs the group bits are the ACL mask, so a named user's write grant shows
 * there too). Only for such files may a result be reused on (dev, ino, size, mtime, ctime): the
 * owner of any other file can rewrite it through a shared mapping keeping all five (see above).
 */
export function contentRootOnly(identity: FileIdentity): boolean {
  return identity.uid === 0 && (identity.mode & 0o022) === 0;
}
