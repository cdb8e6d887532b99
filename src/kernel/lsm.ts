// lsm_list_modules(2) (Linux 6.8; syscall number from the arch table): the active LSMs, without securityfs.
// IDs from include/uapi/linux/lsm.h.

import { errnoName, fail, ok, type ErrnoName, type Result } from '../errors.ts';
import { lastErrno, syscall, sys } from './ffi.ts';

export const LSM_NAMES: Readonly<Record<number, string>> = {
  100: 'capability', 101: 'selinux', 102: 'smack', 103: 'tomoyo', 104: 'apparmor', 105: 'yama',
  106: 'loadpin', 107: 'safesetid', 108: 'lockdown', 109: 'bpf', 110: 'landlock', 111: 'ima',
  112: 'evm', 113: 'ipe',
};

/** Names of the active LSMs in order, or the errno when the kernel cannot say (pre-6.8). */
export function activeLsms(): Result<string[], ErrnoName> {
  const ids = new BigUint64Array(64);
  const size = new Uint32Array([ids.byteLength]);
  const n = syscall(sys().lsm_list_modules, 'uint64_t *', ids, 'uint32_t *', size, 'uint32_t', 0);
  if (n < 0) return fail(errnoName(lastErrno()));
  return ok([...ids.slice(0, n)].map((id) => LSM_NAMES[Number(id)] ?? `lsm#${id}`));
}
