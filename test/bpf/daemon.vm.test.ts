// The real `ward daemon --backend bpf` in Debian's 6.1 guest, driven only through its control
// verbs (ward policy load/activate/update/delete, ward enforce, ward daemon-status): the start-up
// line names the backend and why; an activated policy denies the exec of one binary and allows
// another; an update to a higher version takes effect; the version floor refuses going back;
// permissive mode stops denying; kill -9 keeps enforcing in failure mode closed (and a restarted
// daemon takes the pins over) and stops enforcing in open. The oracle is the guest kernel's own
// answer to execve (EACCES, as IPE) and the pins in /sys/fs/bpf.

import { strict as assert } from 'node:assert';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { IN_VM, VM_KERNEL, VM_SCRATCH, inGuest } from '../helpers/vm.ts';
import { WARD, digest, sh } from './guest.ts';
import { execAnswer, guestCtl, startGuestDaemon } from '../helpers/guest-daemon.ts';

const ON = IN_VM && VM_KERNEL === '6.1';
const D = `${VM_SCRATCH}/daemon`;
const M = `${D}/m`; // a tmpfs this test mounts: the daemon's --mount (the files it covers)
const PINS = '/sys/fs/bpf/ward';

const run = execAnswer;
const ctl = (...args: string[]) => guestCtl(WARD, `${D}/ctl.sock`, args);

let daemon: ChildProcess | undefined;
let daemonLog: () => string = () => '';
const started = new Set<ChildProcess>(); // every daemon this file started, killed in after()

/** Starts the real daemon and waits for its "ready:" line; returns its log so far. */
async function start(failureMode: 'open' | 'closed'): Promise<string> {
  const r = await startGuestDaemon(WARD, [
    '--config', `${D}/daemon.json`, '--state-dir', `${D}/state`, '--socket', `${D}/ctl.sock`,
    '--audit-log', `${D}/audit.jsonl`, '--mount', M, '--quiet', '--backend', 'bpf', '--failure-mode', failureMode,
  ], started);
  daemon = r.process;
  daemonLog = r.output;
  return r.log;
}

async function kill9(): Promise<void> {
  const p = daemon!;
  daemon = undefined;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await exited;
}

const policy = (name: string, version: string, deny: string) => {
  const file = `${D}/${name}-${version}.pol`;
  writeFileSync(file, `policy_name=${name} policy_version=${version}\nDEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=${digest(deny)} action=DENY\n`);
  return file;
};

