// The review's second round against --add-libs/--add-exec: the paths ward discovers may lie in
// a directory someone else owns (a downloaded program's $ORIGIN, its #! interpreter), who can
// swap a checked file for a link to any file between ward reading it and the Landlock rule being
// opened — the rule then grants that file (a race, won 2 times in 40 on this machine against
// `ward run --add-libs` as root: the sandboxed program read /etc/shadow). The swap is made here
// deterministically between the two steps ward takes (libraryNeeds, then resolveRules, as
// prepareSandbox does), on the real filesystem.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, Scratch, requires } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';
import { landlockAbi } from '../../src/kernel/landlock.ts';
import { libraryNeeds } from '../../src/sandbox/libs.ts';
import { prepareSandbox } from '../../src/sandbox/launcher.ts';
import { negotiate, type PathRule } from '../../src/sandbox/negotiate.ts';
import { resolveRules } from '../../src/sandbox/apply.ts';
import { profileToRequest } from '../../src/sandbox/profile.ts';
import { ACCESS_GROUPS } from '../../src/sandbox/rights.ts';

const abi = landlockAbi();
const canRun = IS_ROOT && abi >= 6;
let s: Scratch;
let D: string;
const SECRET = '/etc/shadow';

before(() => {
  if (!canRun) return;
  s = new Scratch('ward-libs-race-');
  D = s.dir('d', 0o755);
});
after(() => s?.cleanup());

function scriptWithInterp(name: string): { script: string; interp: string } {
  const interp = join(D, `${name}-interp`);
  symlinkSync('/bin/sh', interp);
  const script = join(D, name);
  writeFileSync(script, `#!${interp}\necho hi\n`);
  chmodSync(script, 0o755);
  return { script, interp };
}

test('--add-libs: a discovered file swapped for a link to another file before its rule is opened is refused, not granted', (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
  const { script, interp } = scriptWithInterp('swap');
  const needs = libraryNeeds(script);
  assert.ok(needs.executables.includes(interp), needs.executables.join(' '));
  // The rules as prepareSandbox makes them from what libraryNeeds found.
  const identity = (needs as { identity?: ReadonlyMap<string, { dev: number; ino: number }> }).identity;
  const rules: PathRule[] = needs.executables.map((path) => ({ path, access: ACCESS_GROUPS.rox, origin: '--add-libs', fileOnly: true, expect: identity?.get(path) }));
  // The owner of D swaps the interpreter for a link to a secret.
  rmSync(interp);
  symlinkSync(SECRET, interp);
  const planned = negotiate(profileToRequest({}, rules), abi);
  assert.ok(planned.ok);
  let granted: string | undefined;
  try {
    const r = resolveRules(planned.value);
    const secret = statSync(SECRET);
    if (r.rules.some((x) => x.rule.path === interp)) granted = `a rule for ${interp} now on ${SECRET} (inode ${secret.ino})`;
  } catch (e) {
    assert.equal((e as { code?: string }).code, 'ESTALE', String(e));
    assert.match(String(e), /no longer the file ward read/);
  }
  assert.equal(granted, undefined, granted);
});

test('--add-libs: prepareSandbox binds each discovered rule to the file it read', (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
  const { script, interp } = scriptWithInterp('bound');
  const prepared = prepareSandbox({ 'add-libs': true }, script);
  const rule = prepared.plan.pathRules.find((r) => r.path === interp) as (PathRule & { expect?: { dev: number; ino: number } }) | undefined;
  const st = statSync(interp);
  assert.deepEqual(rule?.expect, { dev: st.dev, ino: st.ino });
});

test('--add-exec grants only a program (a regular file with an execute bit), bound to the file found', (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
  const notProgram = join(D, 'data');
  writeFileSync(notProgram, 'secret\n');
  chmodSync(notProgram, 0o644);
  const r = spawnSync(process.execPath, [WARD_BIN, 'run', '--add-exec', '--dry-run', '--', notProgram], { encoding: 'utf8' });
  assert.match(r.stderr, /--add-exec .*data: not a program/, r.stderr);
  assert.equal(r.status, 125);
  const { script } = scriptWithInterp('exec');
  const prepared = prepareSandbox({ 'add-exec': true }, script);
  const st = statSync(script);
  assert.deepEqual((prepared.plan.pathRules.find((x) => x.path === script) as { expect?: unknown } | undefined)?.expect, { dev: st.dev, ino: st.ino });
});
