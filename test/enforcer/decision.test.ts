// The event decision without fanotify or root: Decider on files this test writes, against
// digests from Debian's `fsverity digest` (an independent tool); the writer check against real
// writers (another fd, a shared-writable mapping, a process opening for writing mid-decision);
// digest jobs with deadlines; the fanotify record decoding on hand-built records.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, linkSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requires } from '../helpers/kernel.ts';
import { Decider, activePolicy, type Verdict } from '../../src/enforcer/decision.ts';
import { runDigestJob } from '../../src/enforcer/digester.ts';
import { decodeEvents, FAN_EVENT_METADATA_LEN, FAN_OPEN_EXEC_PERM } from '../../src/kernel/fanotify.ts';
import { parsePolicy } from '../../src/policy/parser.ts';
import { PropertyReader } from '../../src/properties/context.ts';
import { identityOfFd } from '../../src/properties/identity.ts';

const HAVE_TOOL = spawnSync('fsverity', ['--version']).status === 0;
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ward-decision-'));
  // A lease break signals the lease holder (fs/locks.c lease_break_callback): as the daemon does.
  process.on('SIGIO', () => {});
});
after(() => rmSync(dir, { recursive: true, force: true }));

const fsverity = (p: string) => execFileSync('fsverity', ['digest', '--hash-alg', 'sha256', p], { encoding: 'utf8' }).split(' ')[0]!;
function policy(text: string) {
  const r = parsePolicy(Buffer.from(text));
  assert.ok(r.ok);
  return r.value;
}
function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
function decideFile(d: Decider, path: string, hook: 'BPRM_CHECK' | 'MMAP' = 'BPRM_CHECK'): Verdict {
  const fd = openSync(path, 'r');
  try {
    return d.decide(fd, hook);
  } finally {
    d.release(fd);
    closeSync(fd);
  }
}
const action = (v: Verdict) => (v.kind === 'decided' ? [v.decision.action, v.reason ?? null, v.cached] : ['digest']);

test('no policy allows; digests decide, are cached by identity, and a changed file is decided again', (t) => {
  if (!requires(t, HAVE_TOOL, 'fsverity-utils (scripts/test-deps.sh)')) return;
  const good = file('good', 'good content');
  const bad = file('bad', 'bad content');
  const d = new Decider({ inlineDigestBytes: 1 << 20 });
  assert.deepEqual(action(decideFile(d, bad)), ['ALLOW', null, false], 'no active policy: everything is allowed');
  d.setPolicy(activePolicy(policy(`policy_name=p policy_version=1.0.0\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\nop=EXECUTE fsverity_digest=${fsverity(good)} action=ALLOW\n`), 1));
  assert.deepEqual(action(decideFile(d, good)), ['ALLOW', null, false]);
  assert.deepEqual(action(decideFile(d, good)), ['ALLOW', null, true], 'the second decision comes from the cache');
  const v = decideFile(d, bad);
  assert.ok(v.kind === 'decided' && v.decision.default?.line === 3, 'the op default decided');
  appendFileSync(good, '!');
  assert.deepEqual(action(decideFile(d, good)), ['DENY', null, false], 'a changed file is not served from the cache');
  d.setPolicy(activePolicy(policy('policy_name=p policy_version=2.0.0\nDEFAULT action=ALLOW\n'), 2));
  assert.deepEqual(action(decideFile(d, good)), ['ALLOW', null, false], 'a new generation starts a new cache');
});

