// The kernel's check-exec-tests.sh matrix with Node as the interpreter: a script run directly
// (shebang), indirectly (ward node script.js), from a regular-file stdin, from a pipe, and as -e
// code; executable and not; under no bits, RESTRICT_FILE, DENY_INTERACTIVE and both (ward exec).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { Scratch, IS_ROOT, requires } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';
import { PRELOAD } from '../../src/node/launch.ts';
import { execveCheckSupported } from '../../src/kernel/exec-check.ts';

let s: Scratch;
const scripts: Record<'x' | 'nox', string> = { x: '', nox: '' };

before(() => {
  if (!IS_ROOT) return;
  s = new Scratch('ward-node-matrix-');
  const dir = s.tmpfs('exec');
  for (const k of ['x', 'nox'] as const) {
    const p = join(dir, `script-${k}.js`);
    writeFileSync(p, `#!/usr/bin/env -S ${process.execPath} --require=${PRELOAD} --disable-sigusr1\nconsole.log('ran');\n`);
    chmodSync(p, k === 'x' ? 0o755 : 0o644);
    scripts[k] = p;
  }
});
after(() => s?.cleanup());

type Bits = 'none' | 'restrict' | 'deny' | 'both';
const BIT_FLAGS: Record<Bits, string[]> = { none: [], restrict: ['--restrict-file'], deny: ['--deny-interactive'], both: ['--restrict-file', '--deny-interactive'] };

/** Runs `sh -c CMD` with the bits set by ward exec; true if the script's code ran. */
function ran(bits: Bits, cmd: string): boolean {
  const argv = bits === 'none' ? ['/bin/sh', '-c', cmd] : [process.execPath, WARD_BIN, 'exec', ...BIT_FLAGS[bits], '--', '/bin/sh', '-c', cmd];
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000 });
  const didRun = r.stdout.includes('ran');
  if (!didRun) assert.ok(r.status !== 0, `a refusal must fail: ${cmd}\n${r.stderr}`);
  return didRun;
}

const ward = `"${process.execPath}" "${WARD_BIN}" node`;
const modes = {
  direct: (f: string) => `"${f}"`,
  indirect: (f: string) => `${ward} "${f}"`,
  'regular-file stdin': (f: string) => `${ward} < "${f}"`,
  pipe: (f: string) => `cat "${f}" | ${ward}`,
  '-e code': (f: string) => `${ward} -e "$(tail -n +2 "${f}")"`,
} as const;

// Expected: does the code run? Following the reference table (exec-check.md).
function expected(mode: keyof typeof modes, x: boolean, bits: Bits): boolean {
  const restrict = bits === 'restrict' || bits === 'both';
  const deny = bits === 'deny' || bits === 'both';
  switch (mode) {
    case 'direct':
      return x; // the kernel's execve needs the x bit whatever the bits
    case 'indirect':
      return x || !restrict;
    case 'regular-file stdin':
      return x || !deny; // a stdin that is a regular file passes only if its fd passes the check
    case 'pipe':
    case '-e code':
      return !deny;
  }
}

for (const bits of ['none', 'restrict', 'deny', 'both'] as const) {
  test(`check-exec matrix with Node under ${bits}`, (t) => {
    if (!requires(t, IS_ROOT && execveCheckSupported(), 'root (tmpfs) and AT_EXECVE_CHECK')) return;
    const got: Record<string, boolean> = {};
    const want: Record<string, boolean> = {};
    for (const [mode, build] of Object.entries(modes) as Array<[keyof typeof modes, (f: string) => string]>) {
      for (const k of ['x', 'nox'] as const) {
        got[`${mode}/${k}`] = ran(bits, build(scripts[k]));
        want[`${mode}/${k}`] = expected(mode, k === 'x', bits);
      }
    }
    assert.deepEqual(got, want);
  });
}

test('refusals say what was refused and why', (t) => {
  if (!requires(t, IS_ROOT && execveCheckSupported(), 'root and AT_EXECVE_CHECK')) return;
  const r = spawnSync(process.execPath, [WARD_BIN, 'exec', '--restrict-file', '--', process.execPath, WARD_BIN, 'node', scripts.nox], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /ERR_WARD_EXEC_DENIED/);
  assert.match(r.stderr, new RegExp(`module ${scripts.nox.replace(/[/.]/g, '\\$&')} may not be executed: EACCES: the file has no execute permission for this user \\(checked with AT_EXECVE_CHECK; SECBIT_EXEC_RESTRICT_FILE is set\\)`));
  const p = spawnSync('/bin/sh', ['-c', `echo "console.log(1)" | "${process.execPath}" "${WARD_BIN}" exec --deny-interactive -- "${process.execPath}" "${WARD_BIN}" node`], { encoding: 'utf8' });
  assert.equal(p.status, 126);
  assert.match(p.stderr, /^ward node: ERR_WARD_CODE_DENIED: code piped on standard input is refused: SECBIT_EXEC_DENY_INTERACTIVE is set/);
  const fd = openSync(scripts.nox, 'r');
  closeSync(fd);
});
