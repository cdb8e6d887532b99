// dmverity_roothash and dmverity_signature of a block device, as the kernel's IPE sees them.
//
// IPE (security/ipe/hooks.c ipe_bdev_setintegrity, eval.c) keeps both on the block device of the
// file's superblock (i_sb->s_bdev). dm-verity fills them in verity_preresume()
// (drivers/md/dm-verity-target.c), every time a table goes live:
// - the root hash as { crypto_ahash_alg_name(tfm), root_digest }: evaluate_dmv_roothash()
//   compares the policy's "alg:hex" with it (ipe_digest_eval: same length, same algorithm name
//   by strcmp, same bytes);
// - "signed" when the table was built with a root-hash signature (v->root_digest_sig, only set
//   when `root_hash_sig_key_desc` was given; verity_ctr() refuses the table unless
//   verity_verify_root_hash() verified that signature against the trusted keyrings), so
//   dmverity_signature=TRUE exactly when the live verity table carries root_hash_sig_key_desc,
//   and FALSE for every other block device (evaluate_dmv_sig_false: no blob or not signed).
// The live table (DM_TABLE_STATUS, STATUSTYPE_TABLE) prints the same values (verity_status):
// "<version> <data dev> <hash dev> <data block size> <hash block size> <data blocks>
// <hash start> <algorithm> <root digest> <salt|-> [<#opt args> <opt args>…]". verity is a
// DM_TARGET_SINGLETON: a table with a verity target has exactly one target. Anything that does
// not parse exactly is reported as unknown (never as a match or a verified signature).

import { dmTableStatus, isDeviceMapper } from '../kernel/devmapper.ts';
import { BTRFS_SUPER_MAGIC, fstatfsType, fstatx, OVERLAYFS_SUPER_MAGIC } from '../kernel/files.ts';
import type { ErrnoName } from '../errors.ts';

/**
 * Digest sizes (bytes) of the crypto API's generic hash names (cra_name). The table prints the
 * name it was given; IPE compares cra_name. They agree for these names; a driver name
 * ("sha256-generic", "sha256-ni") would differ, so only these are trusted to mirror the kernel.
 */
export const VERITY_HASHES: Readonly<Record<string, number>> = {
  md5: 16, sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64,
  'sha3-224': 28, 'sha3-256': 32, 'sha3-384': 48, 'sha3-512': 64,
  'blake2b-160': 20, 'blake2b-256': 32, 'blake2b-384': 48, 'blake2b-512': 64,
  sm3: 32, streebog256: 32, streebog512: 64, rmd160: 20, wp256: 32, wp384: 48, wp512: 64,
};

/** Optional arguments verity_status() emits, with how many values follow each. */
const OPT_ARGS: Readonly<Record<string, number>> = {
  ignore_corruption: 0, restart_on_corruption: 0, panic_on_corruption: 0,
  restart_on_error: 0, panic_on_error: 0,
  ignore_zero_blocks: 0, check_at_most_once: 0, try_verify_in_tasklet: 0,
  use_fec_from_device: 1, fec_roots: 1, fec_blocks: 1, fec_start: 1,
  root_hash_sig_key_desc: 1,
};

export interface VerityTable {
  version: number;
  dataDev: string;
  hashDev: string;
  dataBlockSize: number;
  hashBlockSize: number;
  dataBlocks: bigint;
  hashStart: bigint;
  algorithm: string;
  /** Lower-case hex, as the kernel prints it. */
  rootDigest: string;
  salt: string | undefined;
  /** Optional arguments by name (value '' for flags). */
  options: Record<string, string>;
  /** The key description of a root-hash signature the kernel verified, if any. */
  signatureKeyDesc: string | undefined;
}

const DEC = /^(0|[1-9][0-9]*)$/;
const DEVNUM = /^[0-9]+:[0-9]+$/;
const HEX = /^([0-9a-f]{2})+$/;

function powerOfTwo(s: string): number | undefined {
  if (!DEC.test(s)) return undefined;
  const n = Number(s);
  return n > 0 && Number.isSafeInteger(n) && (n & (n - 1)) === 0 ? n : undefined;
}

