// Reading what the dynamic loader will need from an ELF file, without running anything and
// without parsing any tool's text output: PT_INTERP, DT_NEEDED, DT_RUNPATH/DT_RPATH
// (include/uapi/linux/elf.h, the System V gABI). Only 64-bit little-endian ELF of this machine's
// architecture is read; anything else is reported as such and the caller refuses it.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { arch } from '../kernel/arch.ts';

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_STRSZ = 10n;
const DT_RPATH = 15n;
const DT_RUNPATH = 29n;
const DT_SONAME = 14n;
const DT_FLAGS_1 = 0x6ffffffbn;
const DF_1_PIE = 0x08000000n;
const ET_DYN = 3;
const MAX_TABLE = 16 << 20;

export type ElfInfo =
  | { readonly kind: 'not-elf' }
  | { readonly kind: 'foreign'; readonly why: string }
  | {
      readonly kind: 'elf';
      /** ET_DYN and not marked DF_1_PIE: a shared library rather than a program. */
      readonly sharedLibrary: boolean;
      readonly soname?: Uint8Array;
      readonly interp?: Uint8Array;
      readonly needed: Uint8Array[];
      readonly runpath?: Uint8Array;
      readonly rpath?: Uint8Array;
    };

function readAt(fd: number, pos: number, len: number, size: number): Buffer {
  if (pos < 0 || len < 0 || len > MAX_TABLE || pos + len > size) throw new RangeError(`ELF table at ${pos} (+${len}) lies outside the file`);
  const b = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, b, got, len - got, pos + got);
    if (n === 0) throw new RangeError('ELF file shorter than its headers say');
    got += n;
  }
  return b;
}

/** Which file was read: device and inode of the fd the bytes came from (not of a later lookup). */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

/** Reads an ELF file's loader needs. Throws RangeError for a malformed ELF. */
export function readElf(path: string): ElfInfo {
  return readElfIdentified(path).info;
}

/** readElf, plus the identity of the file whose bytes were read (to bind a rule to it). */
export function readElfIdentified(path: string): { info: ElfInfo; id: FileIdentity; regular: boolean } {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    return { info: readElfFd(fd, st.size), id: { dev: st.dev, ino: st.ino }, regular: st.isFile() };
  } finally {
    closeSync(fd);
  }
}

function readElfFd(fd: number, size: number): ElfInfo {
  if (size < 64) return { kind: 'not-elf' };
  const eh = readAt(fd, 0, 64, size);
  if (eh.readUInt32BE(0) !== 0x7f454c46) return { kind: 'not-elf' };
  if (eh[4] !== 2 || eh[5] !== 1) return { kind: 'foreign', why: 'not a 64-bit little-endian ELF' };
  const machine = eh.readUInt16LE(18);
  const host = arch().libs.elfMachine;
  if (machine !== host) return { kind: 'foreign', why: `ELF for machine ${machine}, not this one (${host})` };
  const eType = eh.readUInt16LE(16);
  const phoff = Number(eh.readBigUInt64LE(32));
  const phentsize = eh.readUInt16LE(54);
  const phnum = eh.readUInt16LE(56);
  if (phentsize !== 56 || phnum === 0xffff) throw new RangeError('unusual program header table');
  const ph = readAt(fd, phoff, phnum * 56, size);
  const loads: Array<{ vaddr: bigint; offset: bigint; filesz: bigint }> = [];
  let interp: Uint8Array | undefined;
  let dyn: Buffer | undefined;
  for (let i = 0; i < phnum; i++) {
    const o = i * 56;
    const type = ph.readUInt32LE(o);
    const offset = ph.readBigUInt64LE(o + 8);
    const vaddr = ph.readBigUInt64LE(o + 16);
    const filesz = ph.readBigUInt64LE(o + 32);
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    if (type === PT_INTERP) {
      if (interp) throw new RangeError('two PT_INTERP headers');
      const raw = readAt(fd, Number(offset), Number(filesz), size);
      const nul = raw.indexOf(0);
      if (nul !== raw.length - 1) throw new RangeError('PT_INTERP is not one NUL-terminated string');
      interp = raw.subarray(0, nul);
    }
    if (type === PT_DYNAMIC) dyn = readAt(fd, Number(offset), Number(filesz), size);
  }
  if (!dyn) return { kind: 'elf', sharedLibrary: eType === ET_DYN, ...(interp ? { interp } : {}), needed: [] };
  const entries: Array<[bigint, bigint]> = [];
  for (let o = 0; o + 16 <= dyn.length; o += 16) {
    const tag = dyn.readBigInt64LE(o);
    if (tag === DT_NULL) break;
    entries.push([tag, dyn.readBigUInt64LE(o + 8)]);
  }
  const one = (tag: bigint): bigint | undefined => {
    const all = entries.filter(([t]) => t === tag);
    if (all.length > 1) throw new RangeError(`more than one dynamic entry ${tag}`);
    return all[0]?.[1];
  };
  const sharedLibrary = eType === ET_DYN && ((one(DT_FLAGS_1) ?? 0n) & DF_1_PIE) === 0n;
  const strtabAddr = one(DT_STRTAB);
  const strsz = one(DT_STRSZ);
  const needs = entries.filter(([t]) => t === DT_NEEDED || t === DT_RUNPATH || t === DT_RPATH || t === DT_SONAME);
  if (needs.length === 0) return { kind: 'elf', sharedLibrary, ...(interp ? { interp } : {}), needed: [] };
  if (strtabAddr === undefined || strsz === undefined) throw new RangeError('dynamic section without a string table');
  const seg = loads.find((l) => l.vaddr <= strtabAddr && strtabAddr + strsz <= l.vaddr + l.filesz);
  if (!seg) throw new RangeError('the string table is not inside a loaded segment');
  const strtab = readAt(fd, Number(strtabAddr - seg.vaddr + seg.offset), Number(strsz), size);
  const str = (off: bigint): Uint8Array => {
    const start = Number(off);
    const end = strtab.indexOf(0, start);
    if (off >= BigInt(strtab.length) || end < 0) throw new RangeError('a dynamic string lies outside the string table');
    return strtab.subarray(start, end);
  };
  return {
    kind: 'elf',
    sharedLibrary,
    ...(one(DT_SONAME) !== undefined ? { soname: str(one(DT_SONAME)!) } : {}),
    ...(interp ? { interp } : {}),
    needed: entries.filter(([t]) => t === DT_NEEDED).map(([, v]) => str(v)),
    ...(one(DT_RUNPATH) !== undefined ? { runpath: str(one(DT_RUNPATH)!) } : {}),
    ...(one(DT_RPATH) !== undefined ? { rpath: str(one(DT_RPATH)!) } : {}),
  };
}
