// ward daemon started as `node bin/ward.js daemon` (no launcher, so no --disable-sigusr1): SIGUSR1
// while it starts — here while it reads its configuration, held open on a FIFO so the moment is
// certain — must not open Node's inspector. (The running daemon's own listener is tested in
// operate.test.ts; the launchers' flag in the package tests.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { IS_ROOT, Scratch, requires } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';

test('node bin/ward.js daemon: SIGUSR1 during start-up opens no inspector', async (t) => {
  if (!requires(t, IS_ROOT, 'root (ward daemon --check-config runs as root)')) return;
  const s = new Scratch('ward-usr1-');
  try {
    const fifo = `${s.root}/daemon.json`;
    execFileSync('mkfifo', [fifo]);
    const d = spawn(process.execPath, [WARD_BIN, 'daemon', '--check-config', '--config', fifo], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    d.stderr.on('data', (b: Buffer) => (err += b));
    d.stdout.resume();
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => d.on('exit', (c, sig) => r([c, sig])));
    // Opening the FIFO for writing returns once the daemon has opened it to read its configuration
    // (fifo(7)): it is past Node's start-up and inside ward's code, before any listener of service.ts.
    const w = openSync(fifo, 'w');
    d.kill('SIGUSR1');
    writeSync(w, '{}');
    closeSync(w);
    const [code, signal] = await exited;
    // Node's handler prints "Debugger listening on ws://127.0.0.1:9229/…" when it opens the inspector.
    assert.doesNotMatch(err, /Debugger listening/, err);
    assert.equal(signal, null, `the daemon died of ${signal}: ${err}`);
    assert.equal(code, 0, err);
  } finally {
    s.cleanup();
  }
});
