// Sandboxing a program: restrict the calling thread, then execve the program, so the new image
// and every thread and process it creates run inside the Landlock domain. A running Node process
// cannot sandbox itself on kernels before Linux 7.0 (Landlock ABI 8, TSYNC): restrict_self binds
// only the calling thread, and Node's libuv pool and V8 threads already exist unrestricted.

import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { WardError } from '../errors.ts';
import { landlockAbi } from '../kernel/landlock.ts';
import { flushNodeCompileCache, replaceProcess, resolveCommand } from '../kernel/process.ts';
import { enforcePlan, resolveRules, type Resolution } from './apply.ts';
import { libraryNeeds } from './libs.ts';
import { negotiate, type PathRule, type SandboxPlan } from './negotiate.ts';
import { profileEnv, profileToRequest, type SandboxProfile } from './profile.ts';
import { ACCESS_GROUPS, RESTRICT_FLAGS } from './rights.ts';

export interface PreparedSandbox {
  readonly plan: SandboxPlan;
  readonly resolution: Resolution;
  readonly command: string;
  readonly env: NodeJS.ProcessEnv;
  readonly warnings: string[];
}

/** Everything up to (not including) the restriction: negotiation, paths, libraries, command. */
export function prepareSandbox(profile: SandboxProfile, cmd: string, kernelAbi = landlockAbi()): PreparedSandbox {
  const env = profileEnv(profile);
  const command = resolveCommand(cmd, env.PATH);
  if (!command) throw new WardError('ENOENT', `${cmd}: command not found`);
  const warnings: string[] = [];
  const extra: PathRule[] = [];
  if (profile['add-libs']) {
    const needs = libraryNeeds(command);
    for (const path of needs.executables) extra.push({ path, access: ACCESS_GROUPS.rox, origin: '--add-libs' });
    for (const path of needs.readable) extra.push({ path, access: ACCESS_GROUPS.ro, origin: '--add-libs' });
    for (const lib of needs.notFound) warnings.push(`--add-libs: the loader cannot find ${lib} for ${command}`);
  }
  const planned = negotiate(profileToRequest(profile, extra), kernelAbi);
  if (!planned.ok) throw planned.error;
  const plan = planned.value;
  for (const d of plan.dropped) warnings.push(`not enforced: ${d}`);
  const resolution = resolveRules(plan, profile['ignore-missing']);
  for (const s of resolution.skipped) warnings.push(`skipped missing path ${s}`);
  return { plan, resolution, command, env, warnings };
}

/** Restricts this thread and becomes the command. Returns only by throwing. */
export function execSandboxed(prepared: PreparedSandbox, argv: readonly string[], keepFds: readonly number[] = []): never {
  flushNodeCompileCache(); // before the sandbox forbids writing it
  enforcePlan(prepared.plan, prepared.resolution);
  try {
    return replaceProcess(prepared.command, argv, prepared.env, keepFds);
  } catch (e) {
    if (e instanceof WardError && e.code === 'EACCES') {
      throw new WardError('EACCES', `cannot execute ${prepared.command} inside the sandbox: it needs read and execute rights (add --rox for its directory, or --add-libs)`);
    }
    throw e;
  }
}

const WARD_BIN = fileURLToPath(new URL('../../bin/ward.js', import.meta.url));

/**
 * Starts `cmd args` in a child process sandboxed by `profile` (through `ward run`). Returns the
 * ChildProcess; its exit status and signal are the command's own, 125 for a sandbox that
 * could not be set up (the reason on its stderr).
 */
export function spawnSandboxed(profile: SandboxProfile, cmd: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
  // Extra stdio entries (fd 3 and up) reach cmd too.
  const extraFds = Array.isArray(options.stdio) ? Math.max(0, options.stdio.length - 3) : 0;
  // Loaded on use: `ward run` itself never spawns, and every module costs launch time.
  const { spawn } = process.getBuiltinModule('node:child_process');
  return spawn(process.execPath, [WARD_BIN, 'run', '--profile-json', JSON.stringify(profile), '--preserve-fds', String(extraFds), '--', cmd, ...args], options);
}

/**
 * In-process sandboxing for all threads needs TSYNC (Landlock ABI 8, Linux 7.0). Before that,
 * restricting a running Node process would leave its existing threads (libuv's pool, V8's
 * helpers, workers) outside the sandbox, so ward refuses instead of pretending.
 */
export function restrictCurrentProcess(profile: SandboxProfile, kernelAbi = landlockAbi()): SandboxPlan {
  if (kernelAbi < RESTRICT_FLAGS.tsync.abi) {
    throw new WardError(
      'ENOTSUP',
      `restricting a running Node process needs Landlock ABI ${RESTRICT_FLAGS.tsync.abi} (TSYNC, Linux 7.0) to cover all its threads; this kernel has ABI ${kernelAbi}. Use spawnSandboxed() or ward run, which restrict the thread that then execs the program`,
    );
  }
  const planned = negotiate(profileToRequest(profile), kernelAbi);
  if (!planned.ok) throw planned.error;
  const plan = { ...planned.value, restrictFlags: planned.value.restrictFlags | RESTRICT_FLAGS.tsync.bit };
  enforcePlan(plan, resolveRules(plan, profile['ignore-missing']));
  return plan;
}
