// Landlock syscalls (include/uapi/linux/landlock.h). Thin: structs are packed here, the
// compatibility logic lives in src/sandbox. restrictSelf acts on the calling thread only.

import { check, syscall, sys, lastErrno } from './ffi.ts';
import { errnoName, fail, ok, type ErrnoName, type Result } from '../errors.ts';

export const LANDLOCK_CREATE_RULESET_VERSION = 1;
export const LANDLOCK_CREATE_RULESET_ERRATA = 2;
export const LANDLOCK_RULE_PATH_BENEATH = 1;
export const LANDLOCK_RULE_NET_PORT = 2;

export interface RulesetAttr {
  handledAccessFs: bigint;
  handledAccessNet: bigint;
  scoped: bigint;
}

/** The ABI version, or 0 when Landlock is unsupported or disabled (ENOSYS / EOPNOTSUPP). */
export function landlockAbi(): number {
  const r = syscall(sys().landlock_create_ruleset, 'void *', null, 'size_t', 0, 'uint32_t', LANDLOCK_CREATE_RULESET_VERSION);
  return r < 0 ? 0 : r;
}

/** The errata bitmask (bit N-1 = erratum N fixed); 0 on kernels without the query. */
export function landlockErrata(): number {
  const r = syscall(sys().landlock_create_ruleset, 'void *', null, 'size_t', 0, 'uint32_t', LANDLOCK_CREATE_RULESET_ERRATA);
  return r < 0 ? 0 : r;
}

/** landlock_create_ruleset with a 24-byte ruleset_attr (or 16 / 8 for older ABIs). */
export function createRuleset(attr: RulesetAttr, size: 8 | 16 | 24 = 24): number {
  const buf = Buffer.alloc(24);
  buf.writeBigUInt64LE(attr.handledAccessFs, 0);
  buf.writeBigUInt64LE(attr.handledAccessNet, 8);
  buf.writeBigUInt64LE(attr.scoped, 16);
  return check(syscall(sys().landlock_create_ruleset, 'uint8_t *', buf, 'size_t', size, 'uint32_t', 0), 'landlock_create_ruleset');
}

/** path_beneath_attr is packed: u64 allowed_access, s32 parent_fd (12 bytes). */
export function addPathBeneathRule(rulesetFd: number, allowedAccess: bigint, parentFd: number): void {
  const buf = Buffer.alloc(12);
  buf.writeBigUInt64LE(allowedAccess, 0);
  buf.writeInt32LE(parentFd, 8);
  check(syscall(sys().landlock_add_rule, 'int', rulesetFd, 'int', LANDLOCK_RULE_PATH_BENEATH, 'uint8_t *', buf, 'uint32_t', 0), 'landlock_add_rule', 'path beneath');
}

/** net_port_attr: u64 allowed_access, u64 port (16 bytes). */
export function addNetPortRule(rulesetFd: number, allowedAccess: bigint, port: number): void {
  const buf = Buffer.alloc(16);
  buf.writeBigUInt64LE(allowedAccess, 0);
  buf.writeBigUInt64LE(BigInt(port), 8);
  check(syscall(sys().landlock_add_rule, 'int', rulesetFd, 'int', LANDLOCK_RULE_NET_PORT, 'uint8_t *', buf, 'uint32_t', 0), 'landlock_add_rule', `port ${port}`);
}

/** Restricts the calling thread (and what it later creates). Needs no_new_privs or CAP_SYS_ADMIN. */
export function restrictSelf(rulesetFd: number, flags = 0): void {
  check(syscall(sys().landlock_restrict_self, 'int', rulesetFd, 'uint32_t', flags), 'landlock_restrict_self');
}

/** restrict_self without throwing: ok, or fails with the errno name. */
export function tryRestrictSelf(rulesetFd: number, flags = 0): Result<void, ErrnoName> {
  const r = syscall(sys().landlock_restrict_self, 'int', rulesetFd, 'uint32_t', flags);
  return r === 0 ? ok(undefined) : fail(errnoName(lastErrno()));
}
