// The control socket's framing: a policy travels either base64 in the JSON line or raw after it
// (what ward's client sends). Both reach the handler as the same bytes, through a real unix
// socket (ControlServer and the client, no daemon); malformed byte counts are refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer } from 'node:net';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlServer } from '../../src/enforcer/control.ts';
import { request } from '../../src/enforcer/client.ts';
import { DaemonPolicyManager } from '../../src/enforcer/policy-manager.ts';
import { attachBody, bodyLength, encodeRequest, policyBytes, type ControlRequest, type ControlResponse } from '../../src/enforcer/protocol.ts';
import { IS_ROOT, requires } from '../helpers/kernel.ts';

test('encodeRequest puts raw bytes after the line; bodyLength and attachBody read them back', () => {
  const text = randomBytes(1000);
  const pkcs7 = randomBytes(10);
  const { line, body } = encodeRequest({ verb: 'update', name: 'p', text, pkcs7 });
  const head = JSON.parse(line) as Record<string, unknown>;
  assert.deepEqual(head, { verb: 'update', name: 'p', textBytes: 1000, pkcs7Bytes: 10 });
  assert.equal(bodyLength(head, 1 << 20), 1010);
  const back = attachBody(head, Buffer.concat(body)) as { text: Uint8Array; pkcs7: Uint8Array };
  assert.deepEqual([Buffer.from(back.text), Buffer.from(back.pkcs7)], [text, pkcs7]);
  // base64 strings stay in the line, as older clients send them.
  assert.deepEqual(encodeRequest({ verb: 'load', text: 'YQ==' }), { line: '{"verb":"load","text":"YQ=="}', body: [] });
  assert.deepEqual(Buffer.from(policyBytes('YQ==')), Buffer.from('a'));
  assert.equal(bodyLength({ verb: 'list' }, 10), 0);
  assert.match(String(bodyLength({ verb: 'load', textBytes: -1 }, 10)), /"textBytes" must be a byte count/);
  assert.match(String(bodyLength({ verb: 'load', textBytes: 1.5 }, 10)), /"textBytes" must be a byte count/);
  assert.match(String(bodyLength({ verb: 'load', pkcs7Bytes: 1 }, 10)), /"pkcs7Bytes" needs "textBytes"/);
  assert.match(String(bodyLength({ verb: 'load', textBytes: 1, text: 'YQ==' }, 10)), /not both/);
  assert.match(String(bodyLength({ verb: 'load', textBytes: 11 }, 10)), /exceed the limit of 10/);
});

