// --json on failure: every command that takes --json reports a failure (bad input, a missing or
// unreadable file, a daemon that is not there, commander's own usage errors) as one JSON object
// on stdout, {"ok":false,"errno":…,"message":…} plus path (and line, column, token for a policy
// that does not parse), with nothing on stderr and the exit status it has without --json.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.ts';
import { ward, type CliResult } from '../helpers/cli.ts';
import { IS_ROOT, NOBODY, NOGROUP, requires } from '../helpers/kernel.ts';

const dir = mkdtempSync(join(tmpdir(), 'ward-json-'));
chmodSync(dir, 0o755); // nobody traverses it (and is refused the files below)
test.after(() => rmSync(dir, { recursive: true, force: true }));
// A missing file whose name carries ESC: JSON escapes it, nothing raw reaches the terminal.
const MISSING = join(dir, 'no\u001b[31msuch.pol');
const NOSOCK = join(dir, 'no.sock');
const BAD = join(dir, 'bad.pol');
writeFileSync(BAD, 'policy_name=b policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE bogus=1 action=DENY\n');
const TREE = join(dir, 'tree');
mkdirSync(TREE);

interface Expect {
  errno: string;
  status: number;
  path?: string;
  extra?: Record<string, unknown>;
  /** The failure is --json's own (generate's summary needs -o): no text form to compare. */
  jsonOnly?: boolean;
}

/** One failing invocation per command that takes --json (keyed by the command's words). */
const CASES: Record<string, Array<[string[], Expect]>> = {
  'policy check': [
    [['policy', 'check', '--json', MISSING], { errno: 'ENOENT', status: 2, path: MISSING }],
    [['policy', 'check', '--json', dir], { errno: 'EISDIR', status: 2, path: dir }],
    [['policy', 'check', '--json'], { errno: 'EINVAL', status: 2 }],
  ],
  'policy eval': [
    [['policy', 'eval', '--json', MISSING, '/bin/true'], { errno: 'ENOENT', status: 2, path: MISSING }],
    [['policy', 'eval', '--json', BAD, '/bin/true'], { errno: 'EBADMSG', status: 2, path: BAD, extra: { line: 3, column: 12, token: 'bogus=1' } }],
    [['policy', 'eval', '--json', '--op', 'NOPE', BAD], { errno: 'EINVAL', status: 2 }],
  ],
  'policy generate': [
    [['policy', 'generate', '--json', '--from-dir', join(dir, 'nodir'), '-o', join(dir, 'out.pol')], { errno: 'ENOENT', status: 2 }],
    [['policy', 'generate', '--json', '--from-dir', TREE, '--version-after', dir, '-o', join(dir, 'out.pol')], { errno: 'EISDIR', status: 2, path: dir }],
    [['policy', 'generate', '--json', '--from-dir', TREE, '--version-after', BAD, '-o', join(dir, 'out.pol')], { errno: 'EBADMSG', status: 2, path: BAD, extra: { line: 3 } }],
    [['policy', 'generate', '--json', '--from-dir', TREE], { errno: 'EINVAL', status: 2, jsonOnly: true }],
  ],
  'policy load': [[['policy', 'load', '--json', MISSING], { errno: 'ENOENT', status: 2, path: MISSING }]],
  'policy list': [[['policy', 'list', '--json', '--socket', NOSOCK], { errno: 'ENOENT', status: 1 }]],
  'policy show': [[['policy', 'show', 'x', '--json', '--socket', NOSOCK], { errno: 'ENOENT', status: 1 }]],
  'policy activate': [[['policy', 'activate', 'x', '--json', '--socket', NOSOCK], { errno: 'ENOENT', status: 1 }]],
  'policy update': [[['policy', 'update', 'x', MISSING, '--json', '--socket', NOSOCK], { errno: 'ENOENT', status: 2, path: MISSING }]],
  'policy delete': [[['policy', 'delete', 'x', '--json', '--socket', NOSOCK], { errno: 'ENOENT', status: 1 }]],
  enforce: [
    [['enforce', 'maybe', '--json', '--socket', NOSOCK], { errno: 'EINVAL', status: 2 }],
    [['enforce', 'on', '--json', '--socket', NOSOCK], { errno: 'ENOENT', status: 1 }],
  ],
  'audit-success': [[['audit-success', 'on', '--json', '--socket', NOSOCK], { errno: 'ENOENT', status: 1 }]],
  'daemon-status': [[['daemon-status', '--json', '--socket', NOSOCK], { errno: 'ENOENT', status: 1 }]],
  check: [[['check', '--json', '--mechanism', 'magic', '/bin/true'], { errno: 'EINVAL', status: 2 }]],
  securebits: [[['securebits', '--json', 'extra'], { errno: 'EINVAL', status: 2 }]],
  'trust check': [
    [['trust', 'check', '--json', MISSING], { errno: 'ENOENT', status: 2, path: MISSING }],
    [['trust', 'check', '--json', BAD], { errno: 'EBADMSG', status: 1, path: BAD, extra: { line: 3, column: 12, token: 'bogus=1' } }],
    [['trust', 'check', '--json', '--active', '--socket', NOSOCK], { errno: 'ENOENT', status: 1 }],
  ],
  digest: [[['digest', '--json', '--hash-alg', 'md5', '/bin/true'], { errno: 'EINVAL', status: 2 }]],
  status: [[['status', '--json', '--frobnicate'], { errno: 'EINVAL', status: 2 }]],
  daemon: [[['daemon', '--check-config', '--json', '--config', MISSING], { errno: 'ENOENT', status: 2 }]],
  'audit tail': [[['audit', 'tail', '--json', '--log', MISSING], { errno: 'ENOENT', status: 1 }]],
  'audit show': [
    [['audit', 'show', '--json', '--since', '1h', '--log', MISSING], { errno: 'ENOENT', status: 1 }],
    [['audit', 'show', '--json', '--since', 'yesterday-ish'], { errno: 'EINVAL', status: 2 }],
  ],
  'node trust': [[['node', 'trust', '--json', join(dir, 'nodir')], { errno: 'ENOENT', status: 1 }]],
  'modules autoload': [[['modules', 'autoload', '--json', '--pid', 'x'], { errno: 'EINVAL', status: 2 }]],
};

