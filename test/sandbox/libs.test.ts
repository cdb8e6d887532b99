// Issue 10 class 2, --add-libs: ward reads #! exactly as the kernel does (compared here with what
// the kernel actually executes), reads the loader's needs from the ELF itself (never a tool's
// text), refuses anything unusual, and never widens a discovered file into a directory rule.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IS_ROOT, NOBODY, PROBE, Scratch, requires } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';
import { landlockAbi } from '../../src/kernel/landlock.ts';
import { parseShebang } from '../../src/sandbox/shebang.ts';
import { readElf } from '../../src/sandbox/elf.ts';
import { negotiate } from '../../src/sandbox/negotiate.ts';
import { resolveRules } from '../../src/sandbox/apply.ts';
import { profileToRequest } from '../../src/sandbox/profile.ts';
import { ACCESS_GROUPS } from '../../src/sandbox/rights.ts';

const abi = landlockAbi();
const canRun = IS_ROOT && abi >= 6;
let s: Scratch;
let D: string;

before(() => {
  if (!IS_ROOT) return;
  s = new Scratch('ward-libs-');
  D = s.dir('d', 0o755);
  // Interpreters that print how the kernel called them: [$0][args…]. One name ends in '\r'.
  for (const name of ['i', 'i\r']) {
    writeFileSync(join(D, name), "#!/bin/sh\nprintf '[%s]' \"$0\" \"$@\"\n");
    chmodSync(join(D, name), 0o755);
  }
});

after(() => s?.cleanup());

test('#! lines are parsed exactly as the kernel executes them (fs/binfmt_script.c)', (t) => {
  if (!requires(t, IS_ROOT, 'root (to make the scratch tree)')) return;
  const long = 'x'.repeat(300);
  const cases: Array<[string, string]> = [
    ['plain', `${D}/i\n`],
    ['DOS line ending: the \\r stays', `${D}/i\r\n`],
    ['blanks around, inner blanks kept in the argument', `  ${D}/i  -x  y \t\n`],
    ['argument ending in \\r', `${D}/i\t-a\r\n`],
    ['NUL ends the name', `${D}/i\0junk\n`],
    ['NUL ends the argument', `${D}/i -a\0b\n`],
    ['no newline in 256 bytes, a blank after the name', `${D}/i ${long}`],
    ['no newline, the name itself truncated', `/${long}`],
    ['only blanks', '   \t\n'],
    ['nothing', '\n'],
  ];
  const seen = { enoexec: 0, script: 0 };
  for (const [name, line] of cases) {
    const script = join(D, 'script');
    writeFileSync(script, `#!${line}\n:\n`);
    chmodSync(script, 0o755);
    // execv(2) itself: execvp (Node's spawn, perl, the shells) would hand an ENOEXEC file to /bin/sh.
    const r = spawnSync('/usr/bin/python3', ['-c', 'import os, sys\ntry: os.execv(sys.argv[1], [sys.argv[1]])\nexcept OSError as e: print("ERRNO", e.errno)', script], { encoding: 'utf8' });
    const parsed = parseShebang(readFileSync(script));
    if (r.stdout === 'ERRNO 8\n') {
      assert.equal(parsed.kind, 'enoexec', `${name}: the kernel refused it`);
      seen.enoexec++;
      continue;
    }
    assert.equal(r.status, 0, `${name}: ${r.error} ${r.stderr}`);
    assert.equal(parsed.kind, 'script', `${name}: the kernel ran it (${r.stdout})`);
    if (parsed.kind !== 'script') continue;
    const expected = `[${Buffer.from(parsed.interpreter).toString('latin1')}]${parsed.arg ? `[${Buffer.from(parsed.arg).toString('latin1')}]` : ''}[${script}]`;
    assert.equal(r.stdout, expected, name);
    seen.script++;
  }
  assert.deepEqual(seen, { enoexec: 3, script: 7 });
});

function wardAs(as: 'root' | 'nobody', argv: string[]): { status: number | null; stderr: string; stdout: string } {
  const node = as === 'root' ? [WARD_BIN, ...argv] : [PROBE, 'wardExec', JSON.stringify({ argv }), 'drop'];
  const r = spawnSync(process.execPath, node, { encoding: 'utf8', timeout: 30_000, cwd: '/' });
  let stdout = String(r.stdout);
  let status = r.status;
  const m = as === 'nobody' ? /\{"code":(\d+)\}\n$/.exec(stdout) : null;
  if (m) [status, stdout] = [Number(m[1]), stdout.slice(0, m.index)];
  return { status, stderr: String(r.stderr), stdout };
}

