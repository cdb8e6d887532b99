// src/trust/exec.ts, the library behind `ward exec`: which bits a request sets, and which step
// failed when it could not become the command. Bits are only ever set in child processes (a
// lock could never be undone on the test runner's thread).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execBitsMask, execWithSecurebits } from '../../src/trust/exec.ts';
import { execveCheckSupported } from '../../src/kernel/exec-check.ts';
import { requires } from '../helpers/kernel.ts';

test('execBitsMask: the securebits.h values (Linux 6.14) for each request', () => {
  // include/uapi/linux/securebits.h: SECURE_EXEC_RESTRICT_FILE = 8, SECURE_EXEC_DENY_INTERACTIVE
  // = 10; each bit's _LOCKED is the next one up.
  assert.equal(execBitsMask({}), 0);
  assert.equal(execBitsMask({ lock: true }), 0, '--lock alone sets nothing');
  assert.equal(execBitsMask({ restrictFile: true }), 1 << 8);
  assert.equal(execBitsMask({ denyInteractive: true }), 1 << 10);
  assert.equal(execBitsMask({ restrictFile: true, lock: true }), (1 << 8) | (1 << 9));
  assert.equal(execBitsMask({ restrictFile: true, denyInteractive: true, lock: true }), 0xf00);
});

test('execWithSecurebits: a command not on PATH fails before any bit is set', async () => {
  const r = await execWithSecurebits(['ward-no-such-command-here'], { restrictFile: true, lock: true });
  assert.deepEqual(r, { stage: 'resolve', code: 'ENOENT', command: 'ward-no-such-command-here' });
  await assert.rejects(execWithSecurebits([], { restrictFile: true }), TypeError);
});

test('execWithSecurebits: the bits are set, then a failed execve is reported with its errno', (t) => {
  if (!requires(t, execveCheckSupported(), 'exec securebits (Linux 6.14+)')) return;
  const dir = mkdtempSync(join(tmpdir(), 'ward-exec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const notExecutable = join(dir, 'data');
  writeFileSync(notExecutable, 'not a program\n', { mode: 0o644 });
  const script = `
    import { execWithSecurebits, currentExecBits } from ${JSON.stringify(new URL('../../src/trust/exec.ts', import.meta.url).href)};
    const failure = await execWithSecurebits([${JSON.stringify(notExecutable)}], { denyInteractive: true });
    console.log(JSON.stringify({ failure, bits: currentExecBits() }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { failure: { stage: string; code: string; path: string }; bits: { raw: number; denyInteractive: boolean; restrictFile: boolean } };
  // No execute bit at all: execve(2) says EACCES, even for root (generic_permission).
  assert.deepEqual(out.failure, { stage: 'execve', code: 'EACCES', path: notExecutable });
  assert.equal(out.bits.denyInteractive, true);
  assert.equal(out.bits.restrictFile, false);
  assert.equal(out.bits.raw & 0xf00, 0x400);
});
