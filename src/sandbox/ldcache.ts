// /etc/ld.so.cache as glibc's dynamic loader reads it (elf/cache.c, sysdeps/generic/dl-cache.h,
// "glibc-ld.so.cache1.1", the only format glibc ≥ 2.32 writes): name → path entries, each
// tagged with the ABI it is for. Read directly: the loader's own lookup table, no tool's output.

import { readFileSync } from 'node:fs';
import { arch } from '../kernel/arch.ts';

const MAGIC = 'glibc-ld.so.cache1.1';
const HEADER = 48; // magic 20, nlibs 4, len_strings 4, flags 1 + pad 3, extension_offset 4, unused 12
const ENTRY = 24; // flags i32, key u32, value u32, osversion u32, hwcap u64
const FLAG_TYPE_MASK = 0x00ff;
const FLAG_ELF_LIBC6 = 0x0003;
const FLAG_REQUIRED_MASK = 0xff00;

export type LdCache = ReadonlyMap<string, readonly string[]>;

/** Entries for this machine: library name → every path the cache lists for it. */
export function readLdCache(path = '/etc/ld.so.cache'): LdCache | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    return undefined;
  }
  if (buf.length < HEADER || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
  const nlibs = buf.readUInt32LE(20);
  if (HEADER + nlibs * ENTRY > buf.length) return undefined;
  const cstr = (off: number): string | undefined => {
    const end = buf.indexOf(0, off);
    return off < buf.length && end >= 0 ? buf.toString('latin1', off, end) : undefined;
  };
  // The ABI tag of this machine's libraries (the kernel table; an unknown architecture throws).
  const hostFlag = arch().libs.ldCacheFlag;
  const out = new Map<string, string[]>();
  for (let i = 0; i < nlibs; i++) {
    const o = HEADER + i * ENTRY;
    const flags = buf.readInt32LE(o);
    if ((flags & FLAG_TYPE_MASK) !== FLAG_ELF_LIBC6 || (flags & FLAG_REQUIRED_MASK) !== hostFlag) continue;
    const key = cstr(buf.readUInt32LE(o + 4));
    const value = cstr(buf.readUInt32LE(o + 8));
    if (key === undefined || value === undefined) continue;
    const list = out.get(key) ?? [];
    list.push(value);
    out.set(key, list);
  }
  return out;
}