for (const as of ['root', 'nobody'] as const) {
  test(`[${as}] a #! line ending in \\r is refused, not trimmed into a rule`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    const script = join(D, `dos-${as}`);
    writeFileSync(script, '#!/bin/sh\r\ncat /etc/hostname\r\n');
    chmodSync(script, 0o755);
    const r = wardAs(as, ['run', '--add-libs', '--', script]);
    assert.equal(r.status, 125, r.stderr);
    assert.match(r.stderr, /the #! line names the interpreter "\/bin\/sh\\r": it ends in a carriage return/);
    assert.equal(r.stdout, '');
    // An interpreter that names an open fd of whoever reads it.
    writeFileSync(script, '#!/proc/self/fd/0\n');
    const fd = wardAs(as, ['run', '--add-libs', '--', script]);
    assert.equal(fd.status, 125, fd.stderr);
    assert.match(fd.stderr, /"\/proc\/self\/fd\/0": it lies in \/proc, \/dev or \/sys/);
  });

  test(`[${as}] a DT_NEEDED name with a newline or a '/' is refused (no text output is parsed)`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    const orig = readFileSync('/bin/true');
    const at = orig.indexOf(Buffer.from('libc.so.6\0'));
    assert.ok(at > 0, '/bin/true needs libc.so.6');
    for (const [label, name] of [['newline', 'lib\n/ (0x'], ['path', '/tmp/x.so']] as const) {
      const bin = join(D, `true-${label}-${as}`);
      const patched = Buffer.from(orig);
      patched.write(name, at, 'latin1');
      writeFileSync(bin, patched);
      chmodSync(bin, 0o755);
      // Control: the ELF really names that library.
      const info = readElf(bin);
      assert.ok(info.kind === 'elf' && info.needed.some((n) => Buffer.from(n).toString('latin1') === name), label);
      const r = wardAs(as, ['run', '--add-libs', '--', bin]);
      assert.equal(r.status, 125, `${label}: ${r.stderr}`);
      assert.match(r.stderr, /--add-libs: .*the needed library .* is not a plain file name/);
    }
  });

  test(`[${as}] a program's DT_RUNPATH cannot make ward grant another program in place of a library`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    // A copy of /bin/true that needs "true" and searches /bin for it: DT_NEEDED's string becomes
    // "true\0/bin\0" and its DT_DEBUG entry a DT_RUNPATH pointing at "/bin".
    const b = Buffer.from(readFileSync('/bin/true'));
    const phoff = Number(b.readBigUInt64LE(32));
    let dyn = 0;
    let dynSize = 0;
    for (let i = 0; i < b.readUInt16LE(56); i++) {
      const o = phoff + i * 56;
      if (b.readUInt32LE(o) === 2) [dyn, dynSize] = [Number(b.readBigUInt64LE(o + 8)), Number(b.readBigUInt64LE(o + 32))];
    }
    const at = b.indexOf(Buffer.from('libc.so.6\0'));
    let neededOff = -1n;
    let debugAt = -1;
    for (let o = dyn; o < dyn + dynSize; o += 16) {
      const tag = b.readBigInt64LE(o);
      if (tag === 1n) neededOff = b.readBigUInt64LE(o + 8);
      if (tag === 21n) debugAt = o;
    }
    assert.ok(at > 0 && neededOff >= 0n && debugAt > 0, 'the shape of /bin/true this test patches');
    b.write('true\0/bin\0', at, 'latin1');
    b.writeBigInt64LE(29n, debugAt);
    b.writeBigUInt64LE(neededOff + 5n, debugAt + 8);
    const bin = join(D, `runpath-${as}`);
    writeFileSync(bin, b);
    chmodSync(bin, 0o755);
    const info = readElf(bin);
    assert.ok(info.kind === 'elf' && Buffer.from(info.runpath ?? []).toString() === '/bin' && Buffer.from(info.needed[0]!).toString() === 'true', 'control: the patched ELF says what the test means');
    const r = wardAs(as, ['run', '--add-libs', '--', bin]);
    assert.equal(r.status, 125, r.stderr);
    assert.match(r.stderr, /found for the needed library "true", but it is a program, not a shared library/);
  });

  test(`[${as}] a program's PT_INTERP cannot make ward grant another program as its loader`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    const b = Buffer.from(readFileSync('/bin/true'));
    const loader = '/lib64/ld-linux-x86-64.so.2';
    const at = b.indexOf(Buffer.from(`${loader}\0`));
    assert.ok(at > 0, '/bin/true names the usual loader');
    const other = `/usr/bin${'/'.repeat(loader.length - '/usr/binperl'.length)}perl`; // same length, an ELF program
    assert.equal(other.length, loader.length);
    b.write(other, at, 'latin1');
    const bin = join(D, `interp-${as}`);
    writeFileSync(bin, b);
    chmodSync(bin, 0o755);
    const info = readElf(bin);
    assert.ok(info.kind === 'elf' && Buffer.from(info.interp!).toString() === other, 'control: the patched ELF names perl as its interpreter');
    const r = wardAs(as, ['run', '--add-libs', '--', bin]);
    assert.equal(r.status, 125, r.stderr);
    assert.match(r.stderr, /its ELF interpreter .*perl" is not a dynamic loader/);
  });

  test(`[${as}] --add-libs alone starts everyday programs (its libraries are right)`, (t) => {
    if (!requires(t, canRun, 'root and Landlock ABI 6+')) return;
    for (const argv of [['/usr/bin/git', '--version'], ['/usr/bin/curl', '--version'], ['/usr/bin/perl', '-e', 'print "perl\\n"'], ['/bin/ls', '-d', '/']]) {
      const r = wardAs(as, ['run', '--add-libs', '--rw', '/dev/null', '--', ...argv]);
      assert.equal(r.status, 0, `${argv[0]}: ${r.stderr}`);
    }
    // The controls: without --add-libs none of them can start.
    assert.equal(wardAs(as, ['run', '--', '/bin/ls', '-d', '/']).status, 126);
  });
}

test('a rule discovered for a file never becomes a directory rule', (t) => {
  if (!requires(t, abi >= 6, 'Landlock ABI 6+')) return;
  const planned = negotiate(profileToRequest({}, [{ path: '/usr', access: ACCESS_GROUPS.rox, origin: '--add-libs', fileOnly: true }]), abi);
  assert.ok(planned.ok);
  assert.throws(() => resolveRules(planned.value), /--add-libs \/usr: not a regular file; a rule discovered for a file is never widened to a directory/);
  void NOBODY;
});
