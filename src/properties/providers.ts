// What backs each IPE property on this machine. The kernel answers where it can; where a
// property's provider does not exist, the property is "absent" and, as in a kernel built without
// it, both NAME=TRUE and NAME=FALSE evaluate false.

import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { measureVerity } from '../kernel/files.ts';

/** How a property is backed here; `source` says in a few words what ward reads. */
export type PropertyBacking =
  | { kind: 'kernel'; source: string; detail: string }
  | { kind: 'user-space'; source: string; detail: string }
  | { kind: 'absent'; source: string; detail: string };

export interface MachineProviders {
  /** st_dev of "/" when this process started looking (ward's notion of the boot superblock). */
  bootDev: bigint;
  /** The kernel can measure fs-verity files (FS_IOC_MEASURE_VERITY is known on the root fs). */
  kernelFsverity: boolean;
  /** The kernel verifies fs-verity built-in signatures (CONFIG_FS_VERITY_BUILTIN_SIGNATURES). */
  kernelFsveritySignatures: boolean;
  /** dm-verity is part of this kernel (built in, loaded, or a module it can load). */
  kernelDmverity: boolean;
  /**
   * dm-verity checks root-hash signatures (CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG, on which IPE's
   * dmverity_signature provider depends): dmverity_signature is TRUE or FALSE, never unknown.
   * Absent = not known (dm-verity not loaded and no kernel config to read).
   */
  dmveritySignatures?: boolean;
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

function kernelConfig(name: string): string | undefined {
  // Debian and most distributions ship the build config beside the kernel.
  let text: string;
  try {
    text = readFileSync(`/boot/config-${release()}`, 'utf8');
  } catch {
    return undefined;
  }
  const m = new RegExp(`^${name}=(.*)$`, 'm').exec(text);
  return m ? m[1] : text.includes(`# ${name} is not set`) ? 'n' : undefined;
}

interface DmVerityProbe {
  present: boolean;
  signatures: boolean | undefined;
}
let dmProbe: DmVerityProbe | undefined;
let dmProbedAt = 0;
const DM_REPROBE_MS = 5000;

// dm-verity is usually a module loaded when the first verity device is set up (veritysetup),
// possibly after ward started: a complete answer is kept, an incomplete one asked again, at
// most every few seconds (a daemon evaluates properties on every exec).
function probeDmverity(): DmVerityProbe {
  if (dmProbe && ((dmProbe.present && dmProbe.signatures !== undefined) || Date.now() - dmProbedAt < DM_REPROBE_MS)) return dmProbe;
  dmProbedAt = Date.now();
  let r: DmVerityProbe;
  if (existsSync('/sys/module/dm_verity')) {
    // module_param(require_signatures) lives in dm-verity-verify-sig.c, built only with
    // CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG: the parameter's presence is the option's.
    r = { present: true, signatures: existsSync('/sys/module/dm_verity/parameters/require_signatures') };
  } else {
    const dm = kernelConfig('CONFIG_DM_VERITY');
    const sig = kernelConfig('CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG');
    const moduleFile = ['dm-verity.ko', 'dm-verity.ko.xz', 'dm-verity.ko.zst', 'dm-verity.ko.gz'].some((f) => existsSync(`/lib/modules/${release()}/kernel/drivers/md/${f}`));
    const present = dm === 'y' || dm === 'm' || moduleFile;
    r = { present, signatures: present && sig !== undefined ? sig === 'y' : undefined };
  }
  dmProbe = r;
  return r;
}

export function machineProviders(): MachineProviders {
  cached ??= {
    bootDev: statSync('/', { bigint: true }).dev,
    kernelFsverity: probeKernelFsverity(),
    // The sysctl exists exactly when the kernel is built with built-in signature verification
    // (fs/verity/signature.c in 6.1; fs/verity/init.c's table, under the same #ifdef, in 6.12).
    kernelFsveritySignatures: existsSync('/proc/sys/fs/verity/require_signatures'),
    get kernelDmverity() {
      return probeDmverity().present;
    },
    get dmveritySignatures() {
      return probeDmverity().signatures;
    },
  };
  return cached;
}

/** How each property is backed here, for `ward status` and the docs. */
export function propertyBackings(m: MachineProviders = machineProviders()): Record<string, PropertyBacking> {
  const dmSig = m.dmveritySignatures;
  return {
    boot_verified: {
      kind: 'user-space',
      source: 'st_dev of "/" at start',
      detail: 'TRUE for files on the superblock of "/" as mounted when ward started (the kernel uses the initramfs superblock)',
    },
    fsverity_digest: m.kernelFsverity
      ? { kind: 'kernel', source: 'kernel measurement / user-space digest', detail: 'kernel measurement for fs-verity files; computed in user space (same digest) for the others' }
      : { kind: 'user-space', source: 'user-space digest', detail: 'computed in user space (the fs-verity file digest, equal to `fsverity digest`): this kernel has no fs-verity' },
    fsverity_signature: !m.kernelFsverity
      ? { kind: 'absent', source: 'no fs-verity', detail: 'this kernel has no fs-verity: =TRUE and =FALSE both never match' }
      : m.kernelFsveritySignatures
        ? { kind: 'kernel', source: 'fs-verity built-in signature (FS_IOC_READ_VERITY_METADATA)', detail: 'TRUE for fs-verity files carrying a built-in signature (the kernel verified it against its .fs-verity keyring before the file could be opened); FALSE for the others' }
        : { kind: 'absent', source: 'no built-in signatures', detail: 'this kernel does not verify fs-verity built-in signatures (no CONFIG_FS_VERITY_BUILTIN_SIGNATURES): =TRUE and =FALSE both never match' },
    dmverity_roothash: m.kernelDmverity
      ? {
          kind: 'kernel',
          source: 'device-mapper table',
          detail: 'the root hash of the single-target verity table of the block device the file\'s filesystem is on (DM_TABLE_STATUS on /dev/mapper/control, needs CAP_SYS_ADMIN), as "ALG:HEX"; no match off dm-verity',
        }
      : { kind: 'absent', source: 'no dm-verity', detail: 'this kernel has no dm-verity: never matches' },
    dmverity_signature: !m.kernelDmverity
      ? { kind: 'absent', source: 'no dm-verity', detail: 'this kernel has no dm-verity: =TRUE and =FALSE both never match' }
      : dmSig === true
        ? {
            kind: 'kernel',
            source: 'device-mapper table',
            detail: 'TRUE when the file\'s block device is dm-verity built with a root-hash signature the kernel verified (root_hash_sig_key_desc in its table); FALSE otherwise',
          }
        : dmSig === false
          ? { kind: 'absent', source: 'no root-hash signatures', detail: 'dm-verity here was built without CONFIG_DM_VERITY_VERIFY_ROOTHASH_SIG: =TRUE and =FALSE both never match (as in IPE)' }
          : {
              kind: 'absent',
              source: 'not known yet',
              detail: 'dm-verity is not loaded and the kernel config is not readable, so ward cannot tell whether it checks root-hash signatures: unknown until it is loaded (a verity device on dm reads as usual)',
            },
  };
}