describe('ward daemon --backend bpf (6.1 guest)', { concurrency: false }, () => {
  before(() => {
    if (!ON) return;
    mkdirSync(M, { recursive: true });
    sh(`mount -t tmpfs -o size=16m,mode=0755 ward-daemon-test ${M}`);
    copyFileSync('/usr/bin/true', `${M}/allowed`);
    for (const n of ['denied', 'denied2']) {
      copyFileSync('/usr/bin/true', `${M}/${n}`);
      appendFileSync(`${M}/${n}`, n);
      chmodSync(`${M}/${n}`, 0o755);
    }
    writeFileSync(`${D}/daemon.json`, '{}\n'); // never the guest's (the host's) /etc/ward/daemon.json
  });

  test('policies through the control socket: activate, update, version floor, delete, permissive; stopped in open mode', async (t) => {
    if (!inGuest(t, '6.1')) return;
    const startup = await start('open');
    t.diagnostic(startup.trim());
    assert.match(startup, /backend: BPF LSM: this kernel loads and attaches LSM programs; failure mode open/);
    assert.match(startup, /ready: bpf: \d+ LSM programs attached, 0 files covered under \/scratch\/daemon\/m, enforcing, active policy none/);
    const st = ctl('daemon-status');
    assert.equal(st.backend, 'bpf');
    assert.equal(st.failureMode, 'open');
    assert.equal(st.deciding, true);
    const text = spawnSync(process.execPath, [WARD, 'daemon-status', '--socket', `${D}/ctl.sock`], { encoding: 'utf8', timeout: 300_000 });
    t.diagnostic(text.stdout.trim());
    assert.equal(Number(/(\d+) LSM programs attached/.exec(startup)?.[1]), (st.programs as string[]).length);
    assert.match(text.stdout, /backend bpf \(failure mode open\): \d+ LSM programs at BPRM_CHECK MMAP MPROTECT KERNEL_READ KERNEL_LOAD; 0 files covered under \/scratch\/daemon\/m/);
    assert.equal(run(`${M}/denied`), 0, 'no policy yet: everything runs');

    assert.equal(ctl('policy', 'load', policy('p', '0.0.1', `${M}/denied`)).ok, true);
    assert.equal(run(`${M}/denied`), 0, 'loaded, not active: nothing changes');
    assert.equal(ctl('policy', 'activate', 'p').ok, true);
    assert.equal(run(`${M}/denied`), 'EACCES');
    assert.equal(run(`${M}/allowed`), 0);
    assert.equal(run(`${M}/denied2`), 0);
    assert.equal(ctl('daemon-status').coveredFiles, 3, 'activation computed a verdict for each file under --mount');

    const up = ctl('policy', 'update', 'p', policy('p', '0.0.2', `${M}/denied2`));
    assert.deepEqual([up.ok, up.version, up.active], [true, '0.0.2', true]);
    assert.equal(run(`${M}/denied`), 0, 'the update replaced the rule');
    assert.equal(run(`${M}/denied2`), 'EACCES');

    // The rollback floor (IPE's rules): a lower version of the same name is ESTALE; activating
    // another policy below the floor is EINVAL. Enforcement is unchanged by either.
    assert.equal(ctl('policy', 'update', 'p', `${D}/p-0.0.1.pol`).errno, 'ESTALE');
    assert.equal(ctl('policy', 'load', policy('q', '0.0.1', `${M}/allowed`)).ok, true);
    assert.equal(ctl('policy', 'activate', 'q').errno, 'EINVAL');
    assert.equal(run(`${M}/allowed`), 0);
    assert.equal(run(`${M}/denied2`), 'EACCES');
    assert.equal(ctl('policy', 'delete', 'p').errno, 'EPERM', 'the active policy cannot be deleted');
    assert.equal(ctl('policy', 'delete', 'q').ok, true);
    assert.equal(ctl('daemon-status').floor, '0.0.2');

    assert.equal(ctl('enforce', 'off').ok, true);
    assert.equal(run(`${M}/denied2`), 0, 'permissive: audited, not denied');
    assert.equal(ctl('enforce', 'on').ok, true);
    assert.equal(run(`${M}/denied2`), 'EACCES');
    // The kernel's decisions reach the daemon's audit log (ring buffer, drained every 100 ms).
    await new Promise((r) => setTimeout(r, 1000));
    const audit = readFileSync(`${D}/audit.jsonl`, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const denials = audit.filter((r) => r.type === 'IPE_ACCESS' && r.decision === 'DENY' && r.ipe_hook === 'BPRM_CHECK');
    assert.ok(denials.some((r) => r.enforcing === 0 && r.policy_version === '0.0.2'), 'a permissive denial is audited');
    assert.ok(denials.some((r) => r.enforcing === 1), 'an enforced denial is audited');

    daemon!.kill('SIGTERM');
    assert.equal(await new Promise((r) => daemon!.once('exit', r)), 0);
    daemon = undefined;
    assert.match(daemonLog(), /stopping \(bpf enforcement ends with the daemon\)/);
    assert.equal(run(`${M}/denied2`), 0, 'open mode: stopped, nothing enforced');
    assert.equal(existsSync(PINS), false);
  });

  test('kill -9: failure mode closed keeps denying, a restarted daemon takes the pins over, open stops', async (t) => {
    if (!inGuest(t, '6.1')) return;
    // The store persisted p 0.0.2 as active: the daemon enforces it from its start.
    await start('closed');
    assert.equal(run(`${M}/denied2`), 'EACCES');
    await kill9();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(run(`${M}/denied2`), 'EACCES', 'closed: the pinned programs keep enforcing');
    assert.equal(run(`${M}/allowed`), 0);
    assert.ok(existsSync(`${PINS}/links`));

    const again = await start('open');
    assert.match(again, /bpf: took over \d+ pinned programs/);
    assert.equal(run(`${M}/denied2`), 'EACCES');
    assert.equal(existsSync(PINS), false, 'open mode: taking over removed the pins');
    await kill9();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(run(`${M}/denied2`), 0, 'open: the programs went with the daemon');
  });

  after(async () => {
    if (!ON) return;
    // A failed test may leave a daemon running: kill every one (the run would not end otherwise).
    await Promise.all([...started].map((p) => new Promise((r) => { p.once('exit', r); p.kill('SIGKILL'); })));
    if (existsSync(PINS)) sh(`rm -rf ${PINS}`);
    sh(`umount -l ${M}`);
  });
});
