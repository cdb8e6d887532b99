// Differential fuzz of `ward run`'s fast parser against commander: thousands of generated
// command lines (every option, `=` and separate values, repeats, empty, dash-led, unicode and
// comma-list values, `--` anywhere, options after CMD). Whatever the fast parser accepts must be
// exactly what commander's real program makes of the same argv (same CMD, same options);
// anything it declines is left to commander, which is safe by construction. A divergence here
// would let the fast entry run CMD under a sandbox other than the one the user asked for.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RUN_OPTIONS, longName, parseRunArgs } from '../../src/cli/run-options.ts';
import { commanderParse } from '../helpers/run-parse.ts';
import { rng } from '../helpers/rng.ts';



const NAMES = RUN_OPTIONS.map(longName);
const VALUES = [
  '', '/usr', '/etc,/lib', 'a,,b', ',', '/x,', '-', '-x', '--', '--ro', '--help', '-h', '-5', '-1.5', '80', '80,443', '70000', '-1', '0x50',
  'debug', 'info', 'loud', 'auto', '7', '=', 'a=b', '/tmp/é', '/tmp/\u202e', '\u2013\u2013ro', '—ro', ' ', '/a b', 'HOME', 'A=b=c', '{"ro":["/"]}',
];
const STRAYS = ['--', '-', '-h', '--help', '-V', '--version', '--bogus', '--r', '--ro-', '--RO', '--no-ro', '--no-strict', '--=x', '---ro', '-5', '\u2013\u2013strict', '--strict=', '--ldd=1', ''];
const CMDS = ['/bin/true', 'sh', '-c', '--ro', '/x', '--', '--strict', 'é'];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function generate(r: () => number): string[] {
  const out: string[] = [];
  const n = Math.floor(r() * 6);
  for (let k = 0; k < n; k++) {
    const roll = r();
    if (roll < 0.1) out.push(pick(r, STRAYS));
    else {
      const name = pick(r, NAMES);
      const form = r();
      if (form < 0.3) out.push(`${name}=${pick(r, VALUES)}`);
      else if (form < 0.9) out.push(name, pick(r, VALUES));
      else out.push(name);
    }
  }
  if (r() < 0.5) out.push('--');
  const m = Math.floor(r() * 4);
  for (let k = 0; k < m; k++) out.push(pick(r, CMDS));
  return out;
}

test('fuzz: every argv the fast parser accepts, commander parses to the same CMD and options', async () => {
  const seed = Number(process.env.WARD_FUZZ_SEED ?? 20261126);
  const r = rng(seed);
  let taken = 0;
  for (let k = 0; k < 3000; k++) {
    const args = generate(r);
    const fast = parseRunArgs(args);
    if (!fast) continue;
    taken++;
    const slow = await commanderParse(args);
    assert.deepEqual({ command: fast.command, flags: fast.flags }, slow, `seed ${seed}, argv ${JSON.stringify(args)}`);
  }
  // The generator must reach the fast path often, or the comparison proves nothing.
  assert.ok(taken > 500, `only ${taken} generated command lines were taken by the fast parser`);
});
