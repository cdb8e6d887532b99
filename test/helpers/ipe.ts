// For the tests on the kernel's IPE (the 6.12 guest): IPE refuses to activate a version older
// than the active policy's (security/ipe/policy.c), and tests in one boot leave policies active.

import { readdirSync, readFileSync } from 'node:fs';

export const IPE = '/sys/kernel/security/ipe';

/** One more than the major version of the kernel's active policy (1 when none is active). */
export function nextIpeMajor(): number {
  return 1 + Math.max(0, ...readdirSync(`${IPE}/policies`)
    .filter((n) => readFileSync(`${IPE}/policies/${n}/active`, 'utf8').trim() === '1')
    .map((n) => Number(readFileSync(`${IPE}/policies/${n}/version`, 'utf8').trim().split('.')[0])));
}
