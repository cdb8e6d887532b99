// A real ward daemon for tests: its own tmpfs mounts (the only ones it marks), state directory,
// socket and audit log; started under `timeout -s KILL` so a hung permission listener cannot
// outlive the test run, and stopped (or killed) by the test.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Scratch } from './kernel.ts';
import { WARD_BIN } from './cli.ts';

export interface DaemonOptions {
  extraArgs?: string[];
  bootPolicy?: string;
  mounts?: string[];
  /** How long to wait for "ready:" (default 30 s; a guest under TCG needs more). */
  readyMs?: number;
}

export class TestDaemon {
  readonly scratch: Scratch;
  readonly m1: string;
  readonly stateDir: string;
  readonly socket: string;
  readonly auditLog: string;
  proc: ChildProcess | undefined;
  log = '';

  constructor() {
    this.scratch = new Scratch('ward-daemon-');
    this.m1 = this.scratch.tmpfs('m1');
    this.stateDir = join(this.scratch.root, 'state');
    this.socket = join(this.scratch.root, 'ctl.sock');
    this.auditLog = join(this.scratch.root, 'audit.jsonl');
  }

  /** A copy of /bin/true on m1; `salt` appends bytes so the digest differs but it still runs. */
  binary(name: string, salt?: string | number): string {
    const p = join(this.m1, name);
    copyFileSync('/bin/true', p);
    if (salt !== undefined) appendFileSync(p, typeof salt === 'number' ? randomBytes(salt) : salt);
    chmodSync(p, 0o755);
    return p;
  }

  policy(name: string, text: string): string {
    const p = join(this.scratch.root, name);
    writeFileSync(p, text);
    return p;
  }

  async start(o: DaemonOptions = {}): Promise<void> {
    // ward marks whole filesystems: a test must never hand it a directory of the host's root
    // filesystem (every exec on the machine would wait for this test's daemon).
    const rootDev = statSync('/').dev;
    for (const m of o.mounts ?? [this.m1]) if (statSync(m).dev === rootDev) throw new Error(`test daemon: ${m} is on the host's root filesystem; give it a tmpfs of its own`);
    // Its own (empty) configuration: never the host's /etc/ward/daemon.json.
    const config = join(this.scratch.root, 'daemon.json');
    if (!existsSync(config)) writeFileSync(config, '{}\n');
    const args = [
      '-s', 'KILL', '600', process.execPath, WARD_BIN, 'daemon', '--config', config,
      '--state-dir', this.stateDir, '--socket', this.socket, '--audit-log', this.auditLog,
      ...(o.mounts ?? [this.m1]).flatMap((m) => ['--mount', m]),
      ...(o.bootPolicy ? ['--boot-policy', o.bootPolicy] : []),
      '--quiet',
      ...(o.extraArgs ?? []),
    ];
    this.log = '';
    const proc = spawn('timeout', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`daemon did not get ready: ${this.log}`)), o.readyMs ?? 30_000);
      proc.stderr!.on('data', (d: Buffer) => {
        this.log += d.toString();
        if (this.log.includes('ready:')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`daemon exited (${code}): ${this.log}`));
      });
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return proc?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    // `timeout` forwards TERM; KILL must reach the daemon itself (the child of timeout).
    if (signal === 'SIGKILL') spawnSync('pkill', ['-KILL', '-P', String(proc.pid)]);
    else proc.kill(signal);
    const code = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 15_000))]);
    if (proc.exitCode === null) {
      spawnSync('pkill', ['-KILL', '-P', String(proc.pid)]);
      proc.kill('SIGKILL');
    }
    this.proc = undefined;
    return code;
  }

  /** The daemon's own pid (the child of `timeout`). */
  get pid(): number {
    const out = spawnSync('pgrep', ['-P', String(this.proc?.pid)], { encoding: 'utf8' }).stdout.trim();
    return Number(out.split('\n')[0]);
  }

  /** `ward …` against this daemon's socket, as root (the test's own Node). */
  ctl(args: string[], input?: string) {
    const r = spawnSync(process.execPath, [WARD_BIN, ...args, '--socket', this.socket], { encoding: 'utf8', timeout: 60_000, input });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Audit records are written by the daemon's main thread after the answer: wait for one. */
  async waitAudit(match: (r: Record<string, unknown>) => boolean, timeoutMs = 5000): Promise<Record<string, unknown> | undefined> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.audit().filter(match).at(-1);
      if (found || Date.now() > end) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  audit(): Array<Record<string, unknown>> {
    if (!existsSync(this.auditLog)) return [];
    return readFileSync(this.auditLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async cleanup(): Promise<void> {
    await this.stop('SIGKILL');
    this.scratch.cleanup();
  }
}

/** Runs a program with a time limit; 'EPERM' etc. when execve failed. */
export function exec(path: string, args: string[] = [], env?: NodeJS.ProcessEnv): number | string {
  const r = spawnSync(path, args, { timeout: 30_000, stdio: 'ignore', env });
  if (r.error) return (r.error as NodeJS.ErrnoException).code ?? 'error';
  return r.status ?? `signal ${r.signal}`;
}
