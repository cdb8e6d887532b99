// Loads, attaches, pins and takes over ward's BPF LSM programs (bpf/ward.bpf.o).
//
// Pins (bpffs): <dir>/links/<program> keep a program attached after every process that loaded
// it is gone; <dir>/maps/<map> let a restarted daemon reach the same maps. Failure mode closed =
// pinned: a SIGKILLed daemon leaves the programs enforcing the last policy, and the next daemon
// takes the pins over (no reload, so no instant without programs). Failure mode open = nothing
// pinned: the links live in this process's fds, and the kernel detaches them when it exits,
// however it exits.

import { existsSync, mkdirSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { KernelError } from '../kernel/errors.ts';
import { WardError } from '../errors.ts';
import { BPF_DIR, bpfLsmListed, ensureBpffs, kernelBtfHas, lockdownLevel } from '../kernel/bpf.ts';
import {
  attachProgram,
  closeObject,
  destroyLink,
  findProgram,
  LIBBPF_DEBUG,
  loadObject,
  mapFd,
  objGet,
  openObject,
  pinLink,
  pinMaps,
  setAutoload,
  setLibbpfPrint,
  type Ptr,
} from '../kernel/libbpf.ts';
import { closeSync } from 'node:fs';

export interface BpfObjectSpec {
  /** bpf/<file> */
  file: string;
  /** programs loaded on every kernel */
  programs: readonly string[];
  /** pairs [plain, variant]: the variant is loaded instead when `useVariant` says so */
  variants: readonly (readonly [string, string])[];
  maps: readonly string[];
}

export const WARD_OBJECT: BpfObjectSpec = {
  file: 'ward.bpf.o',
  programs: ['file_mprotect', 'kernel_load_data', 'bprm_creds_for_exec'],
  variants: [
    ['bprm_check_security', 'bprm_check_security_verity'],
    ['mmap_file', 'mmap_file_verity'],
    ['kernel_read_file', 'kernel_read_file_verity'],
  ],
  maps: ['ward_config', 'ward_verdicts', 'ward_digests', 'ward_events', 'ward_stats'],
};

export const MODAUTO_OBJECT: BpfObjectSpec = {
  file: 'modauto.bpf.o',
  programs: ['task_alloc', 'task_prctl'],
  variants: [['kernel_module_request_noname', 'kernel_module_request']],
  maps: ['modauto_task', 'modauto_global', 'modauto_log'],
};

export interface Loaded {
  /** map name → fd */
  readonly maps: Readonly<Record<string, number>>;
  /** the programs attached (names) */
  readonly programs: readonly string[];
  /** true when an earlier daemon's pinned programs were taken over */
  readonly takenOver: boolean;
  /** which variants: "fs-verity kfunc", "module names" … */
  readonly features: readonly string[];
  /** open mode: link fds or libbpf links this process holds */
  readonly held: { links: Ptr[]; fds: number[]; obj: Ptr | undefined };
}

export interface LoadOptions {
  pinDir: string;
  /** pin links and maps (failure mode closed) */
  pin: boolean;
  /** which variant of each pair: true = the second */
  useVariant: boolean;
  /** written into the maps after load, before any program is attached */
  beforeAttach: (maps: Record<string, number>) => void;
  log: (line: string) => void;
}

/** Whether this kernel has the fs-verity kfunc (Linux 6.8+ with CONFIG_FS_VERITY). */
export function hasVerityKfunc(): boolean {
  return kernelBtfHas('bpf_get_fsverity_digest');
}

/** bpf_probe_read_kernel_str is refused under lockdown=confidentiality. */
export function canReadKernel(): boolean {
  return lockdownLevel() !== 'confidentiality';
}

function pinnedLinks(dir: string): string[] {
  const links = join(dir, 'links');
  return existsSync(links) ? readdirSync(links) : [];
}

export function isPinned(pinDir: string): boolean {
  return pinnedLinks(pinDir).length > 0;
}

/** Takes over pinned programs and maps, or loads and attaches the object. */
export function loadOrTakeOver(spec: BpfObjectSpec, o: LoadOptions): Loaded {
  ensureBpffs();
  // libbpf's debug level narrates every relocation; warnings (the verifier log included) go to the log.
  setLibbpfPrint((level, line) => {
    if (level < LIBBPF_DEBUG || process.env.WARD_BPF_DEBUG === '1') o.log(line);
  });
  const names = pinnedLinks(o.pinDir);
  if (names.length > 0) {
    const maps: Record<string, number> = {};
    for (const m of spec.maps) maps[m] = objGet(join(o.pinDir, 'maps', m));
    const fds: number[] = [];
    if (!o.pin) {
      // Open mode over closed-mode pins: hold the links by fd, drop the pins; they detach with us.
      for (const n of names) fds.push(objGet(join(o.pinDir, 'links', n)));
      rmSync(o.pinDir, { recursive: true, force: true });
    }
    return { maps, programs: names, takenOver: true, features: [], held: { links: [], fds, obj: undefined } };
  }
  const obj = openObject(join(BPF_DIR, spec.file));
  const chosen = [...spec.programs];
  for (const [plain, variant] of spec.variants) {
    setAutoload(findProgram(obj, o.useVariant ? plain : variant), false);
    chosen.push(o.useVariant ? variant : plain);
  }
  const links: Ptr[] = [];
  try {
    try {
      loadObject(obj);
    } catch (e) {
      if (e instanceof KernelError && e.code === 'EPERM') {
        throw new WardError('EPERM', `this kernel refuses BPF LSM programs (bpf_object__load of ${spec.file}: EPERM${bpfLsmListed() === false ? '; "bpf" is not in its LSM list: boot with lsm=...,bpf' : ', although "bpf" is in its LSM list'}); ward status says more`);
      }
      throw e;
    }
    const maps: Record<string, number> = {};
    for (const m of spec.maps) maps[m] = mapFd(obj, m);
    o.beforeAttach(maps);
    if (o.pin) {
      mkdirSync(join(o.pinDir, 'maps'), { recursive: true, mode: 0o700 });
      mkdirSync(join(o.pinDir, 'links'), { recursive: true, mode: 0o700 });
      pinMaps(obj, join(o.pinDir, 'maps'));
    }
    for (const name of chosen) {
      const link = attachProgram(findProgram(obj, name), name);
      links.push(link);
      if (o.pin) pinLink(link, join(o.pinDir, 'links', name));
    }
    return { maps, programs: chosen, takenOver: false, features: [], held: { links, fds: [], obj } };
  } catch (e) {
    for (const l of links) destroyLink(l);
    if (o.pin) rmSync(o.pinDir, { recursive: true, force: true });
    closeObject(obj);
    throw e;
  }
}

/**
 * Stops this process's hold. keepPins (closed mode): the pinned links keep enforcing. Otherwise
 * the pins are removed and the links closed: the programs detach.
 */
export function release(l: Loaded, pinDir: string, keepPins: boolean): void {
  if (!keepPins && existsSync(pinDir)) {
    for (const n of pinnedLinks(pinDir)) unlinkSync(join(pinDir, 'links', n));
    rmSync(pinDir, { recursive: true, force: true });
  }
  for (const link of l.held.links) destroyLink(link);
  for (const fd of l.held.fds) closeSync(fd);
  if (l.held.obj) closeObject(l.held.obj);
  else for (const fd of Object.values(l.maps)) closeSync(fd);
}
