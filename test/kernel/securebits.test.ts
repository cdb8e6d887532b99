// The exec securebits (Linux 6.14): set, read back, lock, refuse to undo a lock; inherited
// across fork and exec; privileged and not. Changes happen in child processes only: a lock can
// never be undone and would stay on the test runner's thread.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { IS_ROOT, PROBE, probe, requires } from '../helpers/kernel.ts';
import { execveCheckSupported } from '../../src/kernel/exec-check.ts';
import { ward, WARD_BIN } from '../helpers/cli.ts';

// perl's syscall() builtin: prctl (157 on x86_64) PR_GET_SECUREBITS (27) — an independent reader.
const PERL_GET = ['/usr/bin/perl', '-e', 'print syscall(157, 27, 0, 0, 0, 0)'];

interface Steps {
  start: number;
  noop: string;
  setRestrict: string;
  afterSet: number;
  clearUnlocked: string;
  afterClear: number;
  setAndLock: string;
  afterLock: number;
  clearLocked: string;
  clearLock: string;
  clearUnlockedBitWhileOtherLocked: string;
  final: number;
}

for (const unprivileged of [false, true]) {
  test(`set, read back, lock and refuse to undo (${unprivileged ? 'as nobody' : 'as root'})`, (t) => {
    if (!requires(t, execveCheckSupported(), 'exec securebits (Linux 6.14+)')) return;
    if (unprivileged && !requires(t, IS_ROOT, 'root (to switch to nobody)')) return;
    const s = probe<Steps>('securebits', null, { unprivileged });
    assert.equal(s.start, 0);
    // PR_SET_SECUREBITS that changes nothing: fine with CAP_SETPCAP, EPERM without (legacy quirk).
    assert.equal(s.noop, unprivileged ? 'EPERM' : 'ok');
    assert.equal(s.setRestrict, 'ok');
    assert.equal(s.afterSet, 0x100);
    assert.equal(s.clearUnlocked, 'ok');
    assert.equal(s.afterClear, 0);
    assert.equal(s.setAndLock, 'ok');
    assert.equal(s.afterLock, 0x700);
    assert.equal(s.clearLocked, 'EPERM');
    assert.equal(s.clearLock, 'EPERM');
    assert.equal(s.clearUnlockedBitWhileOtherLocked, 'ok');
    assert.equal(s.final, 0x300);
  });
}

test('ward exec sets the bits, and the exec\'d program reads them itself', (t) => {
  if (!requires(t, execveCheckSupported(), 'exec securebits')) return;
  const r = spawnSync(process.execPath, [WARD_BIN, 'exec', '--restrict-file', '--lock', '--', ...PERL_GET], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(Number(r.stdout), 0x300);
  const both = spawnSync(process.execPath, [WARD_BIN, 'exec', '--restrict-file', '--deny-interactive', '--', ...PERL_GET], { encoding: 'utf8' });
  assert.equal(Number(both.stdout), 0x500);
});

test('the bits are inherited across fork and exec (sh forks, then execs perl / ward)', (t) => {
  if (!requires(t, execveCheckSupported(), 'exec securebits')) return;
  const viaShell = spawnSync(process.execPath, [WARD_BIN, 'exec', '--deny-interactive', '--', 'sh', '-c', `${PERL_GET.slice(0, 2).join(' ')} '${PERL_GET[2]}'; echo; "${process.execPath}" "${WARD_BIN}" securebits --json`], { encoding: 'utf8' });
  assert.equal(viaShell.status, 0, viaShell.stderr);
  const [perlLine, jsonLine] = viaShell.stdout.trim().split('\n');
  assert.equal(Number(perlLine), 0x400);
  assert.deepEqual(JSON.parse(jsonLine!), { raw: 0x400, restrictFile: false, restrictFileLocked: false, denyInteractive: true, denyInteractiveLocked: false });
  // Nesting adds bits (OR), and a locked bit stays.
  const nested = spawnSync(process.execPath, [WARD_BIN, 'exec', '--restrict-file', '--lock', '--', process.execPath, WARD_BIN, 'exec', '--deny-interactive', '--', ...PERL_GET], { encoding: 'utf8' });
  assert.equal(Number(nested.stdout), 0x700, nested.stderr);
});

test('ward exec works unprivileged', (t) => {
  if (!requires(t, IS_ROOT, 'root (to switch to nobody)')) return;
  if (!requires(t, execveCheckSupported(), 'exec securebits')) return;
  const r = spawnSync(process.execPath, [PROBE, 'wardExec', JSON.stringify({ argv: ['exec', '--restrict-file', '--', ...PERL_GET] }), 'drop'], { encoding: 'utf8', cwd: '/' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(Number(r.stdout), 0x100);
  const uid = spawnSync(process.execPath, [PROBE, 'wardExec', JSON.stringify({ argv: ['exec', '--deny-interactive', '--', '/usr/bin/id', '-u'] }), 'drop'], { encoding: 'utf8', cwd: '/' });
  assert.equal(uid.stdout.trim(), '65534');
});

test('ward exec: CMD\'s exit status and signals pass through; launch failures have their own codes', (t) => {
  if (!requires(t, execveCheckSupported(), 'exec securebits')) return;
  const exit = ward(['exec', '--restrict-file', '--', 'sh', '-c', 'exit 42']);
  assert.equal(exit.status, 42);
  const signalled = ward(['exec', '--restrict-file', '--', 'sh', '-c', 'kill -TERM $$']);
  assert.equal(signalled.signal, 'SIGTERM');
  // SIGPIPE is back to default in CMD (Node ignores it for itself): `yes` dies of it.
  const sigpipe = spawnSync('/bin/bash', ['-c', `"${process.execPath}" "${WARD_BIN}" exec --restrict-file -- yes | head -n 1 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
  assert.equal(sigpipe.stdout.trim(), String(128 + 13), 'yes was killed by SIGPIPE');
  const notFound = ward(['exec', '--restrict-file', '--', 'no-such-command-ward']);
  assert.equal(notFound.status, 127);
  assert.match(notFound.stderr, /no-such-command-ward: command not found/);
  const notExec = ward(['exec', '--restrict-file', '--', '/etc/passwd']);
  assert.equal(notExec.status, 126);
  assert.match(notExec.stderr, /cannot execute \/etc\/passwd: EACCES/);
  const noBits = ward(['exec', '--', 'true']);
  assert.equal(noBits.status, 2);
  assert.match(noBits.stderr, /say which bits to set/);
  // Options after CMD belong to CMD.
  const passthrough = ward(['exec', '--restrict-file', '--', 'sh', '-c', 'echo "$@"', 'sh', '--restrict-file', '-x']);
  assert.equal(passthrough.stdout, '--restrict-file -x\n');
});

test('ward securebits prints the inherited bits', (t) => {
  if (!requires(t, execveCheckSupported(), 'exec securebits')) return;
  const plain = ward(['securebits']);
  assert.equal(plain.status, 0);
  assert.match(plain.stdout, /^SECBIT_EXEC_RESTRICT_FILE\s+off\nSECBIT_EXEC_DENY_INTERACTIVE\s+off\n/);
  const locked = spawnSync(process.execPath, [WARD_BIN, 'exec', '--restrict-file', '--lock', '--', process.execPath, WARD_BIN, 'securebits'], { encoding: 'utf8' });
  assert.match(locked.stdout, /^SECBIT_EXEC_RESTRICT_FILE\s+on\s+\(locked\)\n/);
});