/** Parses a verity target's table line exactly as verity_status() prints it; undefined if it does not fit. */
export function parseVerityTable(params: string): VerityTable | undefined {
  const t = params.split(' ');
  if (t.length < 10 || t.some((x) => x === '')) return undefined;
  const [version, dataDev, hashDev, dbs, hbs, blocks, start, algorithm, digest, salt] = t as [string, string, string, string, string, string, string, string, string, string];
  if (version !== '0' && version !== '1') return undefined;
  if (!DEVNUM.test(dataDev) || !DEVNUM.test(hashDev)) return undefined;
  const dataBlockSize = powerOfTwo(dbs);
  const hashBlockSize = powerOfTwo(hbs);
  if (dataBlockSize === undefined || hashBlockSize === undefined || !DEC.test(blocks) || !DEC.test(start)) return undefined;
  const size = VERITY_HASHES[algorithm];
  if (size === undefined || !Object.hasOwn(VERITY_HASHES, algorithm)) return undefined;
  if (digest.length !== size * 2 || !HEX.test(digest)) return undefined;
  if (salt !== '-' && !HEX.test(salt)) return undefined;
  const options: Record<string, string> = {};
  if (t.length > 10) {
    const count = t[10]!;
    if (!DEC.test(count) || Number(count) !== t.length - 11 || Number(count) === 0) return undefined;
    for (let i = 11; i < t.length; ) {
      const name = t[i]!;
      const arity = OPT_ARGS[name];
      if (arity === undefined || !Object.hasOwn(OPT_ARGS, name) || Object.hasOwn(options, name)) return undefined;
      if (i + arity > t.length - 1) return undefined; // its value is missing
      options[name] = arity === 0 ? '' : t[i + 1]!;
      i += 1 + arity;
    }
  }
  return {
    version: Number(version),
    dataDev,
    hashDev,
    dataBlockSize,
    hashBlockSize,
    dataBlocks: BigInt(blocks),
    hashStart: BigInt(start),
    algorithm,
    rootDigest: digest,
    salt: salt === '-' ? undefined : salt,
    options,
    signatureKeyDesc: options.root_hash_sig_key_desc,
  };
}

/** What ward found on a block device, for the two dm-verity properties. */
export type DmVerityState =
  /** Not a device-mapper device: no root hash; not signed (IPE: FALSE). */
  | { kind: 'not-dm' }
  /** A dm device whose live table is not a single verity target (linear, crypt, none…). */
  | { kind: 'not-verity'; targets: string[] }
  /** A dm-verity device. */
  | { kind: 'verity'; name: string; table: VerityTable; roothash: string; signed: boolean }
  /** ward could not tell (no privilege, a table it cannot parse): both properties unknown. */
  | { kind: 'unknown'; reason: string; errno?: ErrnoName };

/**
 * The dm-verity state of the block device the file behind fd is on. IPE takes it from the real
 * inode's superblock (d_real_inode()->i_sb->s_bdev); st_dev is that device except where a
 * filesystem reports another number: overlayfs (its own or a per-layer anonymous device:
 * fs/overlayfs/inode.c ovl_map_dev_ino) and btrfs (an anonymous device per subvolume, while
 * s_bdev is one of its disks). There ward cannot name the device, so both are unknown.
 * Other filesystems on an anonymous device (major 0: tmpfs, 9p, NFS, FUSE…) have no block
 * device at all: not dm-verity, not signed.
 */
export function dmVerityOfFd(fd: number): DmVerityState {
  const st = fstatx(fd);
  const type = fstatfsType(fd);
  if (type === OVERLAYFS_SUPER_MAGIC || type === BTRFS_SUPER_MAGIC) {
    return { kind: 'unknown', reason: `the file is on ${type === OVERLAYFS_SUPER_MAGIC ? 'overlayfs' : 'btrfs'}, whose st_dev is not the block device the kernel uses` };
  }
  if (st.devMajor === 0) return { kind: 'not-dm' };
  return dmVerityOfDevice(st.devMajor, st.devMinor);
}

/** The dm-verity state of the block device major:minor (a file's st_dev), read from the kernel. */
export function dmVerityOfDevice(major: number, minor: number): DmVerityState {
  const dm = isDeviceMapper(major, minor);
  if (dm === false) return { kind: 'not-dm' };
  const r = dmTableStatus(major, minor);
  if (!r.ok) {
    // ENXIO: no dm device by that number (dm-ioctl.c __find_device_hash_cell). When sysfs could
    // not tell, that is the answer; when sysfs said dm, the device is being removed while the
    // file still holds it (and IPE still holds its root hash): not knowable, so unknown.
    if (r.error === 'ENXIO' && dm === undefined) return { kind: 'not-dm' };
    return { kind: 'unknown', reason: `cannot read the device-mapper table of ${major}:${minor} (${r.error})`, errno: r.error };
  }
  const types = r.value.targets.map((x) => x.type);
  if (!types.includes('verity')) return { kind: 'not-verity', targets: types };
  // verity is a singleton target; a second target next to it would be a table the kernel never builds.
  if (r.value.targets.length !== 1) return { kind: 'unknown', reason: `device-mapper table of ${r.value.name} has ${types.length} targets with verity among them` };
  const table = parseVerityTable(r.value.targets[0]!.params);
  if (!table) return { kind: 'unknown', reason: `verity table of ${r.value.name} does not parse: ${r.value.targets[0]!.params}` };
  return { kind: 'verity', name: r.value.name, table, roothash: `${table.algorithm}:${table.rootDigest}`, signed: table.signatureKeyDesc !== undefined };
}
