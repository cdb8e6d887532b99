// The `ward status` line for the BPF LSM: listed, and does the kernel accept programs? Its source
// is the directory ward loads its BPF objects from, so an installation missing them says so.

import { BPF_DIR, missingBpfObjects, probeBpfLsm, kernelBtfHas, lockdownLevel } from '../kernel/bpf.ts';
import { refusalText } from '../enforcer/select-backend.ts';
import type { StatusItem } from './status.ts';

const UNAVAILABLE = 'ward daemon falls back to fanotify (auto), failure mode closed and ward modules autoload are unavailable';

export function bpfLsmStatus(): StatusItem {
  const source = BPF_DIR.replace(/\/$/, '');
  const missing = missingBpfObjects();
  if (missing.length > 0) {
    return { name: 'BPF LSM', value: 'objects missing', source, usable: false, meaning: `ward's BPF objects ${missing.join(', ')} are not in ${source} (reinstall ward; in a checkout, bpf/build.sh builds them): ${UNAVAILABLE}` };
  }
  let p;
  try {
    p = probeBpfLsm();
  } catch (e) {
    return { name: 'BPF LSM', value: 'unknown', source, usable: false, meaning: `cannot probe: ${(e as Error).message}` };
  }
  if (p.accepts) {
    const verity = kernelBtfHas('bpf_get_fsverity_digest');
    return {
      name: 'BPF LSM',
      value: true,
      source,
      usable: true,
      meaning: `ward daemon --backend bpf (auto) decides exec, mmap/mprotect PROT_EXEC and kernel reads in the kernel; fs-verity kfunc ${verity ? 'present' : 'absent'}; lockdown ${lockdownLevel()}; ward modules autoload available`,
    };
  }
  const value = p.listed === false ? 'not listed' : p.errno === 'EPERM' && process.getuid?.() === 0 ? 'listed, refuses programs' : (p.errno ?? 'refused');
  return { name: 'BPF LSM', value, source, usable: false, meaning: `${refusalText(p)}: ${UNAVAILABLE}` };
}
