// The same management verbs against a kernel that has IPE (/sys/kernel/security/ipe). This
// machine's kernel has no IPE, so this path is untested here: it is kept to plain file writes
// whose semantics are the kernel's (Documentation/admin-guide/LSM/ipe.rst).

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WardError, errorCode } from '../errors.ts';

export const IPE_FS = '/sys/kernel/security/ipe';

function write(path: string, data: Uint8Array | string): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    const code = errorCode(e);
    throw new WardError(code, `${path}: ${code}`);
  }
}

export const kernelIpe = {
  /** new_policy takes the policy as given; kernels require it PKCS#7-signed (DER, content attached). */
  load: (blob: Uint8Array) => write(join(IPE_FS, 'new_policy'), blob),
  activate: (name: string) => write(join(IPE_FS, 'policies', name, 'active'), '1'),
  update: (name: string, blob: Uint8Array) => write(join(IPE_FS, 'policies', name, 'update'), blob),
  delete: (name: string) => write(join(IPE_FS, 'policies', name, 'delete'), '1'),
  enforce: (on: boolean) => write(join(IPE_FS, 'enforce'), on ? '1' : '0'),
  auditSuccess: (on: boolean) => write(join(IPE_FS, 'success_audit'), on ? '1' : '0'),
  list: () =>
    readdirSync(join(IPE_FS, 'policies')).map((name) => ({
      name,
      version: readFileSync(join(IPE_FS, 'policies', name, 'version'), 'utf8').trim(),
      active: readFileSync(join(IPE_FS, 'policies', name, 'active'), 'utf8').trim() === '1',
    })),
  show: (name: string) => readFileSync(join(IPE_FS, 'policies', name, 'policy')),
  /** securityfs has IPE's directory: the kernel runs IPE and securityfs is mounted. */
  present: () => existsSync(join(IPE_FS, 'new_policy')),
  enforcing: () => readFileSync(join(IPE_FS, 'enforce'), 'utf8').trim() === '1',
};
