// Helpers for the second-kernel tests (scripts/vm.sh: Debian's kernels under QEMU).
//
// Test files that must run inside a guest are named `*.vm.test.ts` (Debian bookworm's 6.1) or
// `*.vm-6.12.test.ts` (bookworm-backports' 6.12 with IPE, booted through OVMF with a test key
// enrolled). `npm run test:vm` runs all of them for a kernel in ONE `node --test` in ONE boot;
// the host's `npm test` leaves them out of its own run and then runs `test:vm`.
// In a guest: WARD_VM=1, WARD_VM_KERNEL=6.1|6.12, WARD_VM_SCRATCH=/scratch (an empty tmpfs);
// on 6.12 also WARD_VM_IPE_KEY / WARD_VM_IPE_CERT (the key the kernel's platform keyring trusts).

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { IN_CI } from './kernel.ts';

export type GuestKernel = '6.1' | '6.12';

export const VM_SCRIPT = fileURLToPath(new URL('../../scripts/vm.sh', import.meta.url));
export const IN_VM = process.env.WARD_VM === '1';
export const VM_KERNEL: GuestKernel | undefined =
  process.env.WARD_VM_KERNEL === '6.1' || process.env.WARD_VM_KERNEL === '6.12' ? process.env.WARD_VM_KERNEL : undefined;
export const VM_SCRATCH = process.env.WARD_VM_SCRATCH ?? '/scratch';

/** The signing key and certificate enrolled in the 6.12 guest's UEFI db (undefined elsewhere). */
export const VM_IPE_KEY = process.env.WARD_VM_IPE_KEY;
export const VM_IPE_CERT = process.env.WARD_VM_IPE_CERT;

/**
 * For tests in `*.vm*.test.ts`: true inside the wanted guest. Run anywhere else (say
 * `node --test x.vm.test.ts` on the host) the test fails under CI=true and skips otherwise,
 * saying how to run it.
 */
export function inGuest(t: TestContext, kernel: GuestKernel): boolean {
  if (IN_VM && VM_KERNEL === kernel) return true;
  const why = `the ${kernel} guest (npm run test:vm -- ${kernel})`;
  if (IN_CI) throw new Error(`this test runs only in ${why}; here WARD_VM_KERNEL=${VM_KERNEL ?? 'unset'}`);
  t.skip(`runs in ${why}`);
  return false;
}

export interface VmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface VmOptions {
  kernel?: GuestKernel;
  /** Extra kernel command-line arguments, e.g. `lsm=landlock,bpf`. */
  append?: string;
  /** Working directory, on the host and so in the guest (default: this process's). */
  cwd?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Boots a guest from the host and runs `argv` there (scripts/vm.sh); returns its output. */
export function runInVm(argv: string[], options: VmOptions = {}): VmResult {
  const args = ['--kernel', options.kernel ?? '6.1'];
  if (options.append !== undefined) args.push('--append', options.append);
  const r = spawnSync('bash', [VM_SCRIPT, ...args, '--', ...argv], {
    encoding: 'utf8',
    cwd: options.cwd,
    env: options.env ?? process.env,
    timeout: options.timeoutMs ?? 600_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}
