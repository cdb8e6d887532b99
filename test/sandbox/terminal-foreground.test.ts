// The review's second round, terminal class: when CMD shares the caller's terminal (ward run as
// a job of an interactive shell — ward then leads its process group and cannot setsid — or
// --share-session), a process CMD leaves running in the background must not take the terminal's
// foreground: with SIGTTOU ignored, tcsetpgrp() makes its group the foreground, and setpgid()
// joins the shell's (foreground) group; either way it read what the user typed to the shell
// next (a password, say). On a real pseudo-terminal, as root and as nobody, with a control:
// without ward the same process steals the line.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IS_ROOT, NOBODY, Scratch, requires } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';
import { landlockAbi } from '../../src/kernel/landlock.ts';

const PTY = fileURLToPath(new URL('./fixtures/on_terminal.py', import.meta.url));
const PY = '/usr/bin/python3';
const canRun = IS_ROOT && landlockAbi() >= 6 && existsSync(PY);
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
let s: Scratch;
let dir: string;

// A background process left behind by CMD: ignores SIGTTOU/SIGTTIN, then takes the foreground
// (by tcsetpgrp, or by joining the foreground group) and reads one line from the terminal.
const STEAL = (how: 'tcsetpgrp' | 'setpgid') => `use POSIX;
exit if fork;
$SIG{TTOU} = 'IGNORE'; $SIG{TTIN} = 'IGNORE';
setpgid(0, 0);
select(undef, undef, undef, 0.2);
my $fg = tcgetpgrp(0);
${how === 'tcsetpgrp' ? 'tcsetpgrp(0, getpgrp()) or die "tcsetpgrp: $!\\n";' : 'setpgid(0, $fg) or die "setpgid: $!\\n";'}
my $l = <STDIN>;
print STDERR "STOLEN[$l]\\n";
# Give the terminal back (and wake the shell the theft stopped), so the control ends quickly.
tcsetpgrp(0, $fg); kill 'CONT', -$fg;
`;

before(() => {
  if (!canRun) return;
  s = new Scratch('ward-term-fg-');
  dir = s.dir('d', 0o755);
  for (const how of ['tcsetpgrp', 'setpgid'] as const) {
    writeFileSync(join(dir, `${how}.pl`), STEAL(how));
    chmodSync(join(dir, `${how}.pl`), 0o644);
  }
});
after(() => s?.cleanup());

function onPty(cmd: string, as: 'root' | 'nobody', feed: string): string {
  const r = spawnSync(PY, [PTY, cmd, String(as === 'root' ? 0 : NOBODY), feed, '12'], { encoding: 'utf8', timeout: 60_000, cwd: '/' });
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { out: string }).out;
}

// The caller's shell after CMD: waits, then reads the line the user types (fed on READY).
const THEN_READ = '; sleep 1; echo READY; read -t 4 line; echo "GOT[$line]"';

for (const as of ['root', 'nobody'] as const) {
  for (const how of ['tcsetpgrp', 'setpgid'] as const) {
    for (const [mode, prefix, flags] of [
      ['a shell job (ward leads its process group)', 'set -m; ', []],
      ['--share-session from a script', '', ['--share-session']],
    ] as const) {
      test(`[${as}] ${mode}: a process left behind cannot take the terminal's foreground by ${how}`, (t) => {
        if (!requires(t, canRun, 'root, Landlock ABI 6+ and python3')) return;
        const script = join(dir, `${how}.pl`);
        const control = onPty(`${prefix}/usr/bin/perl ${q(script)}${THEN_READ}`, as, 'typed-secret\n');
        // Without ward the process takes the foreground: it reads the line, or (a script's shell,
        // no job control) the shell's own read fails with EIO and the hang-up kills the thief first.
        assert.match(control, /STOLEN\[typed-secret|read: read error: 0: Input\/output error/, `the attack must work without ward: ${control}`);
        const ward = [process.execPath, WARD_BIN, 'run', '--rox', '/usr', '--ro', '/etc/ld.so.cache', '--rw', '/dev/null', '--ro', script, ...flags, '--'].map(q).join(' ');
        const r = onPty(`${prefix}${ward} /usr/bin/perl ${q(script)}${THEN_READ}`, as, 'typed-secret\n');
        assert.doesNotMatch(r, /STOLEN\[typed-secret|Input\/output error/, r);
        assert.match(r, new RegExp(`${how}: Operation not permitted`), r);
        assert.match(r, /GOT\[typed-secret\]/, r);
      });
    }
  }
}
