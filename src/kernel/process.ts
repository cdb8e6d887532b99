// Replacing the current process with another program, from the calling (main) thread.
// Not process.execve: it aborts Node on failure (no error to report) and leaves SIGPIPE and
// SIGXFSZ ignored in the new program (Node ignores them for itself), so a pipeline like
// `ward exec -- yes | head` would not end the way it does without ward. Here: stdio is made
// inheritable and blocking again (libuv sets O_NONBLOCK on the shared pipe description once
// process.stdout is used; the next program would get EAGAIN), Node's ignored signals go back to
// default, the signal mask is cleared, then execve(2); on failure everything is restored and a
// KernelError is thrown.

import { delimiter, join } from 'node:path';
import { errnoName } from '../errors.ts';
import { KernelError } from './errors.ts';
import { fn, lastErrno } from './ffi.ts';

// node:fs through process.getBuiltinModule, not an ESM import: importing it builds its module
// namespace, whose fs.promises getter loads streams and readline (~4 ms of every `ward run`).
const { accessSync, constants, statSync } = process.getBuiltinModule('node:fs');

const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const FD_CLOEXEC = 1;
// Node knows O_NONBLOCK per architecture.
const O_NONBLOCK: number = constants.O_NONBLOCK;
const SIGPIPE = 13;
const SIGXFSZ = 25;
const SIG_SETMASK = 2;

function setSignal(sig: number, handler: 0 | 1): void {
  // SIG_DFL = (void *)0, SIG_IGN = (void *)1
  fn('intptr_t signal(int sig, intptr_t handler)')(sig, handler);
}

function clearSigmask(): Buffer {
  const old = Buffer.alloc(128);
  fn('int pthread_sigmask(int how, const uint8_t *set, _Out_ uint8_t *old)')(SIG_SETMASK, Buffer.alloc(128), old);
  return old;
}

/** Finds CMD like execvp: as given when it has a '/', else the first executable in PATH. */
export function resolveCommand(cmd: string, pathEnv = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'): string | undefined {
  if (cmd.includes('/')) return cmd;
  for (const dir of pathEnv.split(delimiter)) {
    const candidate = join(dir || '.', cmd);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/**
 * The inherited fds to hand on: Node marks every fd it inherited close-on-exec at start-up, so
 * fds 3..3+n-1 are passed on only when asked (--preserve-fds) or announced by socket activation
 * (LISTEN_FDS, for this pid).
 */
export function inheritedFdsToKeep(preserve: number, env: NodeJS.ProcessEnv = process.env): number[] {
  let n = preserve;
  const listen = Number(env.LISTEN_FDS);
  if (Number.isInteger(listen) && listen > 0 && (env.LISTEN_PID === undefined || Number(env.LISTEN_PID) === process.pid)) n = Math.max(n, listen);
  return Array.from({ length: n }, (_, i) => 3 + i);
}

/** Node writes its compile cache at exit, which never comes after an exec: write it now. */
export function flushNodeCompileCache(): void {
  (process.getBuiltinModule('node:module') as { flushCompileCache?: () => void }).flushCompileCache?.();
}

/** execve(path, argv, env), keeping `keepFds` open. Returns only by throwing (the execve errno). */
export function replaceProcess(path: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env, keepFds: readonly number[] = []): never {
  const envp = Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  flushNodeCompileCache();
  const fcntl = fn('int fcntl(int fd, int cmd, int arg)');
  const restoreFlags: Array<[number, number, number]> = [];
  for (const fd of [0, 1, 2, ...keepFds]) {
    const fdFlags = Number(fcntl(fd, F_GETFD, 0));
    if (fdFlags >= 0 && fdFlags & FD_CLOEXEC) {
      fcntl(fd, F_SETFD, fdFlags & ~FD_CLOEXEC);
      restoreFlags.push([fd, F_SETFD, fdFlags]);
    }
    const flFlags = Number(fcntl(fd, F_GETFL, 0));
    if (flFlags >= 0 && flFlags & O_NONBLOCK) {
      fcntl(fd, F_SETFL, flFlags & ~O_NONBLOCK);
      restoreFlags.push([fd, F_SETFL, flFlags]);
    }
  }
  setSignal(SIGPIPE, 0);
  setSignal(SIGXFSZ, 0);
  const oldMask = clearSigmask();
  fn('int execve(const char *path, const char **argv, const char **envp)')(path, [...argv, null], [...envp, null]);
  const errno = errnoName(lastErrno());
  fn('int pthread_sigmask(int how, const uint8_t *set, _Out_ uint8_t *old)')(SIG_SETMASK, oldMask, Buffer.alloc(128));
  setSignal(SIGPIPE, 1);
  setSignal(SIGXFSZ, 1);
  for (const [fd, cmd, flags] of restoreFlags) fcntl(fd, cmd, flags);
  throw new KernelError(errno, 'execve', `cannot execute ${path}: ${errno}`);
}
