// `ward daemon --check-config`: everything that would stop the daemon from starting, found
// without starting it (no root, no kernel needed): the boot policy, certificates, the state
// directory, the admin group, explicit mounts.

import { errorCode } from '../errors.ts';
import { existsSync, readFileSync } from 'node:fs';
import { parsePolicy } from '../policy/parser.ts';
import type { DaemonConfig } from './config.ts';
import { groupId } from './control.ts';
import { explicitMountErrors, readMounts } from './mounts.ts';
import { loadSigner } from './pkcs7-sign.ts';
import { readCertificates } from './signature.ts';
import { directoryProblems, stateDirProblems } from './state-perms.ts';
import { dirname } from 'node:path';
import { PolicyState } from './state.ts';

/** Problems with a configuration, each naming the field and how to fix it; [] when it is good. */
export function configProblems(config: DaemonConfig): string[] {
  const problems: string[] = [];
  if (config.bootPolicy) {
    try {
      const r = parsePolicy(readFileSync(config.bootPolicy));
      if (!r.ok) problems.push(`bootPolicy ${config.bootPolicy}:${r.error.line}:${r.error.column}: ${r.error.code}: ${r.error.message}`);
    } catch (e) {
      const code = errorCode(e);
      problems.push(`bootPolicy ${config.bootPolicy}: ${code}${code === 'ENOENT' ? ' (install a policy there, e.g. one that allows everything, or remove bootPolicy)' : ''}`);
    }
  }
  if (config.trustedCerts.length > 0) {
    try {
      readCertificates(config.trustedCerts);
    } catch (e) {
      problems.push(`trustedCerts: ${(e as Error).message}`);
    }
  }
  if ((config.ipeSigningKey === undefined) !== (config.ipeSigningCert === undefined)) problems.push('ipeSigningKey and ipeSigningCert go together: set both (the kernel needs the certificate of the key that signs)');
  else if (config.ipeSigningKey && config.ipeSigningCert) {
    try {
      loadSigner(config.ipeSigningKey, config.ipeSigningCert);
    } catch (e) {
      problems.push(`ipeSigningKey/ipeSigningCert: ${(e as Error).message}`);
    }
  }
  if (config.requireSigned && config.trustedCerts.length === 0) problems.push('requireSigned is set but no trustedCerts are configured: no policy could ever be loaded');
  if (config.adminGroup !== undefined && groupId(config.adminGroup) === undefined) problems.push(`adminGroup "${config.adminGroup}" does not exist (groupadd it, or remove adminGroup)`);
  if (config.mounts) {
    try {
      for (const e of explicitMountErrors(readMounts(), config.mounts)) problems.push(`mounts: ${e}`);
    } catch (e) {
      problems.push(`mounts: cannot read /proc/self/mountinfo: ${(e as Error).message}`);
    }
  }
  for (const [what, path] of [['socket', config.socket], ['auditLog', config.auditLog]] as const) {
    const unsafe = directoryProblems(dirname(path));
    if (unsafe.length > 0) problems.push(`${what}: ${dirname(path)} can be changed by users other than root (${unsafe.join('; ')}); choose a directory only root can write`);
  }
  if (existsSync(config.stateDir)) {
    try {
      const s = PolicyState.open(config.stateDir, { enforce: config.enforce, auditSuccess: config.auditSuccess });
      if (!s.ok) problems.push(s.error.message);
    } catch (e) {
      problems.push(`stateDir ${config.stateDir}: ${errorCode(e)}`);
    }
  } else {
    const unsafe = stateDirProblems(config.stateDir);
    if (unsafe.length > 0) problems.push(`stateDir ${config.stateDir} would be created where users other than root can change it (${unsafe.join('; ')}); choose another --state-dir`);
  }
  return problems;
}
