// Holding an allowed exec's read lease until the kernel has taken its own deny-write.
//
// fanotify asks before the kernel's exec path takes deny-write on the file (do_open_execat:
// the permission event is in the open, exe_file_deny_write_access comes after it returns). A
// writer that opens in between could rewrite the file after ward's answer and before the exec
// reads it. While ward keeps its read lease, such a writer waits for ward (and, having write
// access already, makes the exec fail with ETXTBSY). A fixed grace is not enough: an unprivileged
// process can keep its exec thread off the CPU for longer than any grace (SCHED_IDLE behind a
// busy thread), so the lease is kept until there is evidence:
//  - /proc/PID/exe is the file: that process's mm holds deny-write on it for as long as it lives
//    (kernel/fork.c set_mm_exe_file → exe_file_deny_write_access, Linux 5.15+), or
//  - the process is gone (it can no longer exec anything), or
//  - the file is not ELF: scripts, and whatever binfmt_misc runs, are read by an interpreter
//    after the exec anyway (docs/daemon.md) — these keep the short grace only; so does an
//    AT_EXECVE_CHECK question (fanotify cannot tell it from an execve, but /proc/PID/syscall
//    shows execveat with the flag while the asker waits): it never makes an exe;
//  - at most `maxMs`. If by then a writer is waiting (the lease is broken), that writer got write
//    access before the exec took deny-write, so the exec would run content ward did not decide
//    (or fail): unless the process is visibly past it (blocked in another system call), the
//    exec'ing process is killed before the writer may proceed.
// No evidence tells when a starved exec thread will take deny-write, so beyond `maxMs` a
// patient writer can still win (docs/daemon.md lists it).

import { readSync, statSync } from 'node:fs';
import { arch, sys } from '../kernel/arch.ts';
import { AT_EXECVE_CHECK } from '../kernel/exec-check.ts';
import { closeRaw } from '../kernel/io.ts';
import { currentSyscall } from '../kernel/proc-syscall.ts';
import { readLeaseIntact } from '../kernel/lease.ts';
import { identityOfFd } from '../properties/identity.ts';
import { errorCode } from '../errors.ts';

export const SCRIPT_GRACE_MS = 100;

interface Held {
  pid: number;
  dev: bigint;
  ino: bigint;
  until: number;
  elf: boolean;
}

export class LeaseHolds {
  readonly #held = new Map<number, Held>();
  readonly #maxMs: number;
  readonly #limit: number;
  readonly #release: (fd: number) => void;
  readonly #onKill: (fd: number, pid: number) => void;

  /** release(fd): drop ward's lease on fd; onKill: called (before release) when the exec'ing process was killed. */
  constructor(o: { maxMs: number; limit: number; release: (fd: number) => void; onKill: (fd: number, pid: number) => void }) {
    this.#maxMs = o.maxMs;
    this.#limit = o.limit;
    this.#release = o.release;
    this.#onKill = o.onKill;
  }

  get size(): number {
    return this.#held.size;
  }

  has(fd: number): boolean {
    return this.#held.has(fd);
  }

  /** Keeps fd (and its lease) after an allowed exec by pid; closed by tick(). */
  hold(fd: number, pid: number, now = Date.now()): void {
    const head = Buffer.alloc(4);
    let elf = false;
    try {
      elf = readSync(fd, head, 0, 4, 0) === 4 && head.readUInt32BE(0) === 0x7f454c46;
    } catch {
      /* unreadable: the short grace */
    }
    if (elf && isExecveCheck(pid)) elf = false;
    let dev = -1n;
    let ino = -1n;
    try {
      ({ dev, ino } = identityOfFd(fd));
    } catch {
      elf = false;
    }
    this.#held.set(fd, { pid, dev, ino, elf, until: now + (elf ? this.#maxMs : SCRIPT_GRACE_MS) });
    // Bounded: past the limit the oldest hold ends (with the same kill rule).
    while (this.#held.size > this.#limit) this.#end(this.#held.keys().next().value as number, true);
  }

  /** Ends the holds that have their evidence or reached their limit (all of them with `all`). */
  tick(all = false, now = Date.now()): void {
    for (const [fd, h] of this.#held) {
      if (all || now >= h.until) this.#end(fd, true);
      else if (h.elf) {
        const e = this.#evidence(h);
        if (e) this.#end(fd, false);
      }
    }
  }

  #evidence(h: Held): 'exe' | 'gone' | undefined {
    try {
      const st = statSync(`/proc/${h.pid}/exe`, { bigint: true });
      return st.dev === h.dev && st.ino === h.ino ? 'exe' : undefined;
    } catch (e) {
      // ENOENT: no such process (or a zombie, whose exe is gone): it cannot exec any more.
      return errorCode(e) === 'ENOENT' ? 'gone' : undefined;
    }
  }

  #end(fd: number, limit: boolean): void {
    const h = this.#held.get(fd)!;
    this.#held.delete(fd);
    if (limit && h.elf && !readLeaseIntact(fd) && this.#evidence(h) === undefined && mayBeExecuting(h.pid)) {
      try {
        process.kill(h.pid, 'SIGKILL');
        this.#onKill(fd, h.pid);
      } catch {
        /* already gone */
      }
    }
    this.#release(fd);
    closeRaw(fd);
  }
}

/** true when pid's (main) thread is in execveat(…, AT_EXECVE_CHECK): a question, not an exec. */
function isExecveCheck(pid: number): boolean {
  const s = currentSyscall(pid);
  return typeof s === 'object' && s.nr === sys().execveat && (s.args[4]! & BigInt(AT_EXECVE_CHECK)) !== 0n;
}

/** Could pid still be inside the exec ward answered? Running (a starved thread shows so), or in
 *  execve/execveat. Blocked in anything else: that exec is over (it failed, or was a question). */
function mayBeExecuting(pid: number): boolean {
  const s = currentSyscall(pid);
  if (s === undefined) return false;
  return s === 'running' || (typeof s === 'object' && (s.nr === sys().execveat || s.nr === arch().learn.execve));
}
