// ABI negotiation is pure: these cases run the real negotiation for every ABI from 0 to 10.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { negotiate, ruleAccess, type SandboxRequest } from '../../src/sandbox/negotiate.ts';
import { ACCESS_GROUPS, FS_RIGHTS, FILE_RIGHTS, bits, namesOf } from '../../src/sandbox/rights.ts';
import { profileToRequest, validateProfile, parseProfileText, mergeProfiles } from '../../src/sandbox/profile.ts';
import { planLayers } from '../../src/sandbox/layers.ts';

const base: SandboxRequest = profileToRequest({ ro: ['/usr'], 'connect-tcp': [443] });

test('auto target: at least ABI 6, the kernel\'s when newer; fully enforced from 6 up', () => {
  for (let abi = 6; abi <= 10; abi++) {
    const r = negotiate(base, abi);
    assert.ok(r.ok);
    if (!r.ok) continue;
    assert.equal(r.value.targetAbi, abi);
    assert.equal(r.value.status, 'fully', `ABI ${abi}`);
    assert.deepEqual(r.value.dropped, []);
  }
});

test('strict refuses below the baseline and says what is missing', () => {
  for (const abi of [0, 1, 3, 5]) {
    const r = negotiate(base, abi);
    assert.equal(r.ok, false, `ABI ${abi}`);
    if (r.ok) continue;
    assert.equal(r.error.code, 'ENOTSUP');
    assert.match(r.error.message, new RegExp(`Landlock ABI ${abi} but the sandbox needs ABI 6`));
    assert.match(r.error.message, /scope signal/);
    assert.match(r.error.message, /--best-effort/);
  }
});

test('best effort drops what the kernel lacks and reports it; ABI 0 is not enforced', () => {
  const r = negotiate({ ...base, compat: 'best-effort' }, 3);
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(r.value.status, 'partially');
  assert.equal(r.value.handledNet, 0n);
  assert.equal(r.value.scoped, 0n);
  assert.deepEqual(namesOf(FS_RIGHTS, r.value.handledFs).includes('truncate'), true);
  assert.ok(r.value.dropped.some((d) => d.startsWith('filesystem right ioctl_dev (ABI 5)')));
  assert.ok(r.value.dropped.some((d) => d.startsWith('network right connect_tcp')));
  assert.deepEqual(r.value.portRules, []);
  const none = negotiate({ ...base, compat: 'best-effort' }, 0);
  assert.ok(none.ok && none.value.status === 'not');
});

test('refer missing (ABI 1) is dropped without weakening: cross-directory moves are then always denied', () => {
  const r = negotiate({ ...profileToRequest({ ro: ['/usr'], 'unrestricted-net': true, 'allow-signals-out': true, 'allow-abstract-unix-out': true }), abi: 1 }, 1);
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(r.value.status, 'fully');
  assert.equal(r.value.targetAbi, 1);
});

test('soft requirement drops the whole sandbox when something is missing', () => {
  const r = negotiate({ ...base, compat: 'soft' }, 5);
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(r.value.status, 'not');
  assert.equal(r.value.handledFs, 0n);
  assert.match(r.value.dropped[0]!, /^the whole sandbox, because the kernel lacks: scope/);
});

test('an explicit --abi raises the requirement (strict fails on a 7 kernel for 10)', () => {
  const r = negotiate({ ...base, abi: 10 }, 7);
  assert.equal(r.ok, false);
  if (!r.ok) assert.match(r.error.message, /resolve_unix.*bind_udp/);
  const low = negotiate({ ...profileToRequest({ ro: ['/'], 'bind-tcp': [80] }), abi: 3 }, 7);
  assert.equal(low.ok, false);
  if (!low.ok) assert.match(low.error.message, /TCP port rules need Landlock ABI 4/);
  assert.equal(negotiate({ ...base, abi: 11 }, 7).ok, false);
});

test('logging flags are best effort at every level (they never weaken a sandbox)', () => {
  const r = negotiate({ ...base, log: ['log_new_exec_on'] }, 6);
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(r.value.status, 'fully');
  assert.equal(r.value.restrictFlags, 0);
  assert.match(r.value.dropped[0]!, /logging flag log_new_exec_on/);
  const on7 = negotiate({ ...base, log: ['log_new_exec_on'] }, 7);
  assert.ok(on7.ok && on7.value.restrictFlags === 2);
});

test('rule rights are masked to the handled set, and to file rights on a file', () => {
  const handled = bits(FS_RIGHTS, ['read_file', 'read_dir', 'execute', 'write_file']);
  assert.equal(ruleAccess(ACCESS_GROUPS.rw, true, handled), bits(FS_RIGHTS, ['read_file', 'read_dir', 'write_file']));
  assert.equal(ruleAccess(ACCESS_GROUPS.rwx, false, handled), bits(FS_RIGHTS, ['read_file', 'execute', 'write_file']));
  assert.equal(ruleAccess(ACCESS_GROUPS.rw, false, ~0n) & ~FILE_RIGHTS, 0n);
  assert.equal(ACCESS_GROUPS.rw & bits(FS_RIGHTS, ['refer']), 0n, 'refer must be asked for explicitly');
});

