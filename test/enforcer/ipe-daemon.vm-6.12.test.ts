// `ward daemon --backend ipe` on Debian's 6.12 (in the guest), whose kernel has IPE: the daemon
// deploys its policies to securityfs signed with the key the guest's platform keyring trusts, and
// every decision is the kernel's. The oracle is the kernel: execve's errno (EACCES from IPE) and
// the files under /sys/kernel/security/ipe (which policy is loaded, at which version, active).

import { strict as assert } from 'node:assert';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IN_VM, VM_IPE_CERT, VM_IPE_KEY, VM_KERNEL, VM_SCRATCH, inGuest } from '../helpers/vm.ts';
import { IPE, nextIpeMajor } from '../helpers/ipe.ts';
import { makeVerityFile, measure, mountVerityImage } from '../helpers/fsverity.ts';
import { loadSigner, signPkcs7 } from '../../src/enforcer/pkcs7-sign.ts';
import { WARD } from '../bpf/guest.ts';
import { execAnswer, guestCtl, startGuestDaemon } from '../helpers/guest-daemon.ts';

const ON = IN_VM && VM_KERNEL === '6.12';
const D = join(VM_SCRATCH, 'ipe-daemon');
let mnt = '';
let major = 0;
const started = new Set<ChildProcess>();
let daemon: ChildProcess | undefined;
let daemonLog: () => string = () => '';

const run = execAnswer;
const ctl = (...args: string[]) => guestCtl(WARD, `${D}/ctl.sock`, args);

const kernel = (name: string, file: string) => readFileSync(`${IPE}/policies/${name}/${file}`, 'utf8').trim();

function policy(name: string, version: string, deny: string): string {
  const file = `${D}/${name}-${version}.pol`;
  writeFileSync(file, `policy_name=${name} policy_version=${version}\nDEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=${measure(deny)} action=DENY\n`);
  return file;
}

async function start(extra: string[]): Promise<string> {
  const r = await startGuestDaemon(WARD, [
    '--config', `${D}/daemon.json`, '--state-dir', `${D}/state`, '--socket', `${D}/ctl.sock`,
    '--audit-log', `${D}/audit.jsonl`, '--quiet', '--backend', 'ipe', ...extra,
  ], started);
  daemon = r.process;
  daemonLog = r.output;
  return r.log;
}

