// A slice of Node's own tests — module loading, require, ES modules, workers (tests.txt) — run
// under plain node, under `ward node`, and under `ward exec --restrict-file --deny-interactive --
// ward node` after `ward node trust` on the tree (./source.ts says where the tests come from, ./run.ts
// how each runs). Asserted:
//   - without enforcement, every test plain node passes passes under ward node, except the
//     limits listed in expected.ts (UNENFORCED), which must fail as described;
//   - with enforcement, every failure is a listed refusal (ENFORCED) failing as its class says,
//     and every listed refusal still fails that way.
// A test that fails where it should not is run once more on its own before it counts (the
// machine is shared; Node's tests have timing-dependent cases): a pass then is reported, not
// hidden. Each run's failures are written to /var/cache/ward-node-suite/<mode>.json for re-recording.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, requires } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';
import { execveCheckSupported } from '../../src/kernel/exec-check.ts';
import { ENFORCED, LIMITS, REFUSALS, UNENFORCED, type Entry, type FailureClass } from './expected.ts';
import { passed, runAll, runOne, type Mode, type Outcome } from './run.ts';
import { NODE_VERSION, SOURCE_DIR, nodeSource } from './source.ts';

const TESTS = readFileSync(new URL('./tests.txt', import.meta.url), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
const CLASSES: Record<string, FailureClass> = { ...REFUSALS, ...LIMITS };
const ok = () => IS_ROOT && execveCheckSupported();
type List = Record<string, Entry<string>>;
const nameOf = (e: Entry<string> | undefined) => (typeof e === 'string' ? e : e?.[0]);
/** A listed failure is as expected when the output shows the class's refusal (or the entry's own sign of it). */
const asListed = (e: Entry<string>, out: string) => (typeof e === 'string' ? CLASSES[e]!.match : e[1]).test(out);

let root = '';
let setupError: string | undefined;
const results: Partial<Record<Mode, Map<string, Outcome>>> = {};

before(() => {
  if (!ok()) return;
  try {
    root = nodeSource();
    // What a project does to run under RESTRICT_FILE: the x bit on the tree's code, nothing else.
    execFileSync(process.execPath, [WARD_BIN, 'node', 'trust', root], { stdio: 'pipe' });
  } catch (e) {
    setupError = `obtaining Node's ${NODE_VERSION} tests (Debian's nodejs source package) failed: ${(e as Error).message}`;
  }
});

const tail = (o: Outcome, n = 1500) => `status ${o.status}${o.signal ? ` signal ${o.signal}` : ''}:\n${o.out.slice(-n)}`;

/** Runs the whole slice in one mode; `wrong` says which outcomes get one more try, alone. */
async function run(mode: Mode, wrong: (test: string, o: Outcome) => boolean, log: (s: string) => void): Promise<Map<string, Outcome>> {
  const started = Date.now();
  const r = await runAll(root, TESTS, mode, 2);
  for (const [t, o] of r) {
    if (!wrong(t, o)) continue;
    const again = await runOne(root, t, mode, 0);
    if (!wrong(t, again)) log(`${mode}: ${t} gave a different result on a second run (${o.status}/${o.signal} then ${again.status}/${again.signal}): taking the second`);
    r.set(t, again);
  }
  results[mode] = r;
  const failed = Object.fromEntries([...r].filter(([, o]) => !passed(o)).map(([t, o]) => [t, { status: o.status, signal: o.signal, out: o.out }]));
  writeFileSync(join(SOURCE_DIR, '..', `${mode}.json`), JSON.stringify(failed, null, 1));
  const pass = [...r.values()].filter(passed).length;
  log(`${mode}: ${pass} of ${TESTS.length} pass, ${TESTS.length - pass} fail (${((Date.now() - started) / 1000).toFixed(0)} s, load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]})`);
  return r;
}

/** Checks one mode against its list: unlisted failures, and listed ones that pass or fail otherwise. */
function judge(mode: Mode, list: List, plain: Map<string, Outcome>, got: Map<string, Outcome>): string[] {
  const problems: string[] = [];
  for (const t of TESTS) {
    if (!passed(plain.get(t)!)) continue;
    const o = got.get(t)!;
    const entry = list[t];
    const name = nameOf(entry);
    if (passed(o)) {
      if (name) problems.push(`${t}: listed as failing (${name}: ${CLASSES[name]!.reason}) but passes under ${mode}: remove it from expected.ts`);
    } else if (!entry || !name) {
      problems.push(`${t}: passes on plain node, fails under ${mode} and is not a listed refusal — ${tail(o)}`);
    } else if (!asListed(entry, o.out)) {
      problems.push(`${t}: listed as ${name} (${CLASSES[name]!.reason}) but fails differently — ${tail(o)}`);
    }
  }
  return problems;
}

const shouldFail = (list: List) => (t: string, o: Outcome) => {
  const entry = list[t];
  if (!entry) return !passed(o);
  return passed(o) || !asListed(entry, o.out);
};

test(`Node's ${NODE_VERSION} module-loading and worker tests (${TESTS.length}) under plain node`, async (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  assert.equal(setupError, undefined, setupError);
  const r = await run('plain', (_, o) => !passed(o), (s) => t.diagnostic(s));
  const failing = TESTS.filter((x) => !passed(r.get(x)!));
  // The slice was chosen from tests plain node passes: a few may fail here (timing, environment),
  // and are then left out of the comparisons below; many mean the harness is broken.
  for (const x of failing) t.diagnostic(`plain node fails ${x} (left out of the comparison): ${tail(r.get(x)!, 300)}`);
  assert.ok(failing.length <= TESTS.length * 0.03, `plain node fails ${failing.length} of ${TESTS.length}:\n${failing.join('\n')}`);
});

test('without enforcement, ward node passes every test plain node passes (except the listed limits)', async (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  assert.equal(setupError, undefined, setupError);
  assert.ok(results.plain, 'the plain node run did not complete');
  const r = await run('ward', shouldFail(UNENFORCED), (s) => t.diagnostic(s));
  const problems = judge('ward', UNENFORCED, results.plain, r);
  assert.equal(problems.length, 0, problems.join('\n\n'));
});

test('with RESTRICT_FILE + DENY_INTERACTIVE after ward node trust, every failure is a documented refusal', async (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  assert.equal(setupError, undefined, setupError);
  assert.ok(results.plain, 'the plain node run did not complete');
  const r = await run('enforced', shouldFail(ENFORCED), (s) => t.diagnostic(s));
  const problems = judge('enforced', ENFORCED, results.plain, r);
  const byClass = new Map<string, number>();
  for (const x of TESTS) {
    const name = nameOf(ENFORCED[x]);
    if (name && !passed(r.get(x)!)) byClass.set(name, (byClass.get(name) ?? 0) + 1);
  }
  t.diagnostic(`refusals by class: ${[...byClass].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  assert.equal(problems.length, 0, problems.join('\n\n'));
});