test('over a real socket, raw and base64 policies arrive as the same bytes; bad counts are EINVAL', async (t) => {
  // The server identifies its peer with SO_PEERCRED and admits root (or an admin group).
  if (!requires(t, IS_ROOT, 'root (the control socket admits root)')) return;
  const dir = mkdtempSync(join(tmpdir(), 'ward-proto-'));
  const seen: ControlRequest[] = [];
  const server = new ControlServer(join(dir, 'ctl.sock'), undefined, async (req) => {
    seen.push(req);
    return req.verb === 'load' ? { ok: true, sha: Buffer.from(policyBytes(req.text)).toString('hex').slice(0, 16), size: policyBytes(req.text).length } : { ok: true };
  });
  await server.listen();
  try {
    // Larger than a socket read, so the body spans many chunks (and the line's chunk).
    const text = randomBytes(3 * 1024 * 1024 + 7);
    const raw = await request(server.path, { verb: 'load', text });
    const b64 = await request(server.path, { verb: 'load', text: text.toString('base64') });
    assert.deepEqual(raw, { ok: true, sha: text.toString('hex').slice(0, 16), size: text.length });
    assert.deepEqual(b64, raw);
    assert.ok(seen[0]!.verb === 'load' && seen[0]!.text instanceof Uint8Array, 'the raw form reaches the handler as bytes');
    // A count larger than what is sent: no answer until the bytes come; a malformed one: EINVAL at once.
    const bad = await new Promise<string>((resolve) => {
      const c = connect(server.path, () => c.write('{"verb":"load","textBytes":"many"}\n'));
      let out = '';
      c.on('data', (d) => (out += d));
      c.on('end', () => resolve(out));
    });
    assert.deepEqual(JSON.parse(bad), { ok: false, errno: 'EINVAL', message: '"textBytes" must be a byte count (an integer ≥ 0)' });
    assert.equal(seen.length, 2, 'the malformed request never reached the handler');
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('raw framing over a real socket: a frame split byte by byte, an over-limit count, and more bytes than the counts', async (t) => {
  if (!requires(t, IS_ROOT, 'root (the control socket admits root)')) return;
  const dir = mkdtempSync(join(tmpdir(), 'ward-proto-'));
  const seen: string[] = [];
  const server = new ControlServer(join(dir, 'ctl.sock'), undefined, async (req) => {
    if (req.verb === 'load') seen.push(Buffer.from(policyBytes(req.text)).toString());
    return { ok: true };
  });
  await server.listen();
  /** Sends `parts` as separate writes (each after the previous one left), returns the answer. */
  const send = (parts: string[]) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const c = connect(server.path, async () => {
        for (const p of parts) {
          c.write(p);
          await new Promise((r) => setTimeout(r, 2));
        }
      });
      let out = '';
      c.on('data', (d) => (out += d));
      c.on('end', () => (out ? resolve(JSON.parse(out) as Record<string, unknown>) : reject(new Error('no answer'))));
      c.on('error', reject);
    });
  try {
    const whole = '{"verb":"load","textBytes":5,"pkcs7Bytes":0}\nhello';
    assert.deepEqual(await send([...whole]), { ok: true }, 'split byte by byte');
    assert.deepEqual(seen, ['hello']);
    const over = await send(['{"verb":"load","textBytes":67108865}\n']);
    assert.equal(over.errno, 'EINVAL');
    assert.match(String(over.message), /exceed the limit/);
    // Counts that lie short: the text would be cut to its first 5 bytes. Refused.
    const extra = await send(['{"verb":"load","textBytes":5}\nhello, and then a DENY rule']);
    assert.equal(extra.errno, 'EINVAL');
    assert.match(String(extra.message), /more bytes than "textBytes" and "pkcs7Bytes" name/);
    assert.deepEqual(seen, ['hello'], 'the cut request never reached the handler');
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('against a daemon from before the raw form, ward policy load falls back to base64', async () => {
  // The old daemon's framing and check (commit 3ee7169's control.ts/protocol.ts): one JSON line,
  // "text" must be a string; it answers and ends while the client may still be sending.
  const dir = mkdtempSync(join(tmpdir(), 'ward-proto-old-'));
  const lines: Array<Record<string, unknown>> = [];
  const old = createServer((c) => {
    const chunks: Buffer[] = [];
    c.on('data', (chunk: Buffer) => {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) return void chunks.push(chunk);
      chunks.push(chunk.subarray(0, nl));
      c.removeAllListeners('data');
      const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      lines.push(doc);
      const answer = typeof doc.text === 'string' ? { ok: true, size: Buffer.from(doc.text, 'base64').length } : { ok: false, errno: 'EINVAL', message: `"${String(doc.verb)}" needs "text" (string)` };
      c.end(JSON.stringify(answer) + '\n');
    });
    c.on('error', () => c.destroy());
  });
  const path = join(dir, 'old.sock');
  await new Promise<void>((resolve) => old.listen(path, resolve));
  try {
    const text = randomBytes(3 * 1024 * 1024);
    assert.deepEqual(await new DaemonPolicyManager(path).load({ text }), { ok: true, size: text.length });
    assert.deepEqual(await new DaemonPolicyManager(path).update('p', { text: text.subarray(0, 10) }), { ok: true, size: 10 });
    assert.deepEqual(lines.map((l) => [l.verb, 'textBytes' in l ? 'raw' : 'base64']), [['load', 'raw'], ['load', 'base64'], ['update', 'raw'], ['update', 'base64']]);
  } finally {
    await new Promise((r) => old.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a client that sends nothing, or half a request, is disconnected after the idle time; a slow answer is not cut; non-root connections beyond the limit are refused, root is still answered', async (t) => {
  if (!requires(t, IS_ROOT, 'root (the control socket admits root; the holder runs as nobody)')) return;
  const dir = mkdtempSync(join(tmpdir(), 'ward-proto-'));
  chmodSync(dir, 0o755);
  // Answers after longer than the first server's idle time: the client waits for ward, not the other way round.
  const slow = async (): Promise<ControlResponse> => (await new Promise((r) => setTimeout(r, 600)), { ok: true, slow: true });
  const idle = new ControlServer(join(dir, 'idle.sock'), undefined, slow, { idleMs: 150, maxConnections: 64 });
  // No idle limit within the test's time: only the connection limit can close a connection here.
  // An admin group by number (the holder's primary group), so nobody can connect.
  const adminGid = 65533;
  const few = new ControlServer(join(dir, 'few.sock'), String(adminGid), slow, { idleMs: 600_000, maxConnections: 3 });
  await idle.listen();
  await few.listen();
  /** Connects, writes `text`, and resolves with what came back before the server closed it. */
  const session = (path: string, text: string) =>
    new Promise<string>((resolve) => {
      let got = '';
      const c = connect(path, () => void (text && c.write(text)));
      c.on('data', (d: Buffer) => (got += d));
      c.on('error', () => {});
      c.on('close', () => resolve(got));
    });
  // An admin-group client (nobody, gid adminGid) holds three connections, one after the other
  // (accepted in that order), then sends a request on a fourth and prints the answer.
  const holderScript = `const n = require('net'); const p = ${JSON.stringify(few.path)};
    const open = () => new Promise((r) => { const c = n.connect(p, () => r(c)); c.on('error', () => {}); });
    (async () => { for (let i = 0; i < 3; i++) await open();
      const c = n.connect(p, () => c.write('{"verb":"list"}\\n')); let got = ''; c.on('data', (d) => (got += d));
      c.on('error', () => {}); c.on('close', () => process.stdout.write(got + '\\n')); })();`;
  const holder = spawn('setpriv', ['--reuid', '65534', '--regid', String(adminGid), '--clear-groups', process.execPath, '-e', holderScript], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    // Without the idle limit these two would stay open until the test's own timeout.
    assert.equal(await session(idle.path, ''), '', 'silent client closed with no answer');
    assert.equal(await session(idle.path, '{"verb":"li'), '', 'half a request closed with no answer');
    assert.deepEqual(JSON.parse(await session(idle.path, '{"verb":"list"}\n')), { ok: true, slow: true });
    let out = '';
    holder.stdout.on('data', (d: Buffer) => (out += d));
    // The holder prints the answer and stays (its three connections keep its event loop alive).
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', () => out.includes('\n') && resolve());
      holder.on('exit', (code) => reject(new Error(`the holder exited (${code}) before an answer: ${out}`)));
    });
    const refused = JSON.parse(out) as ControlResponse;
    assert.equal(refused.ok, false, out);
    assert.equal((refused as { errno?: string }).errno, 'EAGAIN', out);
    // The holder's three are still open (it has not exited): root is answered all the same.
    assert.equal(holder.exitCode, null);
    assert.deepEqual(JSON.parse(await session(few.path, '{"verb":"list"}\n')), { ok: true, slow: true });
  } finally {
    holder.kill('SIGKILL');
    await idle.close();
    await few.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
