// Shared by the BPF guest tests: run commands in the guest and ward's CLI there.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const WARD = fileURLToPath(new URL('../../bin/ward.js', import.meta.url));

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function sh(command: string, env: NodeJS.ProcessEnv = process.env): Run {
  const r = spawnSync('bash', ['-c', command], { encoding: 'utf8', env, timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function ward(args: string): string {
  return `${process.execPath} ${WARD} ${args}`;
}
