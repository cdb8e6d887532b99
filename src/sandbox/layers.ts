// ward run's layers beyond Landlock, and who enforces what: the seccomp complement (terminal
// ioctls, unix sockets, non-TCP sockets), the session, capabilities, fds and environment.
// Pure: decides from the profile and the negotiated plan; the launcher applies it.

import { WardError } from '../errors.ts';
import type { SandboxPlan } from './negotiate.ts';
import type { SandboxProfile } from './profile.ts';
import { NET_RIGHTS, RESOLVE_UNIX, UDP_ABI, UNIX_ABI, bits } from './rights.ts';
import { describeSeccomp, type SeccompRequest } from './seccomp.ts';

export interface Layers {
  readonly seccomp: SeccompRequest;
  readonly newSession: boolean;
  readonly dropCaps: boolean;
  readonly warnings: readonly string[];
}

const UDP = bits(NET_RIGHTS, ['bind_udp', 'connect_send_udp']);

/** Throws (strict) when a --unix rule cannot be limited to its path on this kernel. */
export function planLayers(p: SandboxProfile, plan: SandboxPlan): Layers {
  const warnings: string[] = [];
  const unix = p.unix ?? [];
  const landlockUnix = (plan.handledFs & RESOLVE_UNIX) !== 0n;
  let unixSockets = !!p['unrestricted-fs'] || !!p['allow-unix-sockets'] || landlockUnix;
  if (unix.length > 0 && !unixSockets) {
    const why = `--unix ${unix.join(', ')}: this kernel's Landlock (ABI ${plan.kernelAbi}) cannot limit connecting to one unix socket (that needs ABI ${UNIX_ABI})`;
    if ((p.compat ?? 'strict') === 'strict') {
      throw new WardError('ENOTSUP', `${why}. Nothing was run. Use --allow-unix-sockets to allow connecting to every pathname unix socket the file modes allow, or --best-effort`);
    }
    warnings.push(`not enforced: ${why}; every pathname unix socket the file modes allow is reachable`);
    unixSockets = true;
  }
  const restrictNet = !p['unrestricted-net'];
  const landlockUdp = (plan.handledNet & UDP) !== 0n;
  return {
    seccomp: {
      unixSockets,
      restrictNet,
      allowUdp: !!p['allow-udp'] || landlockUdp,
      allowListen: (p['bind-tcp'] ?? []).length > 0 || unixSockets,
      sysvIpc: !!p['allow-sysv-ipc'],
      keyrings: !!p['allow-keyrings'],
      log: (p.log ?? []).includes('log_new_exec_on'),
    },
    newSession: !p['share-session'],
    dropCaps: !p['keep-caps'],
    warnings,
  };
}

export interface LayerState {
  /** Whether setsid() can succeed (false when ward leads its process group, as a shell job). */
  readonly canSetsid: boolean;
  readonly root: boolean;
  readonly keptFds: readonly number[];
  readonly envCount: number;
  readonly keepEnv: boolean;
}

/** Which layer enforces what, in words (for --explain). */
export function explainLayers(layers: Layers, plan: SandboxPlan, s: LayerState): string {
  const lines = ['layers:'];
  lines.push(`  Landlock (ABI ${plan.kernelAbi}): files, TCP bind/connect${plan.scoped ? ', signals and abstract unix sockets out of the sandbox' : ''}, as listed above`);
  lines.push('  seccomp: refuses');
  for (const d of describeSeccomp({ ...layers.seccomp, sharedSession: !layers.newSession || !s.canSetsid })) lines.push(`    ${d}`);
  if (layers.seccomp.unixSockets) lines.push(`    (unix sockets allowed: ${(plan.handledFs & RESOLVE_UNIX) !== 0n ? 'Landlock limits them to the --unix paths' : 'every pathname unix socket the file modes allow is reachable'})`);
  lines.push(
    `  session: ${
      !layers.newSession
        ? "CMD shares the caller's session and terminal (--share-session); typing into the terminal and taking its foreground (tcsetpgrp, joining another process group) are refused by seccomp"
        : s.canSetsid
        ? 'CMD gets its own session (setsid): no controlling terminal to type into'
        : "CMD shares the caller's session and terminal (ward leads its process group, as a shell job does, so it keeps job control and Ctrl-C); typing into the terminal and taking its foreground (tcsetpgrp, joining another process group) are refused by seccomp; a shell inside runs without job control"
    }`,
  );
  lines.push(
    `  capabilities: ${
      layers.dropCaps
        ? s.root
          ? 'all dropped (bounding, ambient, inheritable, permitted, effective)'
          : 'all dropped (inheritable, permitted, effective, ambient); no_new_privs keeps execve from granting any'
        : 'kept (--keep-caps): as root CMD can do what Landlock does not mediate (sethostname, netlink, bpf, reboot, …)'
    }`,
  );
  lines.push(`  fds: 0-2${s.keptFds.length ? ` and ${s.keptFds.join(', ')}` : ''} reach CMD; every other fd is closed at exec`);
  lines.push(`  environment: ${s.keepEnv ? "the caller's (--keep-env)" : `clean: ${s.envCount} variable(s) from --env`}`);
  const open: string[] = ['memfd and other fd-based exec: code run from memory or an already open fd needs no execute right (Landlock checks files opened for execution only)'];
  if (plan.kernelAbi < UNIX_ABI && layers.seccomp.unixSockets) open.push(`pathname unix sockets (Landlock ABI ${UNIX_ABI})`);
  if (plan.kernelAbi < UDP_ABI && layers.seccomp.allowUdp && layers.seccomp.restrictNet) open.push(`UDP to any port (--allow-udp; Landlock ABI ${UDP_ABI} restricts ports)`);
  open.push('stat, chmod, chown, utime, flock and fds opened before the sandbox (not Landlock-mediated)');
  open.push('terminal escape sequences written to a shared terminal');
  if (layers.seccomp.sysvIpc) open.push("SysV IPC objects of the caller's IPC namespace (--allow-sysv-ipc)");
  if (layers.seccomp.keyrings) open.push("the user's keyrings (--allow-keyrings)");
  lines.push('  not restricted:');
  for (const o of open) lines.push(`    ${o}`);
  return lines.join('\n');
}

export { UDP_ABI, UNIX_ABI };