/** The words of every command that has a --json option, e.g. "policy check". */
function jsonCommands(c: Command, prefix: string[] = []): string[] {
  return c.commands.flatMap((sub) => {
    const words = [...prefix, sub.name()];
    return [...(sub.options.some((o) => o.long === '--json') ? [words.join(' ')] : []), ...jsonCommands(sub, words)];
  });
}

function assertJsonError(r: CliResult, e: Expect, what: string): Record<string, unknown> {
  assert.equal(r.stderr, '', `${what}: nothing on stderr`);
  assert.equal(r.stdout.split('\n').filter(Boolean).length, 1, `${what}: one line: ${r.stdout}`);
  assert.doesNotMatch(r.stdout, /\u001b/, `${what}: no raw ESC`);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(j.ok, false, what);
  assert.equal(j.errno, e.errno, `${what}: ${r.stdout}`);
  assert.equal(typeof j.message, 'string', what);
  assert.ok((j.message as string).length > 0 && !(j.message as string).includes('\n    at '), `${what}: a message, no stack trace`);
  assert.equal(j.path, e.path, `${what}: path`);
  for (const [k, v] of Object.entries(e.extra ?? {})) assert.equal(j[k], v, `${what}: ${k}`);
  assert.equal(r.status, e.status, `${what}: exit status`);
  return j;
}

test('every command with --json has a failure case here', async () => {
  const program = await buildProgram(() => {});
  assert.deepEqual(jsonCommands(program).sort(), Object.keys(CASES).sort());
});

for (const [command, cases] of Object.entries(CASES)) {
  test(`${command} --json: a failure is one JSON object on stdout, with the exit status of the text form`, () => {
    for (const [args, e] of cases) {
      const r = ward(args);
      const j = assertJsonError(r, e, args.join(' '));
      if (e.jsonOnly) continue;
      // Without --json: the same failure in words on stderr, the same exit status.
      const text = ward(args.filter((a) => a !== '--json'));
      assert.equal(text.status, e.status, `${args.join(' ')} without --json`);
      assert.equal(text.stdout, '', `${args.join(' ')} without --json: ${text.stdout}`);
      // Commander's usage errors say "error:" without an errno; ward's own name it.
      assert.ok(text.stderr.includes(e.errno) || text.stderr.startsWith('ward: error: '), `${args.join(' ')} without --json: ${text.stderr}`);
      assert.doesNotMatch(text.stderr, /\u001b/, 'no raw ESC in the text form either');
      // A file that cannot be read is named in the message too (a parse error's message is about the line).
      if (e.path !== undefined && e.extra?.line === undefined) assert.ok((j.message as string).includes(e.path), `the message names the file: ${j.message}`);
    }
  });
}

test('--json as nobody: a file ward may not read is EACCES with its path', (t) => {
  if (!requires(t, IS_ROOT, 'root (to run ward as nobody)')) return;
  const secret = join(dir, 'secret.pol');
  writeFileSync(secret, 'policy_name=s policy_version=1.0.0\nDEFAULT action=ALLOW\n', { mode: 0o600 });
  const closed = join(dir, 'closed');
  mkdirSync(closed, { mode: 0o700 });
  const asNobody = (args: string[]) => ward(args, { uid: NOBODY, gid: NOGROUP, cwd: '/', env: { PATH: '/usr/bin:/bin', HOME: '/' } });
  const cases: Array<[string[], Expect]> = [
    [['policy', 'check', '--json', secret], { errno: 'EACCES', status: 2, path: secret }],
    [['policy', 'eval', '--json', secret, '/bin/true'], { errno: 'EACCES', status: 2, path: secret }],
    [['trust', 'check', '--json', secret], { errno: 'EACCES', status: 2, path: secret }],
    [['policy', 'generate', '--json', '--from-dir', TREE, '--version-after', secret, '-o', join(dir, 'out.pol')], { errno: 'EACCES', status: 2, path: secret }],
    [['policy', 'generate', '--json', '--from-dir', closed, '-o', join(dir, 'out.pol')], { errno: 'EACCES', status: 2 }],
    [['policy', 'generate', '--json', '--from-dir', TREE, '-o', join(closed, 'out.pol')], { errno: 'EACCES', status: 1, path: join(closed, 'out.pol') }],
    [['policy', 'load', '--json', secret], { errno: 'EACCES', status: 2, path: secret }],
    [['daemon', '--check-config', '--json', '--config', secret], { errno: 'EACCES', status: 2 }],
    [['audit', 'tail', '--json', '--log', secret], { errno: 'EACCES', status: 1 }],
  ];
  for (const [args, e] of cases) assertJsonError(asNobody(args), e, `as nobody: ${args.join(' ')}`);
  // digest reports each file in its results (the command itself did not fail).
  const d = asNobody(['digest', '--json', secret]);
  assert.equal(d.status, 1);
  assert.deepEqual(JSON.parse(d.stdout), { results: [{ path: secret, error: 'EACCES: permission denied' }] });
});
