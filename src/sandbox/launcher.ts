// Sandboxing a program: restrict the calling thread, then execve the program, so the new image
// and every thread and process it creates run inside the Landlock domain. A running Node process
// cannot sandbox itself on kernels before Linux 7.0 (Landlock ABI 8, TSYNC): restrict_self binds
// only the calling thread, and Node's libuv pool and V8 threads already exist unrestricted.

import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import { extname, resolve } from 'node:path';
import { WardError } from '../errors.ts';
import { landlockAbi } from '../kernel/landlock.ts';
import { O_CLOEXEC, O_PATH } from '../kernel/files.ts';
import { flushNodeCompileCache, inheritedFdsToKeep, replaceProcess, resolveCommand } from '../kernel/process.ts';
import { capLastCap, dropAllCapabilities } from '../kernel/caps.ts';
import { cloexecFrom, leadsProcessGroup, trySetsid } from '../kernel/session.ts';
import { explainLayers, planLayers, type Layers } from './layers.ts';
import { buildSeccomp } from './seccomp.ts';
import { enforcePlan, resolveRules, type Resolution } from './apply.ts';
import { explainPlan, negotiate, type PathRule, type SandboxPlan } from './negotiate.ts';
import { profileEnv, profileToRequest, type SandboxProfile } from './profile.ts';
import { ACCESS_GROUPS, RESTRICT_FLAGS } from './rights.ts';

// node:fs through process.getBuiltinModule, not an ESM import: importing it builds its module
// namespace, whose fs.promises getter loads streams and readline (~4 ms of every `ward run`).
const { closeSync, fstatSync, openSync, writeFileSync } = process.getBuiltinModule('node:fs');

export interface PreparedSandbox {
  readonly plan: SandboxPlan;
  readonly resolution: Resolution;
  readonly layers: Layers;
  readonly command: string;
  readonly env: NodeJS.ProcessEnv;
  readonly warnings: string[];
  readonly keepEnv: boolean;
}

export interface PrepareOptions {
  /** CMD's whole environment, handed over by spawnSandboxed (the profile's env rules are not applied again). */
  readonly env?: NodeJS.ProcessEnv;
  readonly kernelAbi?: number;
}

const DEFAULT_PATH = '/usr/local/bin:/usr/bin:/bin';

/** Everything up to (not including) the restriction: negotiation, paths, libraries, command. */
export function prepareSandbox(profile: SandboxProfile, cmd: string, options: PrepareOptions = {}): PreparedSandbox {
  const kernelAbi = options.kernelAbi ?? landlockAbi();
  const env = options.env ?? profileEnv(profile);
  // Socket activation: the fds ward passes on (LISTEN_FDS for this pid, which CMD keeps) come
  // with the variables that announce them, even in a clean environment.
  if (!options.env && fdsToKeep(0).length > 0) {
    for (const k of ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES']) if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  // CMD is found with the caller's PATH (as landrun and env(1) do), or the handed-over one.
  const command = resolveCommand(cmd, (options.env ? options.env.PATH : process.env.PATH) ?? DEFAULT_PATH);
  if (!command) throw new WardError('ENOENT', `${cmd}: command not found`);
  const warnings: string[] = [];
  const extra: PathRule[] = [];
  if (profile['add-libs'] || profile.ldd) {
    const origin = profile['add-libs'] ? '--add-libs' : '--ldd';
    // Loaded on use (require of an ES module, synchronous): a plain launch does not pay for it.
    // The extension is this file's own: .ts in a checkout, .js in the built package.
    const { libraryNeeds } = createRequire(import.meta.url)(`./libs${extname(import.meta.filename)}`) as typeof import('./libs.ts');
    const needs = libraryNeeds(command);
    // --ldd (landrun's) leaves CMD's own file out; --add-libs and --add-exec include it.
    for (const path of needs.executables) if (path !== command || profile['add-libs']) extra.push({ path, access: ACCESS_GROUPS.rox, origin, fileOnly: true, expect: needs.identity.get(path) });
    for (const path of needs.readable) extra.push({ path, access: ACCESS_GROUPS.ro, origin, fileOnly: true });
    for (const lib of needs.notFound) warnings.push(`${origin}: the loader will not find ${lib}`);
  }
  if (profile['add-exec'] && !profile['add-libs']) extra.push({ path: command, access: ACCESS_GROUPS.rox, origin: '--add-exec', fileOnly: true, expect: programIdentity(command) });
  const planned = negotiate(profileToRequest(profile, extra), kernelAbi);
  if (!planned.ok) throw planned.error;
  const plan = planned.value;
  for (const d of plan.dropped) warnings.push(`not enforced: ${d}`);
  const layers = planLayers(profile, plan);
  warnings.push(...layers.warnings);
  const resolution = resolveRules(plan, profile['ignore-missing']);
  for (const s of resolution.skipped) warnings.push(`skipped missing path ${s}`);
  return { plan, resolution, layers, command, env, warnings, keepEnv: !options.env && !!profile['keep-env'] };
}

/**
 * --add-exec grants CMD's file: the one found now, bound by identity (the rule is refused if the
 * path names another file when it is opened), and only a program — a regular file with an execute
 * bit — since the path may be in someone else's directory and point at any file when looked up.
 */
function programIdentity(command: string): { dev: number; ino: number } {
  const fd = openSync(command, O_PATH | O_CLOEXEC);
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || (st.mode & 0o111) === 0) throw new WardError('EACCES', `--add-exec ${command}: not a program (a regular file with an execute bit); nothing was run`);
    return { dev: st.dev, ino: st.ino };
  } finally {
    closeSync(fd);
  }
}

