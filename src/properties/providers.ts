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
      return !('errno' in r) || r.errno === 'ENODATA';
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
    fsverity_signature: m.kernelFsverity
      ? { kind: 'kernel', detail: 'FALSE for files without fs-verity; unknown (never matches) for signed files: ward cannot see whether the kernel verified the signature' }
      : { kind: 'absent', detail: 'this kernel has no fs-verity: =TRUE and =FALSE both never match' },
    dmverity_roothash: m.kernelDmverity
      ? { kind: 'absent', detail: 'dm-verity is present but ward does not read root hashes yet: never matches' }
      : { kind: 'absent', detail: 'this kernel has no dm-verity: never matches' },
    dmverity_signature: m.kernelDmverity
      ? { kind: 'kernel', detail: 'FALSE for files not on a device-mapper device; unknown (never matches) on dm devices' }
      : { kind: 'absent', detail: 'this kernel has no dm-verity: =TRUE and =FALSE both never match' },
  };
}
