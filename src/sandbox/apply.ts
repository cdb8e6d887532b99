// Applying a negotiated plan to the calling thread: open the rule paths (O_PATH), build the
// ruleset, set no_new_privs, landlock_restrict_self. On Linux < 7.0 (ABI < 8) this binds only
// the calling thread and what it creates afterwards — so ward restricts the thread that then
// calls execve (see launcher.ts).

import { WardError, errorCode } from '../errors.ts';
import { KernelError } from '../kernel/errors.ts';
import { O_CLOEXEC, O_PATH } from '../kernel/files.ts';
import { addNetPortRule, addPathBeneathRule, createRuleset, tryRestrictSelf } from '../kernel/landlock.ts';
import { setNoNewPrivs } from '../kernel/securebits.ts';
import { ruleAccess, type PathRule, type SandboxPlan } from './negotiate.ts';

// node:fs through process.getBuiltinModule, not an ESM import: importing it builds its module
// namespace, whose fs.promises getter loads streams and readline (~4 ms of every `ward run`).
const { closeSync, fstatSync, openSync } = process.getBuiltinModule('node:fs');

export interface ResolvedRule {
  readonly rule: PathRule;
  readonly fd: number;
  readonly access: bigint;
  readonly kind: 'file' | 'directory';
}

export interface Resolution {
  readonly rules: ResolvedRule[];
  /** Missing paths that were skipped (with ignoreMissing). */
  readonly skipped: string[];
}

/** Opens every rule's path; a missing path is an error unless ignoreMissing. */
export function resolveRules(plan: SandboxPlan, ignoreMissing = false): Resolution {
  const rules: ResolvedRule[] = [];
  const skipped: string[] = [];
  try {
    for (const rule of plan.pathRules) {
      let fd: number;
      try {
        fd = openSync(rule.path, O_PATH | O_CLOEXEC);
      } catch (e) {
        const code = errorCode(e);
        if (code === 'ENOENT' && ignoreMissing) {
          skipped.push(`${rule.origin} ${rule.path}`);
          continue;
        }
        throw new WardError(code, `${rule.origin} ${rule.path}: ${code === 'ENOENT' ? 'no such file or directory' : code} (use --ignore-missing to skip missing paths)`);
      }
      const st = fstatSync(fd);
      const isDir = st.isDirectory();
      if (rule.fileOnly && !st.isFile()) {
        closeSync(fd);
        throw new WardError('EINVAL', `${rule.origin} ${rule.path}: not a regular file; a rule discovered for a file is never widened to a directory`);
      }
      // The rule is bound to this fd's file: it must be the one ward read (a swapped link or
      // renamed file in between names another file, which the rule would then grant).
      if (rule.expect && (st.dev !== rule.expect.dev || st.ino !== rule.expect.ino)) {
        closeSync(fd);
        throw new WardError('ESTALE', `${rule.origin} ${rule.path}: it is no longer the file ward read (replaced in between); nothing was run`);
      }
      const access = ruleAccess(rule.access, isDir, plan.handledFs);
      if (access === 0n) {
        closeSync(fd);
        continue;
      }
      rules.push({ rule, fd, access, kind: isDir ? 'directory' : 'file' });
    }
  } catch (e) {
    for (const r of rules) closeSync(r.fd);
    throw e;
  }
  return { rules, skipped };
}

/** Enforces the plan on the calling thread. Always sets no_new_privs (as Landlock requires). */
export function enforcePlan(plan: SandboxPlan, resolution: Resolution): void {
  try {
    setNoNewPrivs();
    if (plan.status === 'not') return;
    const rulesetFd = createRuleset({ handledAccessFs: plan.handledFs, handledAccessNet: plan.handledNet, scoped: plan.scoped });
    try {
      for (const r of resolution.rules) addPathBeneathRule(rulesetFd, r.access, r.fd);
      for (const p of plan.portRules) addNetPortRule(rulesetFd, p.access, p.port);
      const r = tryRestrictSelf(rulesetFd, plan.restrictFlags);
      const err = r.ok ? undefined : r.error;
      if (err === 'E2BIG') {
        throw new KernelError('E2BIG', 'landlock_restrict_self', 'this process is already inside 16 nested Landlock sandboxes, the kernel\'s limit; run it from a less nested shell');
      }
      if (err) throw new KernelError(err, 'landlock_restrict_self', `landlock_restrict_self failed: ${err}`);
    } finally {
      closeSync(rulesetFd);
    }
  } finally {
    for (const r of resolution.rules) closeSync(r.fd);
  }
}
