// The same management verbs against a kernel that has IPE (/sys/kernel/security/ipe), kept to
// plain file writes whose semantics are the kernel's (Documentation/admin-guide/LSM/ipe.rst).
// The host kernel has no IPE; the 6.12 guest tests this path (test/policy/ipe-kernel-mode.vm-6.12.test.ts).
//
// Policy names are bytes: the kernel names each policy's directory with the policy_name token as
// written. ward keeps names as binary strings (one char per byte, src/policy/model.ts), so paths
// are built as Buffers from those bytes — a JS string path would be re-encoded as UTF-8 and miss
// the directory of any name with a byte above 0x7f.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WardError, errorCode } from '../errors.ts';
import { displayText } from '../policy/model.ts';

export const IPE_FS = '/sys/kernel/security/ipe';

function write(path: string | Buffer, data: Uint8Array | string): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    const code = errorCode(e);
    throw new WardError(code, `${displayText(typeof path === 'string' ? path : path.toString('latin1'))}: ${code}`);
  }
}

/** The path of a file in the directory of the policy whose raw (binary-string) name is `rawName`. */
function policyFile(rawName: string, file: string): Buffer {
  return Buffer.concat([Buffer.from(`${IPE_FS}/policies/`), Buffer.from(rawName, 'latin1'), Buffer.from(`/${file}`)]);
}

export const kernelIpe = {
  /** new_policy takes the policy as given; kernels require it PKCS#7-signed (DER, content attached). */
  load: (blob: Uint8Array) => write(join(IPE_FS, 'new_policy'), blob),
  /** rawName: the policy's name as a binary string (its bytes). */
  activate: (rawName: string) => write(policyFile(rawName, 'active'), '1'),
  update: (rawName: string, blob: Uint8Array) => write(policyFile(rawName, 'update'), blob),
  delete: (rawName: string) => write(policyFile(rawName, 'delete'), '1'),
  enforce: (on: boolean) => write(join(IPE_FS, 'enforce'), on ? '1' : '0'),
  auditSuccess: (on: boolean) => write(join(IPE_FS, 'success_audit'), on ? '1' : '0'),
  /** name: for display (UTF-8, invalid bytes replaced); rawName: the bytes, to compare and to address it. */
  list: () =>
    readdirSync(join(IPE_FS, 'policies'), { encoding: 'buffer' }).map((dir) => {
      const rawName = dir.toString('latin1');
      return {
        name: displayText(rawName),
        rawName,
        version: readFileSync(policyFile(rawName, 'version'), 'utf8').trim(),
        active: readFileSync(policyFile(rawName, 'active'), 'utf8').trim() === '1',
      };
    }),
  show: (rawName: string) => readFileSync(policyFile(rawName, 'policy')),
  /** securityfs has IPE's directory: the kernel runs IPE and securityfs is mounted. */
  present: () => existsSync(join(IPE_FS, 'new_policy')),
  enforcing: () => readFileSync(join(IPE_FS, 'enforce'), 'utf8').trim() === '1',
};
