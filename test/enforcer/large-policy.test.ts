// A 100,000-rule policy (issue 14): loading it over the control socket, and activating it while
// execs go on. Event threads switch one at a time, so execs are answered during the switch
// (shown by counting execs that completed between the activate request and its answer, which
// comes once every thread has switched — no timing assertions). The times are measured in bench/enforcer.bench.ts.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, requires } from '../helpers/kernel.ts';
import { TestDaemon, exec } from '../helpers/daemon.ts';
import { ward } from '../helpers/cli.ts';
import { request } from '../../src/enforcer/client.ts';

let d: TestDaemon;
let good: string, bad: string;

before(async () => {
  if (!IS_ROOT) return;
  d = new TestDaemon();
  good = d.binary('good');
  bad = d.binary('bad', 'x');
  await d.start({ extraArgs: ['--workers', '2'] });
});
after(async () => d?.cleanup());

test('a 100,000-rule policy loads over the socket and is activated while execs are answered', async (t) => {
  if (!requires(t, IS_ROOT, 'root (fanotify)')) return;
  const goodDigest = ward(['digest', good]).stdout.split(' ')[0]!;
  const lines = ['policy_name=big policy_version=1.0.0', 'DEFAULT action=ALLOW', 'DEFAULT op=EXECUTE action=DENY'];
  for (let i = 0; i < 100_000; i++) lines.push(`op=EXECUTE fsverity_digest=sha256:${randomBytes(32).toString('hex')} action=ALLOW`);
  lines.push(`op=EXECUTE fsverity_digest=${goodDigest} action=ALLOW`);
  const file = join(d.scratch.root, 'big.pol');
  writeFileSync(file, lines.join('\n') + '\n');
  const load = d.ctl(['policy', 'load', file]);
  assert.equal(load.status, 0, load.stderr);
  // An exec loop marks each completed exec; the marks written while activate runs are counted.
  const marks = join(d.scratch.root, 'marks');
  // Its own process group, killed whole: killing only timeout(1) would leave the shell looping
  // (and writing into the scratch directory while it is removed).
  const loop = spawn('timeout', ['-s', 'KILL', '120', '/bin/sh', '-c', `while :; do ${good} && echo x >> ${marks}; done`], { stdio: 'ignore', detached: true });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const count = () => (existsSync(marks) ? readFileSync(marks, 'utf8').length / 2 : 0);
    const before = count();
    // Straight to the socket (no client start-up in the window): the daemon answers once every
    // event thread has switched, so the window spans the whole compile-and-switch.
    const act = await request(d.socket, { verb: 'activate', name: 'big' });
    const during = count() - before;
    assert.equal(act.ok, true);
    assert.ok(during > 0, `execs were answered while the policy was compiled and switched (${during})`);
  } finally {
    process.kill(-loop.pid!, 'SIGKILL');
  }
  assert.equal(exec(good), 0, 'the new policy allows good (its last rule)');
  assert.equal(exec(bad), 'EPERM', 'and decides by it');
  const st = JSON.parse(d.ctl(['daemon-status', '--json']).stdout) as { active: { name: string } };
  assert.equal(st.active.name, 'big');
});
