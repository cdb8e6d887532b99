// The policy store's rules, pure (no I/O): what IPE's securityfs verbs allow
// (security/ipe/fs.c, policy_fs.c, policy.c). The daemon persists the state this returns.

import { WardError, fail, ok, type Result } from '../errors.ts';
import { compareVersions, displayText, versionString, type Version } from './model.ts';

export interface StoredPolicyMeta {
  readonly rawName: string;
  readonly version: Version;
}

export interface StoreState<P extends StoredPolicyMeta> {
  readonly policies: ReadonlyMap<string, P>;
  /** rawName of the active policy. */
  readonly active: string | undefined;
  /**
   * The highest version ever activated. The kernel forgets this at reboot; ward persists it, so
   * a restart cannot be used to roll back to an older policy.
   */
  readonly floor: Version | undefined;
}

export function emptyStore<P extends StoredPolicyMeta>(): StoreState<P> {
  return { policies: new Map(), active: undefined, floor: undefined };
}

function maxVersion(a: Version | undefined, b: Version): Version {
  return a && compareVersions(a, b) > 0 ? a : b;
}

const name = (raw: string): string => JSON.stringify(displayText(raw));

/**
 * The kernel's parser accepts any name, but new_policy then makes the securityfs directory
 * policies/<name>/ (ipe_new_policyfs_node → securityfs_create_dir → lookup_one_len), which
 * refuses what cannot be one path component: "/" inside, "." or ".." (EACCES), more than
 * NAME_MAX (255) bytes (ENAMETOOLONG). Measured on Linux 6.12 (test/policy/ipe-parser.vm-6.12.test.ts).
 */
export function policyNameError(rawName: string): WardError | undefined {
  if (rawName.includes('/') || rawName === '.' || rawName === '..') {
    return new WardError('EACCES', `the policy name ${name(rawName)} cannot be deployed: IPE makes it a securityfs directory, so it may not contain "/" or be "." or ".."`);
  }
  if (rawName.length > 255) {
    return new WardError('ENAMETOOLONG', `the policy name is ${rawName.length} bytes long; IPE makes it a securityfs directory, whose names are at most 255 bytes`);
  }
  return undefined;
}

/** new_policy: a deployable name (policyNameError), not loaded yet (EEXIST). Loading never activates. */
export function loadPolicy<P extends StoredPolicyMeta>(s: StoreState<P>, p: P): Result<StoreState<P>> {
  const bad = policyNameError(p.rawName);
  if (bad) return fail(bad);
  if (s.policies.has(p.rawName)) {
    return fail(new WardError('EEXIST', `a policy named ${name(p.rawName)} is already loaded; use update to replace it with a higher version`));
  }
  const policies = new Map(s.policies);
  policies.set(p.rawName, p);
  return ok({ ...s, policies });
}

/** ipe_set_active_pol: a version lower than the active one (or the floor) is EINVAL; equal is fine. */
export function activatePolicy<P extends StoredPolicyMeta>(s: StoreState<P>, rawName: string): Result<StoreState<P>> {
  const p = s.policies.get(rawName);
  if (!p) return fail(new WardError('ENOENT', `no policy named ${name(rawName)} is loaded`));
  if (s.active === rawName) return ok(s);
  const active = s.active === undefined ? undefined : s.policies.get(s.active);
  if (active && compareVersions(active.version, p.version) > 0) {
    return fail(new WardError('EINVAL', `cannot activate ${name(rawName)} ${versionString(p.version)}: it is older than the active policy ${name(active.rawName)} ${versionString(active.version)}`));
  }
  if (s.floor && compareVersions(s.floor, p.version) > 0) {
    return fail(new WardError('EINVAL', `cannot activate ${name(rawName)} ${versionString(p.version)}: a policy of version ${versionString(s.floor)} was active before; versions may not go back`));
  }
  return ok({ ...s, active: rawName, floor: maxVersion(s.floor, p.version) });
}

/** ipe_update_policy: same name (else EINVAL), strictly higher version (else ESTALE); stays active. */
export function updatePolicy<P extends StoredPolicyMeta>(s: StoreState<P>, rawName: string, next: P): Result<StoreState<P>> {
  const old = s.policies.get(rawName);
  if (!old) return fail(new WardError('ENOENT', `no policy named ${name(rawName)} is loaded; use load to add it`));
  if (next.rawName !== old.rawName) {
    return fail(new WardError('EINVAL', `the new policy is named ${name(next.rawName)} but replaces ${name(old.rawName)}; an update must keep the policy_name`));
  }
  if (compareVersions(old.version, next.version) >= 0) {
    return fail(new WardError('ESTALE', `the new version ${versionString(next.version)} is not higher than the loaded ${versionString(old.version)}; raise policy_version`));
  }
  const policies = new Map(s.policies);
  policies.set(rawName, next);
  const floor = s.active === rawName ? maxVersion(s.floor, next.version) : s.floor;
  return ok({ ...s, policies, floor });
}

/** delete: the active policy cannot be deleted (EPERM); a missing one is ENOENT. */
export function deletePolicy<P extends StoredPolicyMeta>(s: StoreState<P>, rawName: string): Result<StoreState<P>> {
  if (!s.policies.has(rawName)) return fail(new WardError('ENOENT', `no policy named ${name(rawName)} is loaded`));
  if (s.active === rawName) {
    return fail(new WardError('EPERM', `${name(rawName)} is the active policy and cannot be deleted; activate another policy first`));
  }
  const policies = new Map(s.policies);
  policies.delete(rawName);
  return ok({ ...s, policies });
}
