// A child process for kernel tests: `probe.ts TASK JSON-ARGS drop|keep`. Imports everything
// first, then optionally drops to nobody:nogroup, then runs the task and prints its JSON result.
// Tasks change per-thread kernel state (securebits) that must not touch the test runner.

import { openSync, closeSync, fchmodSync, writeSync } from 'node:fs';
import { trustedFor, type TrustOptions } from '../../src/trust/trusted-for.ts';
import { execveCheckSupported } from '../../src/kernel/exec-check.ts';
import { memfdCreate, pipe } from '../../src/kernel/files.ts';
import { getSecurebits, setSecurebits } from '../../src/kernel/securebits.ts';
import { KernelError } from '../../src/kernel/errors.ts';
import { main as wardMain } from '../../src/cli/main.ts';

const [task, rawArgs, mode] = process.argv.slice(2);
const args = JSON.parse(rawArgs ?? 'null') as Record<string, unknown>;

// Warm the FFI before dropping privileges (loads koffi and libc).
execveCheckSupported();
getSecurebits();

if (mode === 'drop') {
  process.setgroups!([]);
  process.setgid!(65534);
  process.setuid!(65534);
}

function tryCall(fn: () => void): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof KernelError ? e.code : `unexpected: ${String(e)}`;
  }
}

const tasks: Record<string, () => unknown | Promise<unknown>> = {
  // Checks each path, plus fd cases made here: memfd 0700 / 0600 and a pipe.
  trust() {
    const options = args.options as TrustOptions;
    const out: Record<string, unknown> = {};
    for (const [name, path] of Object.entries(args.paths as Record<string, string>)) {
      out[name] = trustedFor(path, 'execution', options);
    }
    for (const [name, nofollowPath] of Object.entries((args.nofollow as Record<string, string>) ?? {})) {
      out[name] = trustedFor(nofollowPath, 'execution', { ...options, nofollow: true });
    }
    for (const [name, perm] of [['memfd_0700', 0o700], ['memfd_0600', 0o600]] as const) {
      const fd = memfdCreate(name);
      writeSync(fd, Buffer.from('#!/bin/sh\n'));
      fchmodSync(fd, perm);
      out[name] = trustedFor(fd, 'execution', options);
      closeSync(fd);
    }
    const [r, w] = pipe();
    out.pipe = trustedFor(r, 'execution', options);
    closeSync(r);
    closeSync(w);
    return out;
  },
  // Securebits on this thread: set, read back, lock, try to undo.
  securebits() {
    const steps: Record<string, unknown> = { start: getSecurebits() };
    steps.noop = tryCall(() => setSecurebits(getSecurebits()));
    steps.setRestrict = tryCall(() => setSecurebits(getSecurebits() | 0x100));
    steps.afterSet = getSecurebits();
    steps.clearUnlocked = tryCall(() => setSecurebits(getSecurebits() & ~0x100));
    steps.afterClear = getSecurebits();
    steps.setAndLock = tryCall(() => setSecurebits(getSecurebits() | 0x100 | 0x200 | 0x400));
    steps.afterLock = getSecurebits();
    steps.clearLocked = tryCall(() => setSecurebits(getSecurebits() & ~0x100));
    steps.clearLock = tryCall(() => setSecurebits(getSecurebits() & ~0x200));
    steps.clearUnlockedBitWhileOtherLocked = tryCall(() => setSecurebits(getSecurebits() & ~0x400));
    steps.final = getSecurebits();
    return steps;
  },
  // Runs the real `ward exec` command line in this (possibly unprivileged) process.
  async wardExec() {
    const code = await wardMain(args.argv as string[]);
    return { code };
  },
  openForCheck() {
    const fd = openSync(args.path as string, 'r');
    return { fd };
  },
};

const fn = tasks[task ?? ''];
if (!fn) {
  process.stderr.write(`unknown probe task ${task}\n`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(await fn()) + '\n');
