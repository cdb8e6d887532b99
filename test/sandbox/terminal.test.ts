// Issue 10 class 1, terminal injection: a sandboxed program must not type into its caller's
// terminal (TIOCSTI; dev.tty.legacy_tiocsti=1 here) or paste (TIOCLINUX), whether ward gave it
// its own session (setsid) or — as a job of a shell with job control, where ward leads its
// process group — it shares the caller's. Tested on a real pseudo-terminal: the "caller's shell"
// reads a line after CMD exits; injected keystrokes would be that line. As root and as nobody.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { IS_ROOT, NOBODY, requires } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';
import { landlockAbi } from '../../src/kernel/landlock.ts';

const PTY = fileURLToPath(new URL('./fixtures/on_terminal.py', import.meta.url));
const PY = '/usr/bin/python3';
const legacyTiocsti = existsSync('/proc/sys/dev/tty/legacy_tiocsti') && readFileSync('/proc/sys/dev/tty/legacy_tiocsti', 'utf8').trim() === '1';
const canRun = IS_ROOT && landlockAbi() >= 6 && existsSync(PY);
const BASE = ['--rox', '/usr', '--ro', '/etc/ld.so.cache', '--rw', '/dev/null'];
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const WARD_RUN = (flags: string[] = []) => [process.execPath, WARD_BIN, 'run', ...BASE, ...flags, '--'].map(q).join(' ');

// TIOCSTI = 0x5412: one character per call. The second form sets the upper 32 bits of the
// command, which the kernel ignores (cmd is unsigned int) and a careless filter would not.
const INJECT = `perl -e 'for (split //, "echo PWNED\\n") { ioctl(STDIN, 0x5412, $_) or die "TIOCSTI: $!\\n" }'`;
const INJECT_HIGH = `perl -e 'for (split //, "echo PWNED\\n") { my $c = $_; syscall(16, 0, 0x100005412, $c) == 0 or die "TIOCSTI: $!\\n" }'`;
// TIOCLINUX = 0x541C (subcode 3, TIOCL_PASTESEL). On a pty the kernel answers ENOTTY/EINVAL; the filter answers EPERM first.
const LINUX = `perl -e '$b = pack("C", 3); ioctl(STDIN, 0x541C, $b) and die "TIOCLINUX accepted\\n"; print "TIOCLINUX: $!\\n"'`;

function onPty(cmd: string, as: 'root' | 'nobody', feed = ''): { out: string; status: number | null } {
  const r = spawnSync(PY, [PTY, cmd, String(as === 'root' ? 0 : NOBODY), feed], { encoding: 'utf8', timeout: 60_000, cwd: '/' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { out: string; status: number | null };
}

// The caller's shell after CMD: reads what is waiting on the terminal, as an interactive shell would.
const THEN_READ = `; read -t 2 line; echo "GOT[$line]"`;

for (const as of ['root', 'nobody'] as const) {
  for (const [name, jobControl, flags] of [
    ['own session', '', []],
    ['shared session (job control: ward leads its process group)', 'set -m; ', []],
    ['--share-session', '', ['--share-session']],
  ] as const) {
    for (const [variant, inject] of [['TIOCSTI', INJECT], ['TIOCSTI with the upper 32 bits set', INJECT_HIGH]] as const) {
      test(`[${as}] ${name}: ${variant} cannot type into the caller's terminal`, (t) => {
        if (!requires(t, canRun && legacyTiocsti, 'root, Landlock ABI 6+, python3 and dev.tty.legacy_tiocsti=1')) return;
        // Control: without ward the keystrokes reach the shell.
        const control = onPty(`${jobControl}${inject}${THEN_READ}`, as);
        assert.match(control.out, /GOT\[echo PWNED\]/, `the attack must work without ward: ${control.out}`);
        const r = onPty(`${jobControl}${WARD_RUN([...flags])} /bin/sh -c ${q(inject)}${THEN_READ}`, as);
        assert.match(r.out, /TIOCSTI: Operation not permitted/, r.out);
        assert.match(r.out, /GOT\[\]/, r.out);
        assert.doesNotMatch(r.out, /GOT\[echo PWNED\]/);
      });
    }
  }

  test(`[${as}] TIOCLINUX is refused by the filter (EPERM, before the tty driver answers)`, (t) => {
    if (!requires(t, canRun, 'root, Landlock ABI 6+ and python3')) return;
    const control = onPty(LINUX, as);
    assert.doesNotMatch(control.out, /TIOCLINUX: Operation not permitted/, control.out);
    const r = onPty(`set -m; ${WARD_RUN()} /bin/sh -c ${q(LINUX)}`, as);
    assert.match(r.out, /TIOCLINUX: Operation not permitted/, r.out);
  });

  test(`[${as}] interactive programs stay usable: input, terminal size, and Ctrl-C as a shell job`, (t) => {
    if (!requires(t, canRun, 'root, Landlock ABI 6+ and python3')) return;
    const r = onPty(`set -m; ${WARD_RUN()} /bin/sh -c ${q('stty size >/dev/null && echo READY; read x; echo "got[$x]"')}`, as, 'hello\n');
    assert.match(r.out, /got\[hello\]/, r.out);
    const own = onPty(`${WARD_RUN()} /bin/sh -c ${q('test -t 0 && echo READY; read x; echo "got[$x]"')}`, as, 'again\n');
    assert.match(own.out, /got\[again\]/, own.out);
    // From a script (no job control) with --share-session, Ctrl-C reaches CMD too.
    const shared = onPty(`${WARD_RUN(['--share-session'])} /bin/sh -c ${q('trap "echo got-sigint; exit 7" INT; echo READY; sleep 20 & wait; echo not-interrupted')}`, as, '\x03');
    assert.match(shared.out, /got-sigint/, shared.out);
    // Ctrl-C from the terminal reaches CMD (the terminal's foreground job).
    const c = onPty(`set -m; ${WARD_RUN()} /bin/sh -c ${q('trap "echo got-sigint; exit 7" INT; echo READY; sleep 20 & wait; echo not-interrupted')}`, as, '\x03');
    assert.match(c.out, /got-sigint/, c.out);
    assert.doesNotMatch(c.out, /not-interrupted/);
  });
}
