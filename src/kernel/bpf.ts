// What this kernel offers BPF LSM programs, asked of the kernel itself: the LSM list, the
// lockdown level, kfuncs in the vmlinux BTF, bpffs, and a real load + attach of the smallest LSM
// program (some kernels list "bpf" yet refuse every trampoline program with EPERM).

import type { ErrnoName } from '../errors.ts';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errnoName } from '../errors.ts';
import { KernelError } from './errors.ts';
import { activeLsms } from './lsm.ts';
import { check, fn, lastErrno, sys } from './ffi.ts';
import { attachProgram, closeObject, destroyLink, findProgram, loadObject, openObject, setLibbpfPrint } from './libbpf.ts';

export const BPF_DIR = fileURLToPath(new URL('../../bpf/', import.meta.url));
export const BPFFS = '/sys/fs/bpf';

/**
 * ward's BPF objects (bpf/build.sh), loaded from BPF_DIR: the LSM programs (enforcer/bpf-loader.ts),
 * module autoload restriction, and the probe `ward status` and backend selection load. Installed
 * packages ship them beside dist/ (package.json "files", so the .deb too): dist/kernel/../../bpf/.
 */
export const BPF_OBJECTS: readonly string[] = ['ward.bpf.o', 'modauto.bpf.o', 'probe.bpf.o'];

/** The BPF objects missing from BPF_DIR (an installation that does not ship them). */
export function missingBpfObjects(): string[] {
  return BPF_OBJECTS.filter((f) => !existsSync(`${BPF_DIR}${f}`));
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** "bpf" in the active LSM list (lsm_list_modules, else securityfs), or undefined when the kernel does not say. */
export function bpfLsmListed(): boolean | undefined {
  const listed = activeLsms();
  if (Array.isArray(listed)) return listed.includes('bpf');
  const lsms = readText('/sys/kernel/security/lsm');
  return lsms === undefined ? undefined : lsms.split(',').includes('bpf');
}

/** The active lockdown level ("none", "integrity", "confidentiality"), from securityfs. */
export function lockdownLevel(): string {
  const text = readText('/sys/kernel/security/lockdown');
  return text?.match(/\[(\w+)\]/)?.[1] ?? 'none';
}

let btf: Buffer | undefined;

/**
 * true when the vmlinux BTF names `name` (a kfunc such as bpf_get_fsverity_digest). BTF's string
 * section holds every name NUL-terminated; a kfunc the kernel lacks is not there.
 */
export function kernelBtfHas(name: string): boolean {
  btf ??= existsSync('/sys/kernel/btf/vmlinux') ? readFileSync('/sys/kernel/btf/vmlinux') : Buffer.alloc(0);
  return btf.includes(Buffer.from(`\0${name}\0`, 'latin1'));
}

const MS_NOSUID = 2;
const MS_NODEV = 4;
const MS_NOEXEC = 8;
const BPF_FS_MAGIC = 0xcafe4a11; // include/uapi/linux/magic.h

/** Mounts bpffs on /sys/fs/bpf when nothing is mounted there (as systemd does at boot). */
export function ensureBpffs(): void {
  const st = Buffer.alloc(120);
  check(fn('int statfs(const char *path, _Out_ uint8_t *buf)')(BPFFS, st), 'statfs', BPFFS);
  if (st.readBigInt64LE(0) === BigInt(BPF_FS_MAGIC)) return;
  check(fn('int mount(const char *src, const char *target, const char *type, unsigned long flags, const void *data)')('bpf', BPFFS, 'bpf', MS_NOSUID | MS_NODEV | MS_NOEXEC, null), 'mount', `bpffs on ${BPFFS}`);
}

export interface LsmProbe {
  /** the kernel loaded and attached an LSM program */
  accepts: boolean;
  /** "bpf" is in the active LSM list (undefined: securityfs not mounted) */
  listed: boolean | undefined;
  /** the errno name when it refused */
  errno?: ErrnoName;
  /** libbpf's last messages when it refused (the verifier log or the kernel's refusal) */
  log: string[];
}

/** Loads bpf/probe.bpf.o, attaches it to file_open, and drops it again. */
export function probeBpfLsm(): LsmProbe {
  const listed = bpfLsmListed();
  const log: string[] = [];
  setLibbpfPrint((_level, line) => log.push(line));
  let obj: object | undefined;
  try {
    obj = openObject(`${BPF_DIR}probe.bpf.o`);
    loadObject(obj);
    destroyLink(attachProgram(findProgram(obj, 'ward_probe'), 'ward_probe'));
    return { accepts: true, listed, log };
  } catch (e) {
    const errno = e instanceof KernelError ? e.code : errnoName(5);
    return { accepts: false, listed, errno, log: log.slice(-5) };
  } finally {
    if (obj) closeObject(obj);
  }
}

// FS_IOC_GETVERSION = _IOR('v', 1, long) (include/uapi/linux/fs.h): inode->i_generation.
const FS_IOC_GETVERSION = 0x80087601;

/** The inode's i_generation, or undefined where the filesystem does not report it (tmpfs, 9p…). */
export function inodeGeneration(fd: number): number | undefined {
  const buf = Buffer.alloc(8);
  const r = Number(fn('int ioctl(int fd, unsigned long req, _Out_ uint8_t *arg)')(fd, FS_IOC_GETVERSION, buf));
  return r === 0 ? buf.readUInt32LE(0) : undefined;
}

// prctl options ward's modauto.bpf.o answers itself (bpf/ward.h): the kernel hands prctl to the
// LSMs first (security_task_prctl) and only handles it itself when they all return -ENOSYS.
export const WARD_PR_MODULE_AUTOLOAD = 0x57410001;
export const WARD_PR_MODULE_AUTOLOAD_GLOBAL = 0x57410002;

/** The errno with which the program says "done" (EALREADY, bpf/ward.h WARD_PRCTL_DONE). */
export const WARD_PRCTL_DONE = 114;

/**
 * prctl(option, level, 0, 0, 0) → the errno it failed with (WARD_PRCTL_DONE = the program did
 * it; EINVAL = no program answered or a bad level), or 0 if it succeeded (no program answered an
 * option the kernel knows: never for ward's).
 */
export function wardPrctl(option: number, level: number): number {
  const r = Number(fn('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)')(option, level, 0, 0, 0));
  return r === -1 ? lastErrno() : 0;
}

/** pidfd_open(pid): the key of a task storage map from user space. */
export function pidfdOpen(pid: number): number {
  return check(fn('long syscall(long nr, ...)')(sys().pidfd_open, 'int', pid, 'unsigned int', 0), 'pidfd_open', `pid ${pid}`);
}
