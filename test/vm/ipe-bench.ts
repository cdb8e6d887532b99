// The large IPE parser differential (≥ 100,000 policies), in three steps so the slow guest
// only does what needs the kernel:
//   host:  node test/vm/ipe-bench.ts prepare --count N --seed S --dir D   (ward's answers, signed blobs)
//   guest: node test/vm/ipe-bench.ts kernel --dir D --from I --to J       (the kernel's answers)
//   host:  node test/vm/ipe-bench.ts report --dir D                      (agreement; JSON on stdout)
// scripts/vm/ipe-bench.sh runs them and writes the figures into docs/kernels.md.

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpus, Differential, wardOutcome } from './ipe-differential.ts';
import { loadSigner, signPkcs7 } from './pkcs7.ts';

const arg = (name: string, dflt?: string): string => {
  const i = process.argv.indexOf(name);
  if (i >= 0) return process.argv[i + 1]!;
  if (dflt === undefined) throw new Error(`missing ${name}`);
  return dflt;
};
const dir = arg('--dir');

interface Prepared {
  kind: string;
  label: string;
  ward: string;
  wardLoaded?: string;
  text: string;
}

function prepare(): void {
  const count = Number(arg('--count'));
  const seed = Number(arg('--seed', '1'));
  const signer = loadSigner(arg('--key'), arg('--cert'));
  const cases = corpus(count, seed);
  const meta: Prepared[] = [];
  const blobs: Buffer[] = [];
  for (const c of cases) {
    const w = wardOutcome(c.bytes);
    meta.push({ kind: c.kind, label: c.label, ward: w.errno, wardLoaded: w.loaded, text: c.bytes.toString('latin1') });
    const blob = signPkcs7(c.bytes, signer);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(blob.length);
    blobs.push(head, blob);
  }
  writeFileSync(join(dir, 'cases.json'), JSON.stringify({ count, seed, cases: meta }));
  writeFileSync(join(dir, 'blobs.bin'), Buffer.concat(blobs));
  process.stdout.write(`${cases.length}\n`);
}

function kernel(): void {
  const from = Number(arg('--from'));
  const to = Number(arg('--to'));
  const blobs = readFileSync(join(dir, 'blobs.bin'));
  const d = new Differential(process.env.WARD_VM_IPE_KEY!, process.env.WARD_VM_IPE_CERT!);
  const out: string[] = [];
  let at = 0;
  for (let i = 0; i < to && at < blobs.length; i++) {
    const n = blobs.readUInt32LE(at);
    const blob = blobs.subarray(at + 4, at + 4 + n);
    at += 4 + n;
    if (i < from) continue;
    const k = d.kernel(blob);
    out.push(JSON.stringify([i, k.errno, k.loaded]));
  }
  d.close();
  // Standard output: what the guest writes to files stays in the guest.
  process.stdout.write(out.join('\n') + '\n');
}

function report(): void {
  const { count, seed, cases } = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8')) as { count: number; seed: number; cases: Prepared[] };
  const kernelOut = new Map<number, [string, string | undefined]>();
  for (const f of readdirSync(dir).filter((f) => f.startsWith('kernel-') && f.endsWith('.jsonl'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean)) {
      const [i, errno, loaded] = JSON.parse(line) as [number, string, string | undefined];
      kernelOut.set(i, [errno, loaded]);
    }
  }
  const byKind: Record<string, { total: number; agreed: number; accepted: number }> = {};
  const byErrno: Record<string, number> = {};
  const disagreements: unknown[] = [];
  let agreed = 0;
  cases.forEach((c, i) => {
    const k = kernelOut.get(i);
    if (!k) return;
    const s = (byKind[c.kind] ??= { total: 0, agreed: 0, accepted: 0 });
    s.total++;
    byErrno[k[0]] = (byErrno[k[0]] ?? 0) + 1;
    if (k[0] === 'OK') s.accepted++;
    const ok = c.ward === k[0] && (k[0] !== 'OK' || c.wardLoaded === k[1]);
    if (ok) {
      agreed++;
      s.agreed++;
    } else disagreements.push({ ...c, kernel: k[0], kernelLoaded: k[1] });
  });
  process.stdout.write(JSON.stringify({ count, seed, total: kernelOut.size, agreed, byKind, byErrno, disagreements: disagreements.slice(0, 50) }, null, 1) + '\n');
  const docs = process.argv.includes('--docs') ? arg('--docs') : undefined;
  if (!docs) return;
  const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(3)} %`;
  const table = [
    `Measured ${new Date().toISOString().slice(0, 10)}: ${kernelOut.size} policies (seed ${seed}${kernelOut.size < cases.length ? `; ${kernelOut.size} of the ${cases.length} prepared went through the kernel, the rest were not run` : ''}), ward ${agreed} / ${kernelOut.size} in agreement with Linux ${arg('--kernel-release', '6.12')} (${pct(agreed, kernelOut.size)}); the kernel's answers: ${Object.entries(byErrno)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    '| cases | policies | kernel accepted | ward agrees |',
    '|---|---:|---:|---:|',
    ...Object.entries(byKind).map(([k, v]) => `| ${k} | ${v.total} | ${v.accepted} | ${v.agreed} (${pct(v.agreed, v.total)}) |`),
  ].join('\n');
  const text = readFileSync(docs, 'utf8');
  const begin = '<!-- ipe-differential:begin -->';
  const end = '<!-- ipe-differential:end -->';
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${docs}: no ${begin} … ${end} section`);
  writeFileSync(docs, `${text.slice(0, i + begin.length)}\n${table}\n${text.slice(j)}`);
}

const step = process.argv[2];
if (step === 'prepare') prepare();
else if (step === 'kernel') kernel();
else if (step === 'report') report();
else {
  process.stderr.write('usage: ipe-bench.ts prepare|kernel|report --dir DIR …\n');
  process.exit(2);
}
