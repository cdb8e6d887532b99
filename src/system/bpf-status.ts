// The `ward status` line for the BPF LSM: listed, and does the kernel accept programs?

import { probeBpfLsm, kernelBtfHas, lockdownLevel } from '../kernel/bpf.ts';
import { refusalText } from '../enforcer/select-backend.ts';
import type { StatusItem } from './status.ts';

export function bpfLsmStatus(): StatusItem {
  let p;
  try {
    p = probeBpfLsm();
  } catch (e) {
    return { name: 'BPF LSM', value: 'unknown', usable: false, meaning: `cannot probe: ${(e as Error).message}` };
  }
  if (p.accepts) {
    const verity = kernelBtfHas('bpf_get_fsverity_digest');
    return {
      name: 'BPF LSM',
      value: true,
      usable: true,
      meaning: `ward daemon --backend bpf (auto) decides exec, mmap/mprotect PROT_EXEC and kernel reads in the kernel; fs-verity kfunc ${verity ? 'present' : 'absent'}; lockdown ${lockdownLevel()}; ward modules autoload available`,
    };
  }
  const value = p.listed === false ? 'not listed' : p.errno === 'EPERM' && process.getuid?.() === 0 ? 'listed, refuses programs' : (p.errno ?? 'refused');
  return { name: 'BPF LSM', value, usable: false, meaning: `${refusalText(p)}: ward daemon falls back to fanotify (auto), failure mode closed and ward modules autoload are unavailable` };
}
