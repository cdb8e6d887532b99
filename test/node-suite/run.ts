// Runs Node's tests as Node's own tools/test.py does — `node [// Flags: of the test] test/…/x.js`
// from the source root, TEST_THREAD_ID naming the test's tmpdir (test/.tmp.<id>) — under one of
// three launchers, a few at a time, each under a killing timeout.

import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { WARD_BIN } from '../helpers/cli.ts';

export type Mode = 'plain' | 'ward' | 'enforced';

export interface Outcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  /** The end of stdout + stderr (enough to tell a refusal from another failure). */
  out: string;
  ms: number;
}

export const passed = (o: Outcome): boolean => o.status === 0 && o.signal === null;

const TIMEOUT_MS = 120_000;

/** The test's `// Flags:` line, read as test/common/index.js reads it (first 1500 bytes). */
export function testFlags(root: string, test: string): string[] {
  const head = readFileSync(join(root, test), 'utf8').slice(0, 1500);
  const at = head.search(/\/\/ Flags:\s+--/);
  if (at < 0) return [];
  const end = head.indexOf('\n', at);
  return head.slice(at + 9, end < 0 ? undefined : end).trim().split(/\s+/).filter(Boolean);
}

function command(mode: Mode, args: string[]): string[] {
  if (mode === 'plain') return args;
  if (mode === 'ward') return [WARD_BIN, 'node', ...args];
  // The kernel's bits, set by ward exec and inherited by every process the test starts.
  return [WARD_BIN, 'exec', '--restrict-file', '--deny-interactive', '--', process.execPath, WARD_BIN, 'node', ...args];
}

// Not this runner's own context: a test using node:test would otherwise think it is nested.
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NODE_TEST') && k !== 'NODE_OPTIONS' && k !== 'NODE_COMPILE_CACHE'));

export function runOne(root: string, test: string, mode: Mode, slot: number): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, command(mode, [...testFlags(root, test), test]), {
      cwd: root,
      env: { ...ENV, TEST_THREAD_ID: String(slot), NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    const keep = (d: Buffer) => {
      out = (out + d.toString('utf8')).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    // A test that hangs is killed with everything it started (its own process group).
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    }, TIMEOUT_MS);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
      resolve({ status, signal, out, ms: Date.now() - started });
    });
  });
}

/** Runs every test in `mode`, `concurrency` at a time; each slot has its own tmpdir. */
export async function runAll(root: string, tests: readonly string[], mode: Mode, concurrency = 2): Promise<Map<string, Outcome>> {
  const results = new Map<string, Outcome>();
  let next = 0;
  const slot = async (id: number) => {
    while (next < tests.length) {
      const test = tests[next++]!;
      results.set(test, await runOne(root, test, mode, id));
    }
    rmSync(join(root, 'test', `.tmp.${id}`), { recursive: true, force: true });
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => slot(i)));
  return results;
}