/** The fds CMD gets besides 0-2: 3..3+n-1 for --preserve-fds n, or what LISTEN_FDS announces. */
export function fdsToKeep(preserve: number): number[] {
  return inheritedFdsToKeep(preserve);
}

/** --explain: which layer enforces what. */
export function explainSandbox(prepared: PreparedSandbox, keepFds: readonly number[]): string {
  return `${explainPlan(prepared.plan, prepared.resolution.rules)}\n${explainLayers(prepared.layers, prepared.plan, {
    canSetsid: !leadsProcessGroup(),
    root: process.getuid?.() === 0,
    keptFds: keepFds,
    envCount: Object.keys(prepared.env).length,
    keepEnv: prepared.keepEnv,
  })}\ncommand: ${prepared.command}`;
}

/**
 * Restricts this thread and becomes the command. Returns only by throwing. In order: a new
 * session (CVE-2017-5226; impossible when ward leads its process group — an interactive shell's
 * job — where CMD keeps the terminal and seccomp refuses TIOCSTI/TIOCLINUX), no_new_privs and
 * Landlock, capabilities dropped, the seccomp filter, every fd beyond 0-2 and `keepFds` marked
 * close-on-exec, execve. All of it on this (the main) thread, which is the one that execs.
 */
export function execSandboxed(prepared: PreparedSandbox, argv: readonly string[], keepFds: readonly number[] = [], auditMarker?: number): never {
  flushNodeCompileCache(); // before the sandbox forbids writing it
  if (keepFds.some((fd, i) => fd !== 3 + i)) throw new WardError('EINVAL', `the fds to keep must be 3, 4, … in order, got ${keepFds.join(', ')}`);
  // Everything that reads files (libseccomp, /proc) happens before Landlock.
  // setsid() fails when ward leads its process group (a shell's job): CMD then shares the
  // caller's session and terminal, and the filter also refuses taking its foreground.
  const sharedSession = !prepared.layers.newSession || leadsProcessGroup();
  const filter = buildSeccomp({ ...prepared.layers.seccomp, sharedSession });
  try {
    const lastCap = capLastCap();
    // --log-denials: a login uid that marks this process tree's audit records (root, once while unset).
    // Best effort: with an immutable login uid the seccomp refusals are just not attributed.
    if (auditMarker !== undefined) {
      try {
        writeFileSync('/proc/self/loginuid', String(auditMarker));
      } catch {
        /* not attributed */
      }
    }
    if (prepared.layers.newSession) trySetsid();
    enforcePlan(prepared.plan, prepared.resolution);
    if (prepared.layers.dropCaps) dropAllCapabilities(lastCap);
    filter.load();
  } finally {
    filter.release();
  }
  const first = 3 + keepFds.length;
  const err = cloexecFrom(first);
  if (err) throw new WardError(err, `close_range(${first}, ~0, CLOSE_RANGE_CLOEXEC) failed: ${err}; refusing to run CMD with the launcher's fds`);
  try {
    return replaceProcess(prepared.command, argv, prepared.env, keepFds);
  } catch (e) {
    if (e instanceof WardError && e.code === 'EACCES') {
      throw new WardError('EACCES', `cannot execute ${prepared.command} inside the sandbox: it needs read and execute rights (add --rox for its directory, or --add-libs)`);
    }
    throw e;
  }
}

// import.meta.dirname rather than node:url's fileURLToPath, which `ward run` would load for this alone.
const WARD_BIN = resolve(import.meta.dirname, '../../bin/ward.js');
/** The launcher's only variable: CMD's environment, as JSON (see --env-handover). */
export const CMD_ENV_VAR = 'WARD_CMD_ENV';

/**
 * Starts `cmd args` in a child process sandboxed by `profile` (through `ward run`). Returns the
 * ChildProcess; its exit status and signal are the command's own, 125 for a sandbox that
 * could not be set up (the reason on its stderr).
 *
 * CMD's environment is `options.env` (or, without it, the profile's env rules applied to this
 * process's environment: clean by default). The launcher — Node, unsandboxed until it execs —
 * never runs with that environment: it gets exactly one variable holding CMD's environment as
 * JSON, so LD_PRELOAD, NODE_OPTIONS and the like meant for CMD cannot act on it.
 */
export function spawnSandboxed(profile: SandboxProfile, cmd: string, args: readonly string[] = [], options: SpawnOptions = {}): ChildProcess {
  // Extra stdio entries (fd 3 and up) reach cmd too.
  const extraFds = Array.isArray(options.stdio) ? Math.max(0, options.stdio.length - 3) : 0;
  const cmdEnv = options.env ? profileEnv({ ...profile, 'keep-env': true }, options.env) : profileEnv(profile);
  const { env: _unused, 'keep-env': _k, 'clear-env': _c, ...rest } = profile;
  // Loaded on use: `ward run` itself never spawns, and every module costs launch time.
  const { spawn } = process.getBuiltinModule('node:child_process');
  return spawn(process.execPath, [WARD_BIN, 'run', '--profile-json', JSON.stringify(rest), '--env-handover', '--preserve-fds', String(extraFds), '--', cmd, ...args], {
    ...options,
    env: { [CMD_ENV_VAR]: JSON.stringify(cmdEnv) },
  });
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