test('writers: an exec of a file open for writing or mapped shared-writable is refused; a library is decided uncached', (t) => {
  if (!requires(t, HAVE_TOOL, 'fsverity-utils')) return;
  const f = file('held', 'content');
  const d = new Decider({ inlineDigestBytes: 1 << 20 });
  d.setPolicy(activePolicy(policy(`policy_name=p policy_version=1.0.0\nDEFAULT action=DENY\nop=EXECUTE fsverity_digest=${fsverity(f)} action=ALLOW\n`), 1));
  assert.deepEqual(action(decideFile(d, f)), ['ALLOW', null, false]);
  const w = openSync(f, 'r+');
  try {
    assert.deepEqual(action(decideFile(d, f)), ['DENY', 'open_for_write', false]);
    assert.deepEqual(action(decideFile(d, f, 'MMAP')), ['ALLOW', null, false], 'a library: decided on its content, not from the cache');
    assert.deepEqual(action(decideFile(d, f, 'MMAP')), ['ALLOW', null, false], 'and never cached while writers exist');
  } finally {
    closeSync(w);
  }
  assert.deepEqual(action(decideFile(d, f)), ['ALLOW', null, true]);
  // A shared writable mapping outlives its fd (python3: Node cannot mmap).
  const holder = spawn('python3', ['-c', `import os, mmap, time\nfd = os.open(${JSON.stringify(f)}, os.O_RDWR)\nm = mmap.mmap(fd, 7, mmap.MAP_SHARED, mmap.PROT_WRITE)\nos.close(fd)\nprint('ready', flush=True)\ntime.sleep(30)`], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise<void>((resolve, reject) => {
    holder.stdout!.once('data', () => {
      try {
        assert.deepEqual(action(decideFile(d, f)), ['DENY', 'open_for_write', false]);
        resolve();
      } catch (e) {
        reject(e);
      } finally {
        holder.kill('SIGKILL');
      }
    });
  });
});

/** A 100 kB file (over the inline digest limit: its digest is handed off) and a Decider whose policy allows exactly it. */
function bigFileDecider(name: string, fill: string): { big: string; d: Decider } {
  const big = file(name, fill.repeat(100_000));
  const d = new Decider({ inlineDigestBytes: 4096 });
  d.setPolicy(activePolicy(policy(`policy_name=p policy_version=1.0.0\nDEFAULT action=DENY\nop=EXECUTE fsverity_digest=${fsverity(big)} action=ALLOW\n`), 1));
  return { big, d };
}

test('big files are handed off; the digest job honours its deadline; the result completes the decision', (t) => {
  if (!requires(t, HAVE_TOOL, 'fsverity-utils')) return;
  const { big, d } = bigFileDecider('big', 'x');
  const fd = openSync(big, 'r');
  try {
    const v = d.decide(fd, 'BPRM_CHECK');
    assert.equal(v.kind, 'digest');
    const identity = identityOfFd(fd);
    const late = runDigestJob(new PropertyReader(), { type: 'job', job: 1, fd, identity, deadline: Date.now() - 1 });
    assert.deepEqual(late, { type: 'digest', job: 1, error: 'timeout' });
    const r = runDigestJob(new PropertyReader(), { type: 'job', job: 2, fd, identity, deadline: Date.now() + 60_000 });
    assert.ok('digest' in r);
    assert.equal(r.digest, fsverity(big));
    assert.deepEqual(action(d.withDigest(fd, identity, r.digest, 'BPRM_CHECK')), ['ALLOW', null, false]);
  } finally {
    d.release(fd);
    closeSync(fd);
  }
  // A digest of older content never decides the file as it is now.
  const fd2 = openSync(big, 'r');
  try {
    const v = d.decide(fd2, 'BPRM_CHECK');
    assert.ok(v.kind === 'decided' && v.cached, 'cached after the first decision');
    // The identity and digest of the content as it was when the decision began.
    const before = identityOfFd(fd2);
    const oldDigest = fsverity(big);
    // (Our own write would wait for our own lease: release it first.)
    d.release(fd2);
    appendFileSync(big, 'y');
    assert.deepEqual(action(d.withDigest(fd2, before, oldDigest, 'BPRM_CHECK')), ['DENY', 'changed_during_decision', false]);
  } finally {
    d.release(fd2);
    closeSync(fd2);
  }
  // A huge sparse file: hashing stops at the deadline.
  const huge = join(dir, 'huge');
  writeFileSync(huge, '');
  truncateSync(huge, 64 * 1024 ** 3);
  const hf = openSync(huge, 'r');
  try {
    const r = runDigestJob(new PropertyReader(), { type: 'job', job: 3, fd: hf, identity: identityOfFd(hf), deadline: Date.now() + 200 });
    assert.deepEqual(r, { type: 'digest', job: 3, error: 'timeout' });
  } finally {
    closeSync(hf);
  }
});

test('a link made or removed while a file is decided (dpkg backs up and renames over during an upgrade) changes only its ctime: still allowed', (t) => {
  if (!requires(t, HAVE_TOOL, 'fsverity-utils')) return;
  const { big, d } = bigFileDecider('linked', 'z');
  const fd = openSync(big, 'r');
  try {
    const v = d.decide(fd, 'BPRM_CHECK');
    assert.equal(v.kind, 'digest');
    assert.ok(d.holdsLease(fd), 'the lease is what vouches for the content meanwhile');
    const identity = identityOfFd(fd);
    // The upgrade's hardlink backup: the inode's link count, and so its ctime, change; its content does not.
    linkSync(big, `${big}.dpkg-tmp`);
    assert.notEqual(identityOfFd(fd).ctimeNs, identity.ctimeNs, 'the link moved the ctime (the oracle: the kernel)');
    const r = runDigestJob(new PropertyReader(), { type: 'job', job: 1, fd, identity, deadline: Date.now() + 60_000 });
    assert.ok('digest' in r);
    // Before: DENY changed_during_decision, and the exec failed in the middle of an upgrade.
    assert.deepEqual(action(d.withDigest(fd, identity, r.digest, 'BPRM_CHECK')), ['ALLOW', null, false]);
  } finally {
    d.release(fd);
    closeSync(fd);
  }
});

test('a process opening the file for writing while it is being decided breaks the lease: refused', async (t) => {
  if (!requires(t, HAVE_TOOL, 'fsverity-utils')) return;
  const f = file('racing', 'y'.repeat(100_000));
  const d = new Decider({ inlineDigestBytes: 4096 });
  d.setPolicy(activePolicy(policy(`policy_name=p policy_version=1.0.0\nDEFAULT action=DENY\nop=EXECUTE fsverity_digest=${fsverity(f)} action=ALLOW\n`), 1));
  const fd = openSync(f, 'r');
  const v = d.decide(fd, 'BPRM_CHECK');
  assert.equal(v.kind, 'digest', 'the lease is held while the digest is computed elsewhere');
  // The writer's open waits for our lease (up to lease-break-time) and breaks it.
  const writer = spawn('sh', ['-c', `echo changed >> ${f}; echo written`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let written = false;
  writer.stdout!.on('data', () => (written = true));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(written, false, 'the writer waits while ward decides');
  const digest = fsverity(f);
  assert.deepEqual(action(d.withDigest(fd, identityOfFd(fd), digest, 'BPRM_CHECK')), ['DENY', 'changed_during_decision', false]);
  d.release(fd);
  closeSync(fd);
  // 'close', not 'exit': the writer's output can still be in the pipe when it has exited.
  await new Promise((r) => writer.once('close', r));
  assert.equal(written, true, 'the writer goes on once the lease is released');
});

test('fanotify records: decoded by length, FAN_NOFD overflow notices counted, not returned', () => {
  const rec = (fd: number, pid: number, mask: number, len = FAN_EVENT_METADATA_LEN) => {
    const b = Buffer.alloc(len);
    b.writeUInt32LE(len, 0);
    b.writeUInt8(3, 4);
    b.writeUInt16LE(FAN_EVENT_METADATA_LEN, 6);
    b.writeBigUInt64LE(BigInt(mask), 8);
    b.writeInt32LE(fd, 16);
    b.writeInt32LE(pid, 20);
    return b;
  };
  const buf = Buffer.concat([rec(7, 100, FAN_OPEN_EXEC_PERM), rec(-1, 0, 0x4000), rec(9, 200, FAN_OPEN_EXEC_PERM, 32), Buffer.alloc(10)]);
  const { events, overflows } = decodeEvents(buf, buf.length);
  assert.equal(overflows, 1);
  assert.deepEqual(events.map((e) => [e.fd, e.pid, e.version, e.mask]), [[7, 100, 3, BigInt(FAN_OPEN_EXEC_PERM)], [9, 200, 3, BigInt(FAN_OPEN_EXEC_PERM)]]);
});
