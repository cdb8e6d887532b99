// The event thread's bookkeeping, without fanotify: digest waits meet their deadlines once and
// free nothing early; a policy switch waits for decisions in flight, compiles the newest policy
// and acknowledges every generation sent. (The thread end to end: daemon.test.ts, decision.test.ts.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, receiveMessageOnPort, type MessagePort as WorkerPort } from 'node:worker_threads';
import { DigestWaits, type DigestWait } from '../../src/enforcer/digest-waits.ts';
import { Decider } from '../../src/enforcer/decision.ts';
import { PolicySwitch } from '../../src/enforcer/policy-switch.ts';
import type { FileIdentity } from '../../src/properties/identity.ts';

const identity = { key: 'k' } as unknown as FileIdentity;
const ev = (fd: number) => ({ version: 3, mask: 0n, fd, pid: 1 });
const messages = (port: WorkerPort) => {
  const out: unknown[] = [];
  for (let m; (m = receiveMessageOnPort(port)); ) out.push(m.message);
  return out;
};

test('digest waits: each job is sent with its deadline, expires once, and is taken by its reply', () => {
  const { port1, port2 } = new MessageChannel();
  try {
    const waits = new DigestWaits(port1, 1000);
    const before = Date.now();
    waits.send(ev(10), 'BPRM_CHECK', identity);
    waits.send(ev(11), 'MMAP', identity);
    const sent = messages(port2) as Array<{ type: string; job: number; fd: number; deadline: number }>;
    assert.deepEqual(sent.map((m) => [m.type, m.job, m.fd]), [['job', 1, 10], ['job', 2, 11]]);
    assert.ok(sent.every((m) => m.deadline >= before + 1000));
    assert.equal(waits.size, 2);
    assert.ok(waits.unanswered());

    const late: number[] = [];
    const onLate = (w: DigestWait) => late.push(w.ev.fd);
    waits.expire(sent[0]!.deadline, onLate); // at the deadline: not late yet
    assert.deepEqual(late, []);
    waits.expire(sent[1]!.deadline + 1, onLate);
    waits.expire(sent[1]!.deadline + 2, onLate); // answered ones are not answered again
    assert.deepEqual(late.sort(), [10, 11]);
    assert.ok(!waits.unanswered());
    assert.equal(waits.size, 2, 'an expired wait keeps its fd until the reply');

    assert.equal(waits.take(1)?.ev.fd, 10);
    assert.equal(waits.take(1), undefined, 'a reply is taken once');
    assert.equal(waits.take(99), undefined);
    const left: number[] = [];
    waits.stop((w) => left.push(w.ev.fd));
    assert.deepEqual(left, [11]);
    assert.deepEqual(messages(port2), [{ type: 'stop' }]);
    assert.equal(waits.size, 0);
  } finally {
    port1.close();
  }
});

test('policy switch: waits while decisions are out, installs the newest, acknowledges each generation', () => {
  const decider = new Decider({ inlineDigestBytes: 0 });
  let busy = false;
  const acked: number[] = [];
  const sw = new PolicySwitch(decider, () => busy, (g) => acked.push(g));
  sw.install({ type: 'policy', text: null, generation: 0 });
  assert.equal(decider.policy.generation, 0);
  assert.equal(sw.step(), false, 'nothing queued');

  const text = (v: string) => new TextEncoder().encode(`policy_name=p policy_version=${v}\nDEFAULT action=ALLOW\n`);
  sw.offer({ type: 'policy', text: text('0.0.1'), generation: 1 });
  sw.offer({ type: 'policy', text: text('0.0.2'), generation: 2 });
  busy = true;
  assert.equal(sw.step(), true, 'a decision is out: the switch waits');
  assert.equal(decider.policy.generation, 0);
  assert.deepEqual(acked, []);
  busy = false;
  assert.equal(sw.step(), false);
  assert.deepEqual([decider.policy.generation, decider.policy.version], [2, '0.0.2']);
  assert.deepEqual(acked, [1, 2]);
  assert.equal(sw.step(), false, 'the queue is empty again');
  assert.throws(() => sw.install({ type: 'policy', text: new TextEncoder().encode('nonsense'), generation: 3 }), /does not parse/);
});
