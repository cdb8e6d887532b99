// ModAutoRestrict in Debian's 6.1 guest: real module auto-loading (rtnl-link-* for `ip link add`,
// net-pf-5 for AF_APPLETALK) allowed or refused by bpf/modauto.bpf.o, per task and globally.
// The oracle is the kernel: /sys/module/<name> appears only when the module was loaded.

import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { IN_VM, inGuest } from '../helpers/vm.ts';
import { sh, ward } from './guest.ts';
import { lockdownLevel } from '../../src/kernel/bpf.ts';

// Under lockdown=confidentiality the kernel refuses bpf_probe_read_kernel_str: the loaded variant
// does not read module names, and the denial log has none (docs/bpf.md).
const NAMED = lockdownLevel() !== 'confidentiality';
const named = (m: string) => (NAMED ? m : '');

const APPLETALK = `python3 -c "import socket; socket.socket(socket.AF_APPLETALK, socket.SOCK_DGRAM)"`;
const loaded = (m: string) => existsSync(`/sys/module/${m}`);

interface State {
  loaded: boolean;
  global: number;
  task: number;
  denials: number;
  recent: { module: string; comm: string; scope: string; level: number }[];
}
function state(prefix = ''): State {
  const r = sh(`${prefix}${ward('modules autoload --json')}`);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as State;
}

describe('ModAutoRestrict (6.1 guest)', { concurrency: false }, () => {
  test('loads and starts at level 0 everywhere', (t) => {
    if (!inGuest(t, '6.1')) return;
    const s = state();
    assert.equal(s.loaded, true);
    assert.equal(s.global, 0);
    assert.equal(s.task, 0);
  });

  test('level 2 refuses ip link add … type dummy; level 0 auto-loads it', (t) => {
    if (!inGuest(t, '6.1')) return;
    assert.equal(loaded('dummy'), false, 'dummy must not be loaded before the test');
    const refused = sh(ward('exec --module-autoload=2 -- ip link add wdm0 type dummy'));
    assert.notEqual(refused.status, 0, 'ip link add must fail at level 2');
    assert.equal(loaded('dummy'), false);
    const s = state();
    assert.ok(s.recent.some((d) => d.module === named('rtnl-link-dummy') && d.comm === 'ip' && d.scope === 'task' && d.level === 2), JSON.stringify(s.recent));
    const ok = sh('ip link add wdm0 type dummy');
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(loaded('dummy'), true);
  });

  test('level 2 refuses socket(AF_APPLETALK, SOCK_DGRAM); level 0 auto-loads appletalk', (t) => {
    if (!inGuest(t, '6.1')) return;
    assert.equal(loaded('appletalk'), false);
    const refused = sh(ward(`exec --module-autoload=2 -- ${APPLETALK}`));
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /Address family not supported/);
    assert.equal(loaded('appletalk'), false);
    assert.ok(state().recent.some((d) => d.module === named('net-pf-5')));
    const ok = sh(APPLETALK);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(loaded('appletalk'), true);
  });

  test('level 1 refuses a task without CAP_SYS_MODULE and allows one with it', (t) => {
    if (!inGuest(t, '6.1')) return;
    assert.equal(loaded('ifb'), false);
    const without = sh(ward('exec --module-autoload=1 -- setpriv --bounding-set=-sys_module -- ip link add wdm1 type ifb'));
    assert.notEqual(without.status, 0);
    assert.equal(loaded('ifb'), false);
    const withCap = sh(ward('exec --module-autoload=1 -- ip link add wdm1 type ifb'));
    assert.equal(withCap.status, 0, withCap.stderr);
    assert.equal(loaded('ifb'), true);
  });

  test('the level is inherited by a child and a grandchild, across execve', (t) => {
    if (!inGuest(t, '6.1')) return;
    const r = sh(`${ward('exec --module-autoload=2 --')} bash -c 'bash -c "${ward('modules autoload --json')}"'`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as State).task, 2);
    assert.equal(loaded('nlmon'), false);
    const g = sh(`${ward('exec --module-autoload=2 --')} bash -c 'bash -c "ip link add wdm2 type nlmon"'`);
    assert.notEqual(g.status, 0);
    assert.equal(loaded('nlmon'), false);
  });

  test('a process cannot lower its level', (t) => {
    if (!inGuest(t, '6.1')) return;
    const r = sh(`${ward('exec --module-autoload=2 --')} ${ward('exec --module-autoload=0 -- true')}`);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /EPERM.*only rise/);
    const same = sh(`${ward('exec --module-autoload=1 --')} ${ward('exec --module-autoload=2 -- true')}`);
    assert.equal(same.status, 0, same.stderr);
  });

  test('global level 2 refuses everyone and is final', (t) => {
    if (!inGuest(t, '6.1')) return;
    assert.equal(loaded('vcan'), false);
    const set = sh(ward('modules autoload --global 2'));
    assert.equal(set.status, 0, set.stderr);
    const r = sh('ip link add wdm3 type vcan');
    assert.notEqual(r.status, 0);
    assert.equal(loaded('vcan'), false);
    const s = state();
    assert.equal(s.global, 2);
    assert.ok(s.recent.some((d) => d.module === named('rtnl-link-vcan') && d.scope === 'global'));
    const lower = sh(ward('modules autoload --global 0'));
    assert.notEqual(lower.status, 0);
    assert.match(lower.stderr, /EPERM/);
    assert.equal(state().global, 2);
    // Final for ward, not for root: removing the pins detaches the programs (docs/bpf.md: there is
    // no lsm/bpf guard). That is also how this test gives the rest of the boot its auto-loading back.
    assert.equal(sh('rm -rf /sys/fs/bpf/ward-modauto').status, 0);
    assert.equal(state().global, 0, 'ward modules autoload (root) loads fresh programs: global back at 0');
    const back = sh('ip link add wdm3 type vcan');
    assert.equal(back.status, 0, back.stderr);
    assert.equal(loaded('vcan'), true);
  });

  // Other guest tests in the same boot expect these modules not loaded (test/cli/status.vm.test.ts
  // auto-loads dummy itself): leave the guest as found.
  after(() => {
    if (!IN_VM) return;
    sh('rm -rf /sys/fs/bpf/ward-modauto; for l in wdm0 wdm1 wdm2 wdm3; do ip link del $l 2>/dev/null; done; rmmod dummy ifb vcan can_dev appletalk psnap p8022 llc 2>/dev/null; true');
  });
});