describe('ward daemon --backend ipe (6.12 guest)', { concurrency: false }, () => {
  before(() => {
    if (!ON) return;
    mkdirSync(D, { recursive: true });
    mnt = mountVerityImage(D);
    for (const n of ['allowed', 'denied', 'denied2']) makeVerityFile(join(mnt, n), { verity: true, extra: n });
    writeFileSync(`${D}/daemon.json`, '{}\n'); // never the guest's (the host's) /etc/ward/daemon.json
    major = nextIpeMajor();
  });

  test('a boot policy enforced by the kernel, an update through the socket, permissive, and the policy kept after stop', async (t) => {
    if (!inGuest(t, '6.12')) return;
    const boot = policy('ward-daemon', `${major}.0.0`, join(mnt, 'denied'));
    const startup = await start(['--boot-policy', boot, '--ipe-signing-key', VM_IPE_KEY!, '--ipe-signing-cert', VM_IPE_CERT!, '--trusted-cert', VM_IPE_CERT!]);
    t.diagnostic(startup.trim());
    assert.match(startup, /backend: the kernel's IPE: policies deployed through securityfs \(signed with the configured key\); the kernel keeps enforcing the active policy when the daemon stops or dies \(IPE cannot deactivate a policy\); failure mode closed\n/);
    assert.match(startup, new RegExp(`ready: ipe: the kernel's IPE enforces "ward-daemon" ${major}\\.0\\.0 at its hooks, enforcing`));
    // The kernel holds it, active, and decides.
    assert.equal(kernel('ward-daemon', 'active'), '1');
    assert.equal(kernel('ward-daemon', 'version'), `${major}.0.0`);
    assert.equal(readFileSync(`${IPE}/enforce`, 'utf8').trim(), '1');
    assert.equal(run(join(mnt, 'denied')), 'EACCES');
    assert.equal(run(join(mnt, 'allowed')), 0);
    assert.equal(run(join(mnt, 'denied2')), 0);
    const st = ctl('daemon-status');
    assert.deepEqual([st.backend, st.failureMode, st.deciding], ['ipe', 'closed', true]);
    const text = spawnSync(process.execPath, [WARD, 'daemon-status', '--socket', `${D}/ctl.sock`], { encoding: 'utf8', timeout: 300_000 });
    assert.match(text.stdout, new RegExp(`backend ipe \\(failure mode closed: the kernel keeps its policies\\): the kernel's IPE enforces "ward-daemon" ${major}\\.0\\.0 at its hooks; hooks BPRM_CHECK MMAP MPROTECT KERNEL_READ KERNEL_LOAD`));
    const status = spawnSync(process.execPath, [WARD, 'status', '--json'], { encoding: 'utf8', timeout: 300_000 });
    const ipeLine = (JSON.parse(status.stdout) as { items: Array<{ name: string; meaning: string }> }).items.find((i) => i.name === 'kernel IPE');
    assert.match(ipeLine!.meaning, new RegExp(`the kernel enforces policy "ward-daemon" ${major}\\.0\\.0`));

    // An update through the socket: the kernel's policy is replaced in place.
    const up = ctl('policy', 'update', 'ward-daemon', policy('ward-daemon', `${major}.0.1`, join(mnt, 'denied2')));
    assert.deepEqual([up.ok, up.active], [true, true]);
    assert.equal(kernel('ward-daemon', 'version'), `${major}.0.1`);
    assert.equal(run(join(mnt, 'denied')), 0, 'the update replaced the rule');
    assert.equal(run(join(mnt, 'denied2')), 'EACCES');

    // A pre-signed policy is deployed with its own signature; deleting it removes it from the kernel.
    const q = policy('ward-q', `${major}.0.0`, join(mnt, 'allowed'));
    writeFileSync(`${q}.p7s`, signPkcs7(readFileSync(q), loadSigner(VM_IPE_KEY!, VM_IPE_CERT!)));
    assert.equal(ctl('policy', 'load', q, '--signed', `${q}.p7s`).ok, true);
    assert.equal(kernel('ward-q', 'active'), '0');
    assert.equal(run(join(mnt, 'allowed')), 0, 'loaded, not active');
    // The kernel refuses what ward's store would take? Never stored: an older version cannot be activated.
    assert.equal(ctl('policy', 'load', policy('ward-old', '0.0.1', join(mnt, 'allowed'))).ok, true);
    assert.equal(ctl('policy', 'activate', 'ward-old').errno, 'EINVAL');
    assert.equal(kernel('ward-daemon', 'active'), '1');
    for (const n of ['ward-q', 'ward-old']) {
      assert.equal(ctl('policy', 'delete', n).ok, true);
      assert.equal(existsSync(`${IPE}/policies/${n}`), false, `${n} left the kernel too`);
    }
    assert.equal(ctl('policy', 'delete', 'ward-daemon').errno, 'EPERM', 'the active policy cannot be deleted');
    // A name that is not ASCII: ward holds names as bytes; the kernel names the policy's directory
    // with the same bytes. (Before, the backend looked the policy up by its bytes re-encoded as
    // UTF-8: load said it was refused, delete left it in the kernel.)
    const accented = 'wärd-ü';
    assert.equal(ctl('policy', 'load', policy(accented, `${major}.0.0`, join(mnt, 'allowed'))).ok, true);
    assert.equal(readFileSync(Buffer.from(`${IPE}/policies/${accented}/version`, 'utf8'), 'utf8').trim(), `${major}.0.0`);
    assert.equal(ctl('policy', 'delete', accented).ok, true);
    assert.equal(existsSync(Buffer.from(`${IPE}/policies/${accented}`, 'utf8')), false, 'the accented policy left the kernel too');

    // Permissive is the kernel's enforce=0.
    assert.equal(ctl('enforce', 'off').ok, true);
    assert.equal(readFileSync(`${IPE}/enforce`, 'utf8').trim(), '0');
    assert.equal(run(join(mnt, 'denied2')), 0, 'permissive: audited, not denied');
    assert.equal(ctl('enforce', 'on').ok, true);
    assert.equal(run(join(mnt, 'denied2')), 'EACCES');
    // enforce=0 written behind ward's back: the kernel denies nothing, and status must not say
    // "enforcing" (it did: ward's own flag was reported whatever the kernel did).
    writeFileSync(`${IPE}/enforce`, '0');
    assert.equal(run(join(mnt, 'denied2')), 0);
    const drifted = ctl('daemon-status');
    assert.equal(drifted.enforce, false, 'the kernel is permissive: not reported as enforcing');
    assert.match((drifted.gaps as string[]).join('\n'), /the kernel's IPE is permissive \(enforce=0, set outside ward\)/);
    const driftedText = spawnSync(process.execPath, [WARD, 'daemon-status', '--socket', `${D}/ctl.sock`], { encoding: 'utf8', timeout: 300_000 });
    assert.match(driftedText.stdout, /^pid \d+, permissive/);
    assert.equal(ctl('enforce', 'on').ok, true);
    assert.equal(ctl('daemon-status').enforce, true);
    assert.equal(run(join(mnt, 'denied2')), 'EACCES');

    // Stop: IPE cannot deactivate a policy, and ward does not switch enforcement off: the kernel
    // keeps enforcing the last active policy (docs/daemon.md).
    daemon!.kill('SIGTERM');
    assert.equal(await new Promise((r) => daemon!.once('exit', r)), 0);
    daemon = undefined;
    assert.match(daemonLog(), /stopping \(the kernel's IPE keeps enforcing its active policy\)/);
    assert.equal(kernel('ward-daemon', 'active'), '1');
    assert.equal(run(join(mnt, 'denied2')), 'EACCES', 'the kernel still denies after the daemon stopped');

    // A restart finds the kernel already holding its active policy and takes it as it is.
    const again = await start(['--ipe-signing-key', VM_IPE_KEY!, '--ipe-signing-cert', VM_IPE_CERT!]);
    assert.match(again, new RegExp(`ready: ipe: the kernel's IPE enforces "ward-daemon" ${major}\\.0\\.1`));

    // The active policy updated in securityfs behind ward: same name, newer version, another
    // text. ward's store did not move; status says the kernel enforces a version ward does not hold.
    const sideways = `policy_name=ward-daemon policy_version=${major}.0.9\nDEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=${measure(join(mnt, 'denied2'))} action=DENY\n`;
    writeFileSync(`${IPE}/policies/ward-daemon/update`, signPkcs7(Buffer.from(sideways), loadSigner(VM_IPE_KEY!, VM_IPE_CERT!)));
    assert.equal(kernel('ward-daemon', 'version'), `${major}.0.9`);
    const moved = ctl('daemon-status');
    assert.equal((moved.active as { version: string }).version, `${major}.0.1`);
    assert.match((moved.gaps as string[]).join('\n'), new RegExp(`"ward-daemon" is at version ${major}\\.0\\.9, not ward's ${major}\\.0\\.1`));

    // The kernel has the last word, and ward's store follows it: someone activates a newer policy
    // in the kernel behind ward's back; activating ward's (older) one is then the kernel's EINVAL,
    // and ward's store does not move.
    assert.equal(ctl('policy', 'load', policy('ward-r', `${major}.0.1`, join(mnt, 'denied2'))).ok, true);
    const outsider = `policy_name=outsider policy_version=${major + 1}.0.0\nDEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=${measure(join(mnt, 'denied2'))} action=DENY\n`;
    writeFileSync(`${IPE}/new_policy`, signPkcs7(Buffer.from(outsider), loadSigner(VM_IPE_KEY!, VM_IPE_CERT!)));
    writeFileSync(`${IPE}/policies/outsider/active`, '1');
    const refused = ctl('policy', 'activate', 'ward-r');
    assert.equal(refused.errno, 'EINVAL');
    assert.match(String(refused.message), /the kernel's active IPE policy "outsider" has version \d+\.0\.0: IPE refuses to activate the older/);
    const after = ctl('daemon-status');
    assert.deepEqual([(after.active as { name: string }).name, (after.kernelActive as { name: string }).name], ['ward-daemon', 'outsider'], 'ward reports both, honestly');
    const p = daemon!;
    p.kill('SIGKILL');
    await new Promise((r) => p.once('exit', r));
    daemon = undefined;
    assert.equal(run(join(mnt, 'denied2')), 'EACCES', 'kill -9: the kernel still enforces');
  });

  after(async () => {
    if (!ON) return;
    await Promise.all([...started].map((p) => new Promise((r) => { p.once('exit', r); p.kill('SIGKILL'); })));
    // Leave an allow-all policy active for the tests after this one.
    const name = 'ward-daemon-end';
    const text = `policy_name=${name} policy_version=${nextIpeMajor()}.0.0\nDEFAULT action=ALLOW\n`;
    writeFileSync(`${IPE}/new_policy`, signPkcs7(Buffer.from(text), loadSigner(VM_IPE_KEY!, VM_IPE_CERT!)));
    writeFileSync(`${IPE}/policies/${name}/active`, '1');
    spawnSync('umount', ['-l', mnt]);
  });
});
