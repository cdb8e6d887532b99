// Reads a device-mapper device's live table from the kernel: the DM_TABLE_STATUS ioctl on
// /dev/mapper/control with DM_STATUS_TABLE_FLAG (what `dmsetup table` prints), selecting the
// device by its dev_t. Only reads; what a table means is decided in src/properties.
//
// Kernel behaviour mirrored (drivers/md/dm-ioctl.c):
// - __find_device_hash_cell(): with name and uuid empty, the device is looked up by
//   huge_decode_dev(param->dev); a dev_t that is not a dm device is ENXIO.
// - ctl_ioctl() needs CAP_SYS_ADMIN (EACCES otherwise); check_version() refuses another major
//   interface version (EINVAL), so ward sends 4.0.0, which every 4.x kernel accepts.
// - retrieve_status(): targets follow the struct at data_start, each a struct dm_target_spec
//   with its NUL-terminated parameter string after it; spec.next is the offset of the next spec
//   from the FIRST spec. A buffer too small sets DM_BUFFER_FULL_FLAG and nothing is complete.

import { closeSync, existsSync, openSync } from 'node:fs';
import { errnoName, errorCode, fail, ok, type ErrnoName, type Result } from '../errors.ts';
import { arch } from './arch.ts';
import { fn, lastErrno } from './ffi.ts';
import { O_CLOEXEC } from './files.ts';

export const DM_CONTROL = '/dev/mapper/control';

export interface DmTarget {
  /** First sector (512 bytes) of the device this target maps. */
  sectorStart: bigint;
  /** Sectors it maps. */
  length: bigint;
  /** The target type's name, e.g. "verity", "linear", "crypt". */
  type: string;
  /** The target's table line (STATUSTYPE_TABLE), e.g. "1 7:0 7:1 4096 4096 …". */
  params: string;
}

export interface DmTable {
  /** The device's dm name (what /dev/mapper/NAME is called). */
  name: string;
  uuid: string;
  /** The live table's targets, in order; empty when the device has no live table. */
  targets: DmTarget[];
}

/** new_encode_dev() (include/linux/kdev_t.h), which huge_decode_dev() undoes. */
export function encodeDev(major: number, minor: number): bigint {
  return BigInt(minor & 0xff) | (BigInt(major) << 8n) | (BigInt(minor & ~0xff) << 12n);
}

/**
 * Whether major:minor is a device-mapper device: true when sysfs shows its `dm` directory
 * (dm-sysfs.c), false when sysfs lists the device without one, undefined when sysfs does not
 * list it at all — not mounted here (a container's or a mount namespace's private /sys), so it
 * cannot tell, and the caller asks the dm ioctl (ENXIO: no dm device has that number).
 */
export function isDeviceMapper(major: number, minor: number): boolean | undefined {
  if (existsSync(`/sys/dev/block/${major}:${minor}/dm`)) return true;
  return existsSync(`/sys/dev/block/${major}:${minor}`) ? false : undefined;
}

function cString(buf: Buffer, start: number, max: number): string | undefined {
  const end = buf.indexOf(0, start);
  if (end < 0 || end > start + max) return undefined;
  return buf.toString('latin1', start, end);
}

const MAX_BUFFER = 1 << 20;
let controlFd: number | undefined;

function control(): Result<number, ErrnoName> {
  if (controlFd !== undefined) return ok(controlFd);
  try {
    // O_RDWR as dmsetup opens it; kept open for the process (a daemon asks on every exec).
    controlFd = openSync(DM_CONTROL, 2 | O_CLOEXEC);
    return ok(controlFd);
  } catch (e) {
    const code = errorCode(e);
    return fail(code === 'ENOENT' || code === 'EACCES' || code === 'EPERM' || code === 'ENODEV' || code === 'ENXIO' ? code : 'EIO');
  }
}

/** Closes the kept control fd (tests; a daemon keeps it). */
export function closeDmControl(): void {
  if (controlFd !== undefined) closeSync(controlFd);
  controlFd = undefined;
}

/**
 * The live table of the dm device major:minor. Fails with ENXIO (not a dm device), EACCES (no
 * CAP_SYS_ADMIN), ENOENT (no /dev/mapper/control: dm not in this kernel), or EIO for an answer
 * that does not fit the struct layout (never guessed around).
 */
export function dmTableStatus(major: number, minor: number): Result<DmTable, ErrnoName> {
  const L = arch().dm;
  const c = control();
  if (!c.ok) return c;
  const ioctl = fn('int ioctl(int fd, unsigned long req, _Inout_ uint8_t *arg)');
  for (let size = 16384; size <= MAX_BUFFER; size *= 4) {
    const buf = Buffer.alloc(size);
    L.version.forEach((v, i) => buf.writeUInt32LE(v, L.ioctl.version + 4 * i));
    buf.writeUInt32LE(size, L.ioctl.data_size);
    buf.writeUInt32LE(L.sizeofDmIoctl, L.ioctl.data_start);
    buf.writeUInt32LE(L.flags.DM_STATUS_TABLE_FLAG, L.ioctl.flags);
    buf.writeBigUInt64LE(encodeDev(major, minor), L.ioctl.dev);
    if (Number(ioctl(c.value, L.DM_TABLE_STATUS, buf)) !== 0) return fail(errnoName(lastErrno()));
    const flags = buf.readUInt32LE(L.ioctl.flags);
    if (flags & L.flags.DM_BUFFER_FULL_FLAG) continue;
    const name = cString(buf, L.ioctl.name, 128) ?? '';
    const uuid = cString(buf, L.ioctl.uuid, 129) ?? '';
    if (!(flags & L.flags.DM_ACTIVE_PRESENT_FLAG)) return ok({ name, uuid, targets: [] });
    const count = buf.readUInt32LE(L.ioctl.target_count);
    const dataStart = buf.readUInt32LE(L.ioctl.data_start);
    const dataSize = Math.min(buf.readUInt32LE(L.ioctl.data_size), size);
    const targets: DmTarget[] = [];
    let at = dataStart;
    for (let i = 0; i < count; i++) {
      if (at + L.sizeofTargetSpec > dataSize) return fail('EIO');
      const type = cString(buf, at + L.spec.target_type, L.maxTypeName);
      const params = cString(buf, at + L.sizeofTargetSpec, dataSize - at - L.sizeofTargetSpec);
      if (type === undefined || params === undefined) return fail('EIO');
      targets.push({ sectorStart: buf.readBigUInt64LE(at + L.spec.sector_start), length: buf.readBigUInt64LE(at + L.spec.length), type, params });
      const next = dataStart + buf.readUInt32LE(at + L.spec.next);
      if (i + 1 < count && next <= at) return fail('EIO');
      at = next;
    }
    return ok({ name, uuid, targets });
  }
  return fail('E2BIG');
}
