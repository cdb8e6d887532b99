// The management verbs and the boot policy without a daemon, a socket or root: Manager on a
// temporary state directory, with the effects (policy swaps, mode changes, audit records)
// recorded. The same verbs end to end against a running daemon: daemon.test.ts.

import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditRecord } from '../../src/enforcer/audit.ts';
import type { EnforcementMode } from '../../src/enforcer/backend.ts';
import { Manager } from '../../src/enforcer/manage.ts';
import { authorized, groupId } from '../../src/enforcer/control.ts';
import { PolicyState } from '../../src/enforcer/state.ts';
import type { Policy } from '../../src/policy/model.ts';

const pol = (name: string, version: string, body = 'DEFAULT action=ALLOW') => `policy_name=${name} policy_version=${version}\n${body}\n`;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const me = { pid: 1234, uid: 0 };

let dir: string;
let swaps: Array<string | undefined>;
let modes: EnforcementMode[];
let records: AuditRecord[];

function manager(o: { requireSigned?: boolean } = {}): Manager {
  const st = PolicyState.open(join(dir, 'state'), { enforce: true, auditSuccess: false });
  assert.ok(st.ok);
  return new Manager(st.value, { trustedCerts: [], requireSigned: o.requireSigned ?? false }, {
    activePolicy: async (p: Policy | undefined) => void swaps.push(p ? `${p.name} ${p.version.major}.${p.version.minor}.${p.version.rev}` : undefined),
    mode: async (m) => void modes.push(m),
    audit: (r) => void records.push(r),
    status: () => ({ backend: 'test' }),
  });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ward-manage-'));
  swaps = [];
  modes = [];
  records = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('load, activate, update, delete follow IPE: EEXIST, ESTALE, EINVAL, EPERM, ENOENT', async () => {
  const m = manager();
  assert.deepEqual(await m.handle({ verb: 'load', text: b64(pol('a', '1.0.0')) }, me), { ok: true, name: 'a', version: '1.0.0', signed: false });
  assert.equal(swaps.length, 0, 'loading never activates');
  assert.equal(((await m.handle({ verb: 'load', text: b64(pol('a', '2.0.0')) }, me)) as { errno: string }).errno, 'EEXIST');
  assert.deepEqual(await m.handle({ verb: 'activate', name: 'a' }, me), { ok: true, name: 'a', version: '1.0.0' });
  assert.deepEqual(swaps, ['a 1.0.0']);
  await m.handle({ verb: 'activate', name: 'a' }, me);
  assert.deepEqual(swaps, ['a 1.0.0'], 'activating the active policy again changes nothing');
  assert.equal(((await m.handle({ verb: 'update', name: 'a', text: b64(pol('a', '1.0.0')) }, me)) as { errno: string }).errno, 'ESTALE');
  assert.equal(((await m.handle({ verb: 'update', name: 'a', text: b64(pol('b', '9.0.0')) }, me)) as { errno: string }).errno, 'EINVAL');
  assert.deepEqual(await m.handle({ verb: 'update', name: 'a', text: b64(pol('a', '1.1.0')) }, me), { ok: true, name: 'a', version: '1.1.0', active: true });
  assert.deepEqual(swaps, ['a 1.0.0', 'a 1.1.0'], 'updating the active policy swaps it at once');
  await m.handle({ verb: 'load', text: b64(pol('old', '0.1.0')) }, me);
  assert.equal(((await m.handle({ verb: 'activate', name: 'old' }, me)) as { errno: string }).errno, 'EINVAL', 'older than the floor');
  assert.equal(((await m.handle({ verb: 'delete', name: 'a' }, me)) as { errno: string }).errno, 'EPERM');
  assert.equal(((await m.handle({ verb: 'delete', name: 'nope' }, me)) as { errno: string }).errno, 'ENOENT');
  assert.deepEqual(await m.handle({ verb: 'delete', name: 'old' }, me), { ok: true });
  const list = (await m.handle({ verb: "list" }, me)) as unknown as { policies: Array<{ name: string; active: boolean }> };
  assert.deepEqual(list.policies.map((p) => [p.name, p.active]), [['a', true]]);
  const bad = (await m.handle({ verb: 'load', text: b64('policy_name=x policy_version=1.0\nDEFAULT action=ALLOW\n') }, me)) as { errno: string; line: number };
  assert.equal(bad.errno, 'EBADMSG');
  assert.equal(bad.line, 1);
  // The audit trail: loads (1422, failures with errno), activations (1421) with digests.
  assert.deepEqual(records.map((r) => r.type), ['IPE_POLICY_LOAD', 'IPE_CONFIG_CHANGE', 'IPE_POLICY_LOAD', 'IPE_CONFIG_CHANGE', 'IPE_POLICY_LOAD', 'IPE_POLICY_LOAD']);
  const act = records[3] as Extract<AuditRecord, { type: 'IPE_CONFIG_CHANGE' }>;
  assert.equal(act.old_active_pol_version, '1.0.0');
  assert.equal(act.new_policy_digest, `sha256:${createHash('sha256').update(pol('a', '1.1.0')).digest('hex')}`, 'lower-case, as every digest ward prints');
  assert.equal((records.at(-1) as { errno: number }).errno, -74);
});

test('the store persists: a new Manager on the same directory sees policies, active, floor', async () => {
  const m = manager();
  await m.handle({ verb: 'load', text: b64(pol('a', '2.0.0')) }, me);
  await m.handle({ verb: 'activate', name: 'a' }, me);
  await m.handle({ verb: 'enforce', on: false }, me);
  const again = manager();
  assert.equal(again.state.active?.name, 'a');
  assert.deepEqual(again.mode, { enforce: false, auditSuccess: false });
  await again.handle({ verb: 'load', text: b64(pol('b', '1.0.0')) }, me);
  assert.equal(((await again.handle({ verb: 'activate', name: 'b' }, me)) as { errno: string }).errno, 'EINVAL');
});

test('a policy sent raw is stored byte for byte; failed loads and updates leave no file behind', async () => {
  const m = manager();
  const policies = join(dir, 'state', 'policies');
  // The text is written under a temporary name while it is parsed, then renamed into place.
  const text = Buffer.from(pol('raw', '1.0.0', 'DEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=sha256:' + 'ab'.repeat(32) + ' action=DENY'));
  assert.deepEqual(await m.handle({ verb: 'load', text }, me), { ok: true, name: 'raw', version: '1.0.0', signed: false });
  const files = () => readdirSync(policies).sort();
  assert.deepEqual(files(), [`${Buffer.from('raw').toString('hex')}.pol`]);
  assert.deepEqual(readFileSync(join(policies, files()[0]!)), text);
  // Refused for every reason a load or update can fail: nothing staged stays, nothing changes.
  const refusals = [
    { verb: 'load', text: Buffer.from(pol('raw', '2.0.0')) }, // EEXIST
    { verb: 'load', text: Buffer.from('policy_name=x policy_version=1\n') }, // EBADMSG
    { verb: 'update', name: 'raw', text: Buffer.from(pol('raw', '0.9.0')) }, // ESTALE
    { verb: 'update', name: 'nope', text: Buffer.from(pol('nope', '1.0.0')) }, // ENOENT
  ] as const;
  for (const req of refusals) assert.equal((await m.handle(req, me)).ok, false, JSON.stringify(req.verb));
  assert.deepEqual(files(), [`${Buffer.from('raw').toString('hex')}.pol`]);
  assert.deepEqual(readFileSync(join(policies, files()[0]!)), text);
  // A temporary file left by a daemon that stopped mid-load is removed when the store opens.
  writeFileSync(join(policies, '.staged.1.2.x.tmp'), 'partial');
  manager();
  assert.deepEqual(files(), [`${Buffer.from('raw').toString('hex')}.pol`]);
});

test('enforce and audit-success change the mode and are audited (1404, ward record)', async () => {
  const m = manager();
  assert.deepEqual(await m.handle({ verb: 'enforce', on: false }, me), { ok: true, enforce: false });
  assert.deepEqual(await m.handle({ verb: 'audit-success', on: true }, me), { ok: true, auditSuccess: true });
  assert.deepEqual(modes, [{ enforce: false, auditSuccess: false }, { enforce: false, auditSuccess: true }]);
  const e = records[0] as Extract<AuditRecord, { type: 'MAC_STATUS' }>;
  assert.deepEqual([e.audit_type, e.enforcing, e.old_enforcing, e.uid, e.pid], [1404, 0, 1, 0, 1234]);
  assert.equal(records[1]!.type, 'WARD_AUDIT_SUCCESS');
  assert.deepEqual(await m.handle({ verb: 'status' }, me), { ok: true, backend: 'test' });
});

test('requireSigned refuses unsigned loads and says how to sign', async () => {
  const m = manager({ requireSigned: true });
  const r = (await m.handle({ verb: 'load', text: b64(pol('a', '1.0.0')) }, me)) as { errno: string; message: string };
  assert.equal(r.errno, 'EBADMSG');
  assert.match(r.message, /openssl smime -sign/);
  const junk = (await m.handle({ verb: 'load', text: b64(pol('a', '1.0.0')), pkcs7: b64('junk') }, me)) as { errno: string };
  assert.equal(junk.errno, 'EBADMSG');
});

test('boot policy: loaded and activated when none is active; newer versions replace it; another active policy stays', async () => {
  const boot = join(dir, 'boot.pol');
  writeFileSync(boot, pol('boot', '1.0.0'));
  const m = manager();
  assert.equal(await m.applyBootPolicy(boot, me), undefined);
  assert.deepEqual(swaps, ['boot 1.0.0']);
  assert.equal(await manager().applyBootPolicy(boot, me), undefined, 'same version again: nothing to do');
  writeFileSync(boot, pol('boot', '1.1.0'));
  const m2 = manager();
  await m2.applyBootPolicy(boot, me);
  assert.deepEqual(swaps, ['boot 1.0.0', 'boot 1.1.0'], 'a newer boot policy replaces the active one at once (SIGHUP reload)');
  await m2.handle({ verb: 'load', text: b64(pol('admin', '5.0.0')) }, me);
  await m2.handle({ verb: 'activate', name: 'admin' }, me);
  assert.match((await manager().applyBootPolicy(boot, me))!, /boot policy "boot" not activated: "admin" is active/);
  await assert.rejects(manager().applyBootPolicy(join(dir, 'missing.pol'), me), /boot policy .*missing\.pol: ENOENT \(install one/);
  writeFileSync(boot, 'policy_name=boot\n');
  await assert.rejects(manager().applyBootPolicy(boot, me), /boot policy .*boot\.pol:1:/);
});

test('who may use the control socket: root; the admin group (primary or supplementary, from /proc); nobody else', () => {
  const mine = { pid: process.pid, uid: 1000, gid: 4242 };
  assert.equal(authorized({ ...mine, uid: 0 }, undefined), true);
  assert.equal(authorized(mine, undefined), false, 'no admin group: root only');
  assert.equal(authorized(mine, 4242), true, 'primary group');
  assert.equal(authorized(mine, 987654), false);
  // Supplementary groups come from /proc/PID/status of the peer: a real process with one.
  if (process.getuid?.() === 0) {
    const peer = spawn('setpriv', ['--reuid', '1000', '--regid', '1000', '--groups', '4243', 'sleep', '10'], { stdio: 'ignore' });
    try {
      let groups = '';
      for (let i = 0; i < 100 && !groups.includes('4243'); i++) {
        spawnSync('sleep', ['0.05']);
        groups = readFileSync(`/proc/${peer.pid}/status`, 'utf8');
      }
      assert.equal(authorized({ pid: peer.pid!, uid: 1000, gid: 1000 }, 4243), true, 'supplementary group');
      assert.equal(authorized({ pid: peer.pid!, uid: 1000, gid: 1000 }, 4244), false);
    } finally {
      peer.kill('SIGKILL');
    }
  }
  assert.equal(groupId('0'), 0);
  assert.equal(groupId('root'), 0);
  assert.equal(groupId('no-such-group-ward'), undefined);
});

test('concurrent changes are handled one at a time: the backend never holds a policy the store refused (no kernel: a recording admit)', async () => {
  // Two loads of one name sent at once. Each is checked against the store, admitted by the
  // backend (the kernel's IPE in production: it would now hold that text), then written. Run
  // interleaved, both passed the check before either was written: the backend took both, the
  // store only the first — the kernel enforcing a text ward does not show.
  const st = PolicyState.open(join(dir, 'state'), { enforce: true, auditSuccess: false });
  assert.ok(st.ok);
  const admitted: string[] = [];
  const m = new Manager(st.value, { trustedCerts: [], requireSigned: false }, {
    activePolicy: async () => {},
    mode: async () => {},
    audit: () => {},
    status: () => ({ backend: 'test' }),
    admit: async (p) => void admitted.push(Buffer.from(p.text).toString()),
  });
  const a = pol('same', '1.0.0', 'DEFAULT action=ALLOW');
  const b = pol('same', '1.0.0', 'DEFAULT action=DENY');
  const [ra, rb] = await Promise.all([m.handle({ verb: 'load', text: b64(a) }, me), m.handle({ verb: 'load', text: b64(b) }, me)]);
  assert.deepEqual([ra.ok, rb.ok, (rb as { errno?: string }).errno], [true, false, 'EEXIST']);
  assert.deepEqual(admitted, [a], 'only the load the store took reached the backend');
  // And the store's text is the one the backend holds.
  assert.equal(Buffer.from(st.value.store.policies.get('same')!.text).toString(), a);
});
