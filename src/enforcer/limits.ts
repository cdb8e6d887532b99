// Limits that depend on the machine rather than on the backend, for `ward daemon-status`.

import { readFileSync } from 'node:fs';

/**
 * boot_verified is "on the superblock of / as mounted when ward started" (docs/properties.md).
 * When that filesystem is writable, every file a user can write there (/tmp, /var/tmp, home
 * directories on /) is boot_verified too: a policy that allows boot_verified lets any user run
 * what they put on it. Kernel IPE means the initramfs; ward's meaning is only as strong as /.
 */
export function bootVerifiedLimit(mountinfo?: string): string | undefined {
  let text = mountinfo;
  try {
    text ??= readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  // The last mount at / is the one in effect (proc(5): field 5 is the mount point, 6 its options).
  const root = text.split('\n').map((l) => l.split(' ')).filter((f) => f[4] === '/').at(-1);
  if (!root || !(root[5] ?? '').split(',').includes('rw')) return undefined;
  return 'boot_verified=TRUE holds for every file on the root filesystem, mounted read-write here: a policy that allows boot_verified lets any user run what they write on it (/tmp, /var/tmp, home directories on /); allow by digest, or make / read-only (dm-verity)';
}
