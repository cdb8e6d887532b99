// npm run bench:policy — parse time and decisions/s of the reference vs compiled evaluator
// for policies of 10, 1 000 and 100 000 rules (digest rules behind a few boolean rules).

import { randomBytes } from 'node:crypto';
import { CompiledPolicy, StaticFileContext, evaluate, parsePolicyOrThrow, type FileContext } from '../src/policy/index.ts';
import { machine, median, rate, table, writeSection } from './lib/report.ts';

function makePolicy(rules: number): { text: Buffer; digests: string[] } {
  const lines = ['policy_name=bench policy_version=1.0.0', 'DEFAULT action=ALLOW', 'DEFAULT op=EXECUTE action=DENY'];
  // A few boolean rules in front: they never match the contexts below, so every decision
  // has to get past them to the digest rules.
  lines.push('op=EXECUTE boot_verified=TRUE dmverity_signature=TRUE action=ALLOW');
  lines.push('op=EXECUTE fsverity_signature=TRUE action=ALLOW');
  lines.push('op=EXECUTE boot_verified=FALSE dmverity_signature=TRUE action=DENY');
  const digests: string[] = [];
  for (let i = 0; i < rules - 3; i++) {
    const d = `sha256:${randomBytes(32).toString('hex')}`;
    digests.push(d);
    lines.push(`op=EXECUTE fsverity_digest=${d} action=${i % 10 === 0 ? 'DENY' : 'ALLOW'}`);
  }
  return { text: Buffer.from(lines.join('\n') + '\n'), digests };
}

function contexts(digests: string[]): FileContext[] {
  const out: FileContext[] = [];
  for (let i = 0; i < 64; i++) {
    // Half hit a listed digest (anywhere in the list), half miss.
    const d = i % 2 === 0 ? digests[Math.floor((i / 64) * digests.length)]! : `sha256:${randomBytes(32).toString('hex')}`;
    out.push(new StaticFileContext({ boot_verified: false, dmverity_signature: false, fsverity_signature: false, fsverity_digest: d }));
  }
  return out;
}

const rows: Array<Array<string | number>> = [];
const verdicts: string[] = [];
for (const size of [10, 1_000, 100_000]) {
  const { text, digests } = makePolicy(size);
  const parseMs = median(
    Array.from({ length: size >= 100_000 ? 5 : 21 }, () => {
      const t = process.hrtime.bigint();
      parsePolicyOrThrow(text);
      return Number(process.hrtime.bigint() - t) / 1e6;
    }),
  );
  const policy = parsePolicyOrThrow(text);
  const t = process.hrtime.bigint();
  const compiled = new CompiledPolicy(policy);
  const compileMs = Number(process.hrtime.bigint() - t) / 1e6;
  const ctxs = contexts(digests);
  // Both evaluators must agree on every context before anything is timed.
  for (const c of ctxs) {
    const a = evaluate(policy, 'EXECUTE', c);
    const b = compiled.decide('EXECUTE', c);
    if (a.action !== b.action || a.rule !== b.rule) throw new Error('evaluators disagree');
  }
  const ref = rate((i) => evaluate(policy, 'EXECUTE', ctxs[i & 63]!), 1000, 64);
  const fast = rate((i) => compiled.decide('EXECUTE', ctxs[i & 63]!), 1000, 64);
  const ratio = fast.perSecond / ref.perSecond;
  rows.push([
    size.toLocaleString('en-US'),
    `${(text.length / 1024).toFixed(0)} KiB`,
    parseMs.toFixed(2),
    compileMs.toFixed(2),
    Math.round(ref.perSecond).toLocaleString('en-US'),
    Math.round(fast.perSecond).toLocaleString('en-US'),
    `${ratio.toFixed(1)}×`,
  ]);
  if (size === 100_000) verdicts.push(`100 000-rule parse ${parseMs.toFixed(0)} ms (target < 1000 ms): ${parseMs < 1000 ? 'met' : 'MISSED'}`);
  verdicts.push(`${size} rules: compiled ${Math.round(fast.perSecond).toLocaleString('en-US')} decisions/s (target ≥ 1 000 000): ${fast.perSecond >= 1e6 ? 'met' : 'MISSED'}`);
  if (size === 100_000) verdicts.push(`100 000 rules: compiled/reference ${ratio.toFixed(0)}× (target ≥ 100×): ${ratio >= 100 ? 'met' : 'MISSED'}`);
}

const body = [
  `Machine: ${machine()}. Run: ${new Date().toISOString().slice(0, 10)}.`,
  '',
  'Policies: 3 boolean rules in front of N−3 `fsverity_digest` rules; contexts: 64 files, half with a listed digest (spread over the list), half unlisted. Decisions are `op=EXECUTE`; both evaluators are checked to agree before timing.',
  '',
  table(['rules', 'size', 'parse ms (median)', 'compile ms', 'reference decisions/s', 'compiled decisions/s', 'compiled / reference'], rows),
  '',
  ...verdicts.map((v) => `- ${v}`),
].join('\n');
console.log(body);
writeSection('Policy engine (`npm run bench:policy`)', body);
