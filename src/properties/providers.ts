// What backs each IPE property on this machine. The kernel answers where it can; where a
// property's provider does not exist, the property is "absent" and, as in a kernel built without
// it, both NAME=TRUE and NAME=FALSE evaluate false.

import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import { measureVerity } from '../kernel/files.ts';

export type PropertyBacking =
  | { kind: 'kernel'; detail: string }
  | { kind: 'user-space'; detail: string }
  | { kind: 'absent'; detail: string };

export interface MachineProviders {
  /** st_dev of "/" when this process started looking (ward's notion of the boot superblock). */
  bootDev: bigint;
  /** The kernel can measure fs-verity files (FS_IOC_MEASURE_VERITY is known on the root fs). */
  kernelFsverity: boolean;
  /** The kernel verifies fs-verity built-in signatures (CONFIG_FS_VERITY_BUILTIN_SIGNATURES). */
  kernelFsveritySignatures: boolean;
  /** dm-verity is part of this kernel (built in or loaded). */
  kernelDmverity: boolean;
}

let cached: MachineProviders | undefined;

function probeKernelFsverity(): boolean {
  // The kernel has fs-verity even when "/" cannot hold it (an overlay, 9p, tmpfs root): its
  // sysctl directory (fs/verity/init.c) or a filesystem's "verity" feature says so.
  for (const p of ['/proc/sys/fs/verity', '/sys/fs/ext4/features/verity', '/sys/fs/f2fs/features/verity', '/sys/fs/btrfs/features/verity']) {
    if (existsSync(p)) return true;
  }
  // ENODATA = the filesystem supports fs-verity and this file just has none;
  // EOPNOTSUPP / ENOTTY = no fs-verity here.
  for (const probe of ['/etc/hostname', '/etc/passwd', '/bin/sh']) {
    let fd: number | undefined;
    try {
      fd = openSync(probe, 'r');
      const r = measureVerity(fd);
      return r.ok || r.error === 'ENODATA';
    } catch {
      /* try the next */
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return false;
}

export function machineProviders(): MachineProviders {
  cached ??= {
    bootDev: statSync('/', { bigint: true }).dev,
    kernelFsverity: probeKernelFsverity(),
    // The sysctl exists exactly when the kernel is built with built-in signature verification
    // (fs/verity/signature.c in 6.1; fs/verity/init.c's table, under the same #ifdef, in 6.12).
    kernelFsveritySignatures: existsSync('/proc/sys/fs/verity/require_signatures'),
    kernelDmverity: existsSync('/sys/module/dm_verity'),
  };
  return cached;
}

/** How each property is backed here, for `ward status` and the docs. */
export function propertyBackings(m: MachineProviders = machineProviders()): Record<string, PropertyBacking> {
  return {
    boot_verified: {
      kind: 'user-space',
      detail: 'TRUE for files on the superblock of "/" as mounted when ward started (the kernel uses the initramfs superblock)',
    },
    fsverity_digest: m.kernelFsverity
      ? { kind: 'kernel', detail: 'kernel measurement for fs-verity files; computed in user space (same digest) for the others' }
      : { kind: 'user-space', detail: 'computed in user space (the fs-verity file digest, equal to `fsverity digest`): this kernel has no fs-verity' },
    fsverity_signature: !m.kernelFsverity
      ? { kind: 'absent', detail: 'this kernel has no fs-verity: =TRUE and =FALSE both never match' }
      : m.kernelFsveritySignatures
        ? { kind: 'kernel', detail: 'TRUE for fs-verity files carrying a built-in signature (the kernel verified it against its .fs-verity keyring before the file could be opened); FALSE for the others' }
        : { kind: 'absent', detail: 'this kernel does not verify fs-verity built-in signatures (no CONFIG_FS_VERITY_BUILTIN_SIGNATURES): =TRUE and =FALSE both never match' },
    dmverity_roothash: m.kernelDmverity
      ? { kind: 'absent', detail: 'dm-verity is present but ward does not read root hashes yet: never matches' }
      : { kind: 'absent', detail: 'this kernel has no dm-verity: never matches' },
    dmverity_signature: m.kernelDmverity
      ? { kind: 'kernel', detail: 'FALSE for files not on a device-mapper device; unknown (never matches) on dm devices' }
      : { kind: 'absent', detail: 'this kernel has no dm-verity: =TRUE and =FALSE both never match' },
  };
}
