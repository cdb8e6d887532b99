// Backend selection on this host, against an independent loader (bpftool loads the same probe
// program; whether the kernel refuses it decides what ward must say), and the selection rules.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { WardError } from '../../src/errors.ts';
import { probeBpfLsm, type LsmProbe } from '../../src/kernel/bpf.ts';
import { parseBackendChoice, parseFailureMode, selectBackend } from '../../src/enforcer/select-backend.ts';
import { ward } from '../helpers/cli.ts';
import { IS_ROOT, requires } from '../helpers/kernel.ts';

const PROBE = fileURLToPath(new URL('../../bpf/probe.bpf.o', import.meta.url));
const refuses: LsmProbe = { accepts: false, listed: true, errno: 'EPERM', log: [] };
const accepts: LsmProbe = { accepts: true, listed: true, log: [] };

test('this kernel: ward\'s probe agrees with bpftool loading the same LSM program', (t) => {
  if (!requires(t, IS_ROOT, 'root')) return;
  if (!requires(t, spawnSync('sh', ['-c', 'command -v bpftool']).status === 0, 'bpftool')) return;
  if (!requires(t, existsSync('/sys/fs/bpf'), 'bpffs on /sys/fs/bpf')) return;
  const pin = `/sys/fs/bpf/ward-probe-test-${process.pid}`;
  const b = spawnSync('bpftool', ['prog', 'load', PROBE, pin], { encoding: 'utf8' });
  rmSync(pin, { force: true });
  const p = probeBpfLsm();
  assert.equal(p.accepts, b.status === 0, `bpftool: ${b.stderr}`);
  const s = ward(['status', '--json']);
  const item = (JSON.parse(s.stdout) as { items: { name: string; value: unknown; usable: unknown; meaning: string }[] }).items.find((i) => i.name === 'BPF LSM')!;
  assert.equal(item.usable, p.accepts);
  if (!p.accepts && p.errno === 'EPERM' && p.listed) {
    assert.equal(item.value, 'listed, refuses programs');
    assert.match(item.meaning, /falls back to fanotify/);
    const auto = selectBackend('auto', 'open');
    assert.equal(auto.backend, 'fanotify');
    assert.match(auto.reason, /refuses LSM programs/);
  }
});

test('selection rules: auto falls back with its reason; bpf and closed refuse rather than downgrade', () => {
  assert.equal(selectBackend('auto', 'open', () => accepts).backend, 'bpf');
  assert.equal(selectBackend('auto', 'closed', () => accepts).failureMode, 'closed');
  const fb = selectBackend('auto', 'open', () => refuses);
  assert.equal(fb.backend, 'fanotify');
  assert.match(fb.reason, /^fanotify \(auto\): /);
  assert.throws(() => selectBackend('bpf', 'open', () => refuses), (e: unknown) => e instanceof WardError && /cannot run here/.test(e.message));
  assert.throws(() => selectBackend('auto', 'closed', () => refuses), (e: unknown) => e instanceof WardError && /failure-mode open/.test(e.message));
  assert.throws(() => selectBackend('fanotify', 'closed', () => accepts), /needs the BPF LSM/);
  assert.equal(selectBackend('fanotify', 'open', () => { throw new Error('must not probe'); }).backend, 'fanotify');
  assert.equal(selectBackend('auto', 'open', () => ({ ...refuses, listed: false })).reason, 'fanotify (auto): "bpf" is not in the active LSM list (boot with lsm=…,bpf)');
  assert.throws(() => parseBackendChoice('ebpf'), /auto, ipe, bpf or fanotify, not "ebpf"/);
  // The kernel's IPE: chosen when asked for (always fail-closed: IPE cannot deactivate a
  // policy), refused where securityfs has no ipe/, preferred by auto only with a signing key.
  const ipeHere = () => ({ present: true, signing: true });
  assert.throws(() => selectBackend('ipe', 'open', () => accepts, () => ({ present: false, signing: true })), (e: unknown) => e instanceof WardError && e.code === 'ENOENT' && /\/sys\/kernel\/security\/ipe/.test(e.message));
  const ipe = selectBackend('ipe', 'open', () => refuses, () => ({ present: true, signing: false }));
  assert.deepEqual([ipe.backend, ipe.failureMode], ['ipe', 'closed']);
  assert.match(ipe.reason, /pre-signed policies only/);
  assert.equal(selectBackend('auto', 'open', () => accepts, ipeHere).backend, 'ipe');
  assert.equal(selectBackend('auto', 'open', () => accepts, () => ({ present: true, signing: false })).backend, 'bpf');
  assert.equal(selectBackend('fanotify', 'open', () => accepts, ipeHere).backend, 'fanotify');
  assert.throws(() => parseFailureMode('closed-ish'), /open or closed/);
});