test('profiles: validated with the field named; unknown fields suggest the right one', () => {
  const cases: Array<[unknown, RegExp]> = [
    [[], /p\.json: must be a JSON object, e\.g\. \{"ro"/],
    [{ ro: '/usr' }, /field "ro" must be an array of paths, got "\/usr"/],
    [{ ro: [''] }, /field "ro\[0\]" must be a non-empty path/],
    [{ 'connect-tcp': [443, 70000] }, /field "connect-tcp\[1\]" must be a port number 0-65535, got 70000/],
    [{ 'bind_tcp': [80] }, /unknown field "bind_tcp"; known fields: ro, .*; did you mean "bind-tcp"\?/],
    [{ compat: 'lenient' }, /field "compat" must be one of "strict", "best-effort", "soft"/],
    [{ 'add-libs': 'yes' }, /field "add-libs" must be true or false/],
    [{ env: ['=NONAME'] }, /field "env\[0\]" must be "NAME" \(pass it through\) or "NAME=value"/],
    [{ abi: 0 }, /field "abi"/],
    [{ 'keep-env': true, 'clear-env': true }, /"keep-env" and "clear-env" exclude each other/],
    [{ log: ['tsync'] }, /field "log\[0\]"/],
  ];
  for (const [doc, re] of cases) {
    const r = validateProfile(doc, 'p.json');
    assert.equal(r.ok, false, JSON.stringify(doc));
    if (!r.ok) assert.match(r.error.message, re);
  }
  const bad = parseProfileText('{"ro": [', 'p.json');
  assert.ok(!bad.ok && /p\.json: not valid JSON/.test(bad.error.message));
  assert.deepEqual(mergeProfiles({ ro: ['/a'], compat: 'soft' }, { ro: ['/b'], compat: 'strict' }), { ro: ['/a', '/b'], compat: 'strict' });
});

test('fuzz: the profile validator answers any JSON value with ok or a typed error', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.dictionary(fc.constantFrom('ro', 'rw', 'bind-tcp', 'compat', 'env', 'abi', 'log', 'add-libs', 'x'), fc.jsonValue()), (v, d) => {
      for (const doc of [v, d]) {
        const r = validateProfile(doc);
        if (!r.ok) assert.equal(r.error.code, 'EINVAL');
        else negotiate(profileToRequest(r.value), 7);
      }
    }),
    { numRuns: 5000 },
  );
});

test('unix sockets and UDP at ABIs this kernel may lack: --unix through Landlock on ABI 9, --allow-unix-sockets and --allow-udp leave them unhandled', () => {
  // Pure: the plan for a kernel with ABI 10.
  const withUnix = negotiate(profileToRequest({ unix: ['/run/app.sock'] }), 10);
  assert.ok(withUnix.ok);
  const resolveUnix = 1n << 16n;
  assert.equal(withUnix.value.handledFs & resolveUnix, resolveUnix, 'ABI 9+ handles resolve_unix');
  assert.deepEqual(withUnix.value.pathRules.map((r) => [r.path, r.access]), [['/run/app.sock', resolveUnix]]);
  const layers = planLayers({ unix: ['/run/app.sock'] }, withUnix.value);
  assert.equal(layers.seccomp.unixSockets, true, 'seccomp lets sockets be created; Landlock limits them to the path');
  const all = negotiate(profileToRequest({ 'allow-unix-sockets': true }), 10);
  assert.ok(all.ok);
  assert.equal(all.value.handledFs & resolveUnix, 0n);
  const udp = negotiate(profileToRequest({ 'allow-udp': true }), 10);
  assert.ok(udp.ok);
  assert.equal(udp.value.handledNet & 12n, 0n, 'UDP rights not handled with --allow-udp');
  assert.equal(negotiate(profileToRequest({}), 10).ok && (negotiate(profileToRequest({}), 10) as { value: { handledNet: bigint } }).value.handledNet & 12n, 12n);
  // On ABI 7, --unix cannot be limited to its path: strict refuses, best effort widens and warns.
  const seven = negotiate(profileToRequest({ unix: ['/run/app.sock'] }), 7);
  assert.ok(seven.ok);
  assert.throws(() => planLayers({ unix: ['/run/app.sock'] }, seven.value), /cannot limit connecting to one unix socket \(that needs ABI 9\)/);
  assert.match(planLayers({ unix: ['/run/app.sock'], compat: 'best-effort' }, seven.value).warnings.join(), /every pathname unix socket/);
});
