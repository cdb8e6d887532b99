// Issue 16 §3: ward run --learn PROFILE.json runs CMD unrestricted but watched (the kernel's
// audit, root), writes the smallest profile that let that run succeed, and the next run with
// --profile confines CMD: the same work succeeds, what the learned run did not do is denied.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { IS_ROOT, PROBE, Scratch, requires } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';
import { landlockAbi } from '../../src/kernel/landlock.ts';
import type { SandboxProfile } from '../../src/sandbox/profile.ts';

const canRun = IS_ROOT && landlockAbi() >= 6;
let s: Scratch;
let D: string;
let IN: string;
let srv: Server | undefined;
let otherSrv: Server | undefined;
let port = 0;
let otherPort = 0;

before(async () => {
  if (!canRun) return;
  s = new Scratch('ward-learn-');
  D = s.dir('work', 0o777);
  IN = s.dir('in', 0o755);
  writeFileSync(join(IN, 'input'), 'input data\n');
  writeFileSync(join(IN, 'other'), 'not read in the learned run\n');
  chmodSync(join(IN, 'other'), 0o644);
  srv = createServer((c) => c.end('HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\npong\n'));
  port = await new Promise<number>((resolve) => srv!.listen(0, '127.0.0.1', () => resolve((srv!.address() as { port: number }).port)));
  // A second listener, which the learned run never connects to: unconfined, curl reaches it, so
  // a failure to connect under the profile is the profile's doing.
  otherSrv = createServer((c) => c.end('HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nother\n'));
  otherPort = await new Promise<number>((resolve) => otherSrv!.listen(0, '127.0.0.1', () => resolve((otherSrv!.address() as { port: number }).port)));
});
after(() => {
  srv?.close();
  otherSrv?.close();
  s?.cleanup();
});

function ward(argv: string[], nobody = false): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const node = nobody ? [PROBE, 'wardExec', JSON.stringify({ argv }), 'drop'] : [WARD_BIN, ...argv];
  const child = spawn(process.execPath, node, { cwd: D });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d));
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

test('a learned profile confines the program, which then still works; what the run did not do stays denied', async (t) => {
  if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
  const profile = join(s.root, 'learned.json');
  const work = `cat ${IN}/input && echo result > ${D}/output && curl -s http://127.0.0.1:${port}/ && python3 -c 'import json; print(json.dumps(1))'`;
  const learned = await ward(['run', '--learn', profile, '--', '/bin/sh', '-c', work]);
  assert.equal(learned.status, 0, learned.stderr);
  assert.equal(learned.stdout, 'input data\npong\n1\n');
  assert.match(learned.stderr, /ward: learned .*learned\.json: \d+ ro, \d+ rox, \d+ rw.*It holds only what this run did/);
  const p = JSON.parse(readFileSync(profile, 'utf8')) as SandboxProfile;
  assert.deepEqual(p['connect-tcp'], [port], `learned ${JSON.stringify(p)}; ${learned.stderr}`);
  assert.ok(p.rw?.includes(D), JSON.stringify(p));
  assert.ok(p.ro?.includes(`${IN}/input`), JSON.stringify(p));
  assert.ok(p.ro?.includes('/usr/lib/python3.11'), 'collapsed to the package directory');
  assert.ok(!p.ro?.includes('/') && !p.rox?.includes('/usr') && !p.ro?.includes(`${IN}/other`) && !p.ro?.includes(IN), JSON.stringify(p));
  assert.equal(p['unrestricted-fs'], undefined);
  // Confined by it: the same work succeeds…
  const confined = await ward(['run', '--profile', profile, '--', '/bin/sh', '-c', work]);
  assert.equal(confined.status, 0, confined.stderr);
  assert.equal(confined.stdout, 'input data\npong\n1\n');
  // …and what the learned run did not do is denied (a file it did not read, a port it did not use).
  const other = await ward(['run', '--profile', profile, '--', '/bin/sh', '-c', `cat ${IN}/other`]);
  assert.notEqual(other.status, 0);
  assert.match(other.stderr, /Permission denied/);
  const fetchOther = ['/bin/sh', '-c', `curl -sS http://127.0.0.1:${otherPort}/`];
  const unconfined = await ward(['run', '--unrestricted-fs', '--unrestricted-net', '--allow-unix-sockets', '--', ...fetchOther]);
  assert.equal(unconfined.stdout, 'other\n', `the other port answers outside the profile: ${unconfined.stderr}`);
  const refused = await ward(['run', '--profile', profile, '--', ...fetchOther]);
  assert.notEqual(refused.status, 0);
  assert.equal(refused.stdout, '');
  // curl's exit 7 is "failed to connect"; Landlock refuses connect() with EACCES.
  assert.equal(refused.status, 7, refused.stderr);
  assert.match(refused.stderr, /Failed to connect|Couldn't connect/, refused.stderr);
});

test('--learn needs root to watch through the audit interface, and says so', async (t) => {
  if (!requires(t, canRun, 'root (to drop to nobody)')) return;
  const r = await ward(['run', '--learn', '/tmp/ward-never-written.json', '--', '/bin/true'], true);
  assert.match(r.stderr, /--learn watches CMD through the kernel's audit, which needs root/);
  assert.match(r.stdout, /\{"code":125\}/);
});
