// Text from files, file names and policies reaches a terminal with its control characters shown
// as \xHH (src/util/terminal.ts): a policy with ESC in its name or a comment, a file name with
// ESC, a line break or a byte that is not UTF-8. Each command that prints such text for a person
// is run on it; no raw control character (but the line breaks between lines, and the tabs that
// align a caret) may reach stdout or stderr, and the text must stay recognisable.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WARD_BIN, ward, type CliResult } from '../helpers/cli.ts';
import { terminalSafe } from '../../src/util/terminal.ts';

const dir = mkdtempSync(join(tmpdir(), 'ward-esc-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const ESC = '\u001b[31m';
/** A file name with an escape sequence and a line break (any byte but NUL and / may be in one). */
const EVIL = `e${ESC}vil\nname`;
const EVIL_SHOWN = 'e\\x1b[31mvil\\x0aname';
/** A byte that is not UTF-8 (shown as U+FFFD, the replacement character). */
const NOT_UTF8 = Buffer.from([0xff]);

/** No control character but line breaks (and tabs where `tabs`); then the output as one string. */
function assertSafe(r: CliResult, what: string, tabs = false): string {
  const out = r.stdout + r.stderr;
  const bad = tabs ? /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/ : /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
  assert.doesNotMatch(out, bad, `${what}: a raw control character: ${JSON.stringify(out)}`);
  return out;
}

const script = (name: string, text = '#!/bin/sh\necho hi\n') => {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o755 });
  return p;
};

test('terminalSafe: controls as \\xHH, the kept ones kept, the rest untouched', () => {
  assert.equal(terminalSafe(`a${ESC}b\n\t\u009b\u007f\u00ffé`), 'a\\x1b[31mb\\x0a\\x09\\x9b\\x7f\u00ffé');
  assert.equal(terminalSafe('a\nb\tc\u001b', '\n\t'), 'a\nb\tc\\x1b');
  // Bidirectional formatting characters reorder what a terminal shows ("Trojan Source"): a name
  // ending in RLO displays "exe.txt" as "txt.exe". Each is shown as \uHHHH; other letters stay.
  assert.equal(terminalSafe('invoice\u202Etxt.exe'), 'invoice\\u202etxt.exe');
  assert.equal(terminalSafe('\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069'), '\\u061c\\u200e\\u200f\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069');
  assert.equal(terminalSafe('\u2065\u2070\u202f\u200d'), '\u2065\u2070\u202f\u200d');
});

test('policy check: a name, a comment and a file name with ESC, a line break and a non-UTF-8 byte', () => {
  const p = join(dir, `${EVIL}.pol`);
  writeFileSync(p, Buffer.concat([Buffer.from(`policy_name=n${ESC}x policy_version=1.0.0\nDEFAULT action=ALLOW # red ${ESC} `), NOT_UTF8, Buffer.from('\n')]));
  const ok = ward(['policy', 'check', p]);
  assert.equal(ok.status, 0, ok.stderr);
  assertSafe(ok, 'valid');
  assert.equal(ok.stdout, `${join(dir, EVIL_SHOWN)}.pol: ok: policy "n\\x1b[31mx" version 1.0.0, 0 rules\n`);

  // The error is on a line with ESC, OSC (ESC ] … BEL) and 0xff in its comment, after a tab.
  writeFileSync(p, Buffer.concat([Buffer.from(`policy_name=n policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE\t${ESC}bogus=1 action=DENY # \u001b]0;title\u0007 `), NOT_UTF8, Buffer.from('\n')]));
  const bad = ward(['policy', 'check', p]);
  assert.equal(bad.status, 1);
  const out = assertSafe(bad, 'invalid', true);
  const [head, line, caret] = out.trimEnd().split('\n');
  assert.equal(head, `${join(dir, EVIL_SHOWN)}.pol:3:12: EBADMSG: unknown property "\\u001b[31mbogus=1"; properties are boot_verified=TRUE|FALSE, dmverity_signature=TRUE|FALSE, fsverity_signature=TRUE|FALSE, dmverity_roothash=ALG:HEX, fsverity_digest=ALG:HEX`);
  assert.equal(line, '  op=EXECUTE\t\\x1b[31mbogus=1 action=DENY # \\x1b]0;title\\x07 \ufffd');
  // The caret stays under the token as shown.
  assert.equal(caret!.indexOf('^'), line!.indexOf('\\x1b[31mbogus'));
  assert.equal(caret!.slice(0, caret!.indexOf('^')).replace(/ /g, ''), '\t');

  // The same report through --json keeps the token as it is (JSON escapes it).
  const j = ward(['policy', 'check', '--json', p]);
  assert.equal((JSON.parse(j.stdout) as { token: string }).token, `${ESC}bogus=1`);
  assert.doesNotMatch(j.stdout, /\u001b/);
});

test('policy fmt --check and a missing policy: the file name is shown escaped', () => {
  const p = join(dir, `fmt-${EVIL}.pol`);
  writeFileSync(p, 'policy_name=m   policy_version=1.0.0\nDEFAULT action=ALLOW\n');
  const r = ward(['policy', 'fmt', '--check', p]);
  assert.equal(r.status, 1);
  assert.match(assertSafe(r, 'fmt --check'), /fmt-e\\x1b\[31mvil\\x0aname\.pol: not in canonical form/);
  const missing = ward(['policy', 'check', join(dir, `gone-${EVIL}.pol`)]);
  assert.equal(missing.status, 2);
  assert.match(assertSafe(missing, 'missing'), /^ward: ENOENT: cannot read .*gone-e\\x1b\[31mvil\\x0aname\.pol: no such file or directory\n$/);
});

test('policy eval: the path decided, a path that cannot be read, a policy that does not parse', () => {
  const policy = join(dir, 'allow.pol');
  writeFileSync(policy, 'policy_name=a policy_version=1.0.0\nDEFAULT action=ALLOW\n');
  const bin = script(`eval-${EVIL}`);
  const r = ward(['policy', 'eval', policy, bin, join(dir, `nope-${EVIL}`)]);
  assert.equal(r.status, 2);
  const out = assertSafe(r, 'eval');
  assert.match(out, /eval-e\\x1b\[31mvil\\x0aname: ALLOW by global default/);
  assert.match(out, /^ward: .*nope-e\\x1b\[31mvil\\x0aname: cannot read: ENOENT$/m);
  const bad = join(dir, 'bad-eval.pol');
  writeFileSync(bad, Buffer.concat([Buffer.from(`policy_name=a policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE ${ESC}x=1 action=DENY # `), NOT_UTF8, Buffer.from('\n')]));
  const p = ward(['policy', 'eval', bad, bin]);
  assert.equal(p.status, 2);
  assert.match(assertSafe(p, 'eval parse error', true), /:3:12: EBADMSG: unknown property "\\u001b\[31mx=1"[^\n]*\n {2}op=EXECUTE \\x1b\[31mx=1 action=DENY # \ufffd\n/);
});

test('digest: a file name with ESC and a line break; one with a byte that is not UTF-8', () => {
  const f = script(`digest-${EVIL}`);
  const r = ward(['digest', f]);
  assert.equal(r.status, 0, r.stderr);
  assertSafe(r, 'digest');
  assert.match(r.stdout, /^sha256:[0-9a-f]{64} .*digest-e\\x1b\[31mvil\\x0aname\n$/);
  // Node decodes its arguments as UTF-8, so a name with the byte 0xff reaches ward as U+FFFD and
  // cannot be opened: the failure still names it recognisably. (The shell passes the raw byte.)
  const raw = spawnSync('/bin/sh', ['-c', `exec "$0" "$1" digest "$2$(printf '\\377')"`, process.execPath, WARD_BIN, join(dir, `raw-${EVIL}`)], { encoding: 'utf8' });
  const rr = { status: raw.status, signal: raw.signal, stdout: raw.stdout, stderr: raw.stderr };
  assert.equal(rr.status, 1);
  assert.match(assertSafe(rr, 'digest 0xff'), /^ward: .*raw-e\\x1b\[31mvil\\x0aname\ufffd: ENOENT: no such file or directory\n$/);
});

test('check (AT_EXECVE_CHECK): the path and the reason shown escaped', () => {
  const f = script(`check-${EVIL}`);
  chmodSync(f, 0o644);
  const r = ward(['check', '--mechanism', 'emulated', f]);
  assert.equal(r.status, 1);
  assert.match(assertSafe(r, 'check'), /check-e\\x1b\[31mvil\\x0aname: not trusted: EACCES: /);
});

test('policy generate and trust check: skipped, changed, vanished and uncovered files, a directory and an output with ESC', () => {
  const app = join(dir, `app${ESC}`);
  mkdirSync(app);
  for (const name of [`run${ESC}`, `gone${ESC}`, 'plain']) writeFileSync(join(app, name), `#!/bin/sh\necho ${name}\n`, { mode: 0o755 });
  writeFileSync(join(app, EVIL), '#!/bin/sh\n', { mode: 0o755 }); // a line break: left out
  // A name that is not UTF-8, of a file and of a directory: left out too, and recognisable.
  const odd = Buffer.concat([Buffer.from(`${app}/bad`), NOT_UTF8, Buffer.from(ESC)]);
  writeFileSync(odd, '#!/bin/sh\necho odd\n', { mode: 0o755 });
  mkdirSync(Buffer.concat([Buffer.from(`${app}/dir`), NOT_UTF8]));
  writeFileSync(Buffer.concat([Buffer.from(`${app}/dir`), NOT_UTF8, Buffer.from('/inner')]), '#!/bin/sh\necho inner\n', { mode: 0o755 });
  const out = join(dir, `out${ESC}.pol`);
  const g = ward(['policy', 'generate', '--from-dir', app, '-o', out]);
  assert.equal(g.status, 1, g.stderr);
  const gs = assertSafe(g, 'generate');
  assert.match(gs, /^ward: skipped .*app\\x1b\[31m\/e\\x1b\[31mvil\\x0aname: unsafe-path: the path holds a line break$/m);
  assert.match(gs, /^ward: skipped .*app\\x1b\[31m\/bad\ufffd\\x1b\[31m: unsafe-path: the name is not UTF-8 \(shown with U\+FFFD\)$/m);
  assert.match(gs, /^ward: skipped .*app\\x1b\[31m\/dir\ufffd\/inner: unsafe-path: the name is not UTF-8 \(shown with U\+FFFD\)$/m);
  assert.match(gs, /^ward: 3 files from .*app\\x1b\[31m → 3 rules in .*out\\x1b\[31m\.pol \([^)]*\); 3 skipped$/m);
  assert.ok(readFileSync(out, 'latin1').includes(`# ${app}/run${ESC}\n`), 'the policy itself names the file as it is');

  writeFileSync(join(app, `run${ESC}`), '#!/bin/sh\necho changed\n');
  unlinkSync(join(app, `gone${ESC}`));
  // A policy comment naming a file with a byte that is not UTF-8 (the file is not there).
  const text = readFileSync(out);
  const rule = 'op=EXECUTE fsverity_digest=sha256:' + '0'.repeat(64) + ' action=ALLOW\n';
  writeFileSync(out, Buffer.concat([text, Buffer.from(`\n# ${app}/odd`), NOT_UTF8, Buffer.from(`${ESC}\n${rule}`)]));
  const c = ward(['trust', 'check', out]);
  assert.equal(c.status, 1, c.stderr);
  const cs = assertSafe(c, 'trust check');
  assert.match(cs, /^changed: .*app\\x1b\[31m\/run\\x1b\[31m: policy has sha256:[0-9a-f]{64}, file is sha256:[0-9a-f]{64}$/m);
  assert.match(cs, /^vanished: .*app\\x1b\[31m\/gone\\x1b\[31m$/m);
  assert.match(cs, /^vanished: .*app\\x1b\[31m\/odd\ufffd\\x1b\[31m$/m);
  assert.match(cs, /^uncovered: .*app\\x1b\[31m\/e\\x1b\[31mvil\\x0aname: installed code the policy does not allow$/m);
  assert.match(cs, /^uncovered: .*app\\x1b\[31m\/bad\ufffd\\x1b\[31m: installed code the policy does not allow$/m);
  assert.match(cs, /^uncovered: .*app\\x1b\[31m\/dir\ufffd\/inner: installed code the policy does not allow$/m);
  assert.match(cs, /^.*out\\x1b\[31m\.pol: \d+ files checked: 1 changed, 2 vanished/m);
});

test('node trust: the directory shown escaped', () => {
  const d = join(dir, `node-${EVIL}`);
  mkdirSync(d);
  writeFileSync(join(d, 'a.js'), '1\n');
  const r = ward(['node', 'trust', '--dry-run', d]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(assertSafe(r, 'node trust'), /node-e\\x1b\[31mvil\\x0aname: 1 files, 1 that Node loads as code: would set/);
});

test("commander's usage errors quote the argument escaped (line breaks kept: its messages can have several lines)", () => {
  const r = ward(['policy', 'check', `--${EVIL}`, 'x']);
  assert.equal(r.status, 2);
  assert.match(assertSafe(r, 'unknown option'), /unknown option '--e\\x1b\[31mvil\nname'/);
});

// The daemon's answers, from a stand-in on a socket of this test (the CLI's side of `policy show`,
// `policy list`, `--active` is what is tested); ward runs asynchronously so this process can answer.
async function fakeDaemon(answers: Record<string, unknown>): Promise<{ socket: string; close: () => Promise<void> }> {
  const socket = join(dir, `d${Math.random().toString(36).slice(2)}.sock`);
  const server = createServer((c) => {
    let line = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      line += d;
      const end = line.indexOf('\n');
      if (end < 0) return;
      const { verb } = JSON.parse(line.slice(0, end)) as { verb: string };
      c.end(JSON.stringify(answers[verb] ?? { ok: false, errno: 'EINVAL', message: `no ${verb}` }) + '\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return { socket, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/**
 * ward as a child, without blocking this process. `tty`: under script(1), with stdout on a
 * pseudo-terminal (script takes one shell command: the arguments go through the environment).
 */
async function wardAsync(args: string[], tty = false): Promise<{ status: number | null; stdout: Buffer; stderr: Buffer }> {
  const env = { ...process.env, SHELL: '/bin/sh', WARD_NODE: process.execPath, WARD_BIN, ...Object.fromEntries(args.map((a, i) => [`WARD_ARG${i}`, a])) };
  const shell = `"$WARD_NODE" "$WARD_BIN" ${args.map((_, i) => `"$WARD_ARG${i}"`).join(' ')}`;
  const child = tty ? spawn('script', ['-qec', shell, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'] }) : spawn(process.execPath, [WARD_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { status, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
}

const text = (r: { status: number | null; stdout: Buffer; stderr: Buffer }): CliResult => ({ status: r.status, signal: null, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') });

// A policy with ESC and OSC in a comment, a non-ASCII letter and a byte that is not UTF-8.
const SHOWN = Buffer.concat([Buffer.from(`policy_name=shown policy_version=1.0.0\nDEFAULT action=ALLOW # ${ESC}red \u001b]0;title\u0007 é `), NOT_UTF8, Buffer.from('\n')]);

test('policy show: the bytes as given into a pipe; on a terminal, control characters escaped', async () => {
  const d = await fakeDaemon({ show: { ok: true, name: 'shown', text: SHOWN.toString('base64') } });
  try {
    const pipe = await wardAsync(['policy', 'show', 'shown', '--socket', d.socket]);
    assert.equal(pipe.status, 0, pipe.stderr.toString());
    assert.deepEqual(pipe.stdout, SHOWN, 'byte for byte');
    const tty = text(await wardAsync(['policy', 'show', 'shown', '--socket', d.socket], true));
    assert.equal(tty.status, 0, tty.stdout);
    // script(1) turns the terminal's line ends into \r\n.
    const out = assertSafe({ ...tty, stdout: tty.stdout.replace(/\r\n/g, '\n') }, 'show on a terminal');
    assert.ok(out.includes('DEFAULT action=ALLOW # \\x1b[31mred \\x1b]0;title\\x07 é \ufffd\n'), out);
  } finally {
    await d.close();
  }
});

test('policy fmt on a terminal: comments with control characters escaped; into a pipe as formatted', async () => {
  const p = join(dir, 'fmt-tty.pol');
  writeFileSync(p, SHOWN);
  const pipe = await wardAsync(['policy', 'fmt', p]);
  assert.equal(pipe.status, 0, pipe.stderr.toString());
  assert.deepEqual(pipe.stdout, SHOWN, 'already canonical: the same bytes');
  const tty = text(await wardAsync(['policy', 'fmt', p], true));
  assert.equal(tty.status, 0, tty.stdout);
  const out = assertSafe({ ...tty, stdout: tty.stdout.replace(/\r\n/g, '\n') }, 'fmt on a terminal');
  assert.ok(out.includes('# \\x1b[31mred \\x1b]0;title\\x07 é \ufffd\n'), out);
});

test('policy generate to a terminal: the file names in its comments escaped; into a pipe as generated', async () => {
  const app = join(dir, 'gen-tty');
  mkdirSync(app);
  writeFileSync(join(app, `run${ESC}`), '#!/bin/sh\n', { mode: 0o755 });
  const pipe = await wardAsync(['policy', 'generate', '--from-dir', app]);
  assert.equal(pipe.status, 0, pipe.stderr.toString());
  assert.ok(pipe.stdout.toString().includes(`# ${app}/run${ESC}\n`), 'the policy names the file as it is');
  const tty = text(await wardAsync(['policy', 'generate', '--from-dir', app], true));
  assert.equal(tty.status, 0, tty.stdout);
  // script(1) puts stderr on the terminal too: ward's own progress line (\r, ESC [K) is taken out.
  const out = assertSafe({ ...tty, stdout: tty.stdout.replace(/\r\n/g, '\n').replace(/\r\u001b\[K/g, '') }, 'generate on a terminal');
  assert.ok(out.includes(`# ${app}/run\\x1b[31m\n`), out);
});

test('the daemon\'s answers: policy names in list and status, an active policy that does not parse', async () => {
  const evilName = `x${ESC}y`;
  const bad = Buffer.from(`policy_name=${evilName} policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE ${ESC}q=1 action=DENY # ${ESC}\n`);
  const d = await fakeDaemon({
    list: { ok: true, policies: [{ name: evilName, version: '1.0.0', active: true, rules: 1 }] },
    status: { ok: true, pid: 1, enforce: true, backend: 'fanotify', mounts: [`/m${ESC}`], active: { name: evilName, version: '1.0.0' }, gaps: [`gap${ESC}`] },
    show: { ok: true, name: evilName, text: bad.toString('base64') },
  });
  try {
    const list = text(await wardAsync(['policy', 'list', '--socket', d.socket]));
    assert.equal(list.status, 0, list.stderr);
    assert.equal(assertSafe(list, 'list'), '* x\\x1b[31my 1.0.0 (1 rules) active\n');
    const status = text(await wardAsync(['daemon-status', '--socket', d.socket]));
    assert.equal(status.status, 0, status.stderr);
    const s = assertSafe(status, 'daemon-status');
    assert.match(s, /active policy: x\\x1b\[31my 1\.0\.0/);
    assert.match(s, /\/m\\x1b\[31m/);
    assert.match(s, /limit: gap\\x1b\[31m/);
    const f = script('active-eval');
    for (const args of [['policy', 'eval', '--active', '--socket', d.socket, f], ['trust', 'check', '--active', '--socket', d.socket]]) {
      const r = text(await wardAsync(args));
      assert.equal(r.status, 1, r.stderr);
      assert.match(assertSafe(r, args.join(' '), true), /^active policy "x\\x1b\[31my":3:12: EBADMSG: [^\n]*\n {2}op=EXECUTE \\x1b\[31mq=1 action=DENY # \\x1b\[31m\n/);
      const j = text(await wardAsync([...args, '--json']));
      assert.equal(j.status, 1);
      assert.deepEqual(Object.keys(JSON.parse(j.stdout) as object), ['ok', 'errno', 'message', 'line', 'column', 'token']);
    }
  } finally {
    await d.close();
  }
});
