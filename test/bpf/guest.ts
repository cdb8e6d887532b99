// Shared by the BPF guest tests: run commands in the guest and ward's CLI there.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { closeSync, openSync } from 'node:fs';
import { PropertyReader } from '../../src/properties/context.ts';

export const WARD = fileURLToPath(new URL('../../bin/ward.js', import.meta.url));

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function sh(command: string, env: NodeJS.ProcessEnv = process.env): Run {
  // TCG on a busy host is slow (python3 over 9p can take tens of seconds): a generous limit, and
  // a timeout is an error of its own, never mistaken for the command's failure.
  const r = spawnSync('bash', ['-c', command], { encoding: 'utf8', env, timeout: 900_000 });
  if (r.error || r.signal) throw new Error(`${command}: ${r.error?.message ?? `killed by ${r.signal}`}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// An allowlist denies anonymous executable memory (as IPE): the Node that runs while it is
// enforced (test/bpf/enforce-run.ts) must not make new code after start-up (--jitless would also
// turn off the WebAssembly that strips TypeScript). Interpreter only; regular expressions
// interpreted too.
export const NO_NEW_CODE = ['--no-opt', '--no-sparkplug', '--no-maglev', '--regexp-interpret-all', '--no-wasm-lazy-compilation'];

export function ward(args: string): string {
  return `${process.execPath} ${WARD} ${args}`;
}

const reader = new PropertyReader();

/** The file's fs-verity digest as ward's policies name it (`sha256:…`), by ward's own reader. */
export function digest(path: string): string {
  const fd = openSync(path, 'r');
  try {
    return reader.verityDigest(fd).value;
  } finally {
    closeSync(fd);
  }
}
