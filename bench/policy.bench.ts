// npm run bench:policy — parse time and decisions/s of the reference vs compiled evaluator
// for policies of 10, 1 000 and 100 000 rules (digest rules behind a few boolean rules);
// `ward policy check` of 10 vs 100 000 rules as whole processes; `ward policy generate
// --from-dpkg` on this host against the same hashing done by md5sum + fsverity-utils.

import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

const loadAtStart = loadavg()[0]!;
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

// --- ward policy check as whole processes: what a user (or the apt hook) waits for.
const WARD = fileURLToPath(new URL('../bin/ward.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ward-bench-policy-'));

/** CPU (user+sys) of reaped children so far, from /proc/self/stat (cutime, cstime; 100 Hz). */
function childCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10;
}

function runWard(args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [WARD, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ward ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const checkRows: Array<Array<string | number>> = [];
const sizes = [10, 100_000];
const files = sizes.map((n) => {
  const f = join(dir, `p${n}.pol`);
  writeFileSync(f, makePolicy(n).text);
  return f;
});
for (const f of files) runWard(['policy', 'check', f]); // warm the page and compile caches
const RUNS = 15;
const wall: number[][] = sizes.map(() => []);
const cpu: number[] = sizes.map(() => 0);
for (let i = 0; i < RUNS; i++) {
  sizes.forEach((_, k) => {
    const c = childCpuMs();
    wall[k]!.push(runWard(['policy', 'check', files[k]!]));
    cpu[k]! += childCpuMs() - c;
  });
}
const wallMs = wall.map(median);
const cpuMs = cpu.map((c) => c / RUNS);
sizes.forEach((n, k) => checkRows.push([n.toLocaleString('en-US'), wallMs[k]!.toFixed(0), cpuMs[k]!.toFixed(0), `${(wallMs[k]! / wallMs[0]!).toFixed(2)}×`, `${(cpuMs[k]! / cpuMs[0]!).toFixed(2)}×`]));
const checkRatio = wallMs[1]! / wallMs[0]!;
verdicts.push(`ward policy check, 100 000 rules / 10 rules as whole processes: ${checkRatio.toFixed(2)}× wall, ${(cpuMs[1]! / cpuMs[0]!).toFixed(2)}× CPU (target ≤ 3×): ${checkRatio <= 3 ? 'met' : 'MISSED'}`);

// --- ward policy generate --from-dpkg against the same work done with standard tools:
// md5sum (dpkg's record, as debsums checks it) and fsverity digest over the same files.
const genRows: Array<Array<string | number>> = [];
let genNote = 'no dpkg database here: generation not measured.';
if (existsSync('/var/lib/dpkg/status')) {
  const out = join(dir, 'dpkg.pol');
  const gen = () => {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [WARD, 'policy', 'generate', '--from-dpkg', '-o', out, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0 && r.status !== 1) throw new Error(`generate: ${r.stderr}`);
    return { ms: Number(process.hrtime.bigint() - t) / 1e6, s: JSON.parse(r.stdout) as { files: number; rules: number; packages: number; bytes: number; skipped: unknown[] } };
  };
  gen(); // warm the page cache: every run below reads from memory
  const policyFiles = readFileSync(out, 'utf8').split('\n').flatMap((l) => /^# (?:\S+(?:, \S+)*: )?(\/.*)$/.exec(l)?.[1] ?? []);
  const list = join(dir, 'files.list');
  writeFileSync(list, policyFiles.join('\0'));
  const tool = (cmd: string) => {
    const t = process.hrtime.bigint();
    const r = spawnSync('bash', ['-c', `xargs -0 -n 256 ${cmd} < ${list} > /dev/null`]);
    if (r.status !== 0) throw new Error(`${cmd}: exit ${r.status}`);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const haveFsverity = spawnSync('fsverity', ['--version']).status === 0;
  // Interleaved rounds, so a change in the machine's load falls on all three alike.
  const runs: Array<ReturnType<typeof gen>> = [];
  const md5Runs: number[] = [];
  const verityRuns: number[] = [];
  const cpuOf = { gen: 0, md5: 0, verity: 0 };
  const timed = <T>(key: keyof typeof cpuOf, fn: () => T): T => {
    const c = childCpuMs();
    const v = fn();
    cpuOf[key] += (childCpuMs() - c) / 3;
    return v;
  };
  for (let i = 0; i < 3; i++) {
    runs.push(timed('gen', gen));
    md5Runs.push(timed('md5', () => tool('md5sum')));
    if (haveFsverity) verityRuns.push(timed('verity', () => tool('fsverity digest')));
  }
  const g = runs[0]!.s;
  const genMs = median(runs.map((r) => r.ms));
  const md5Ms = median(md5Runs);
  const verityMs = haveFsverity ? median(verityRuns) : NaN;
  const mib = g.bytes / 2 ** 20;
  genRows.push(['ward policy generate --from-dpkg (both cores)', genMs.toFixed(0), cpuOf.gen.toFixed(0), (mib / (genMs / 1000)).toFixed(0), '1.00×']);
  genRows.push(['md5sum, one process per 256 files', md5Ms.toFixed(0), cpuOf.md5.toFixed(0), (mib / (md5Ms / 1000)).toFixed(0), `${(md5Ms / genMs).toFixed(2)}×`]);
  if (haveFsverity) {
    genRows.push(['fsverity digest, one process per 256 files', verityMs.toFixed(0), cpuOf.verity.toFixed(0), (mib / (verityMs / 1000)).toFixed(0), `${(verityMs / genMs).toFixed(2)}×`]);
    genRows.push(['md5sum + fsverity digest (the same two hashes, serially)', (md5Ms + verityMs).toFixed(0), (cpuOf.md5 + cpuOf.verity).toFixed(0), (mib / ((md5Ms + verityMs) / 1000)).toFixed(0), `${((md5Ms + verityMs) / genMs).toFixed(2)}×`]);
  }
  genNote = `fapolicyd's own Debian trust backend cannot be the peer: Debian's fapolicyd (1.1.7-5) is built without one (its \`trust=\` backends are \`rpmdb\` and \`file\`; \`debdb\` came later upstream), so the peers do the same hashing with standard tools. This host: ${g.files.toLocaleString('en-US')} executables from ${g.packages} packages, ${mib.toFixed(0)} MiB, ${g.rules.toLocaleString('en-US')} rules (identical contents share one), ${g.skipped.length} files left out as modified (they do not match dpkg's record). Page cache warm; medians of 3 interleaved rounds. The peers hash the same file list.`;
  verdicts.push(
    haveFsverity
      ? `generate --from-dpkg (both hashes, verified, written) takes ${(genMs / (md5Ms + verityMs)).toFixed(2)}× the time of md5sum + fsverity digest of the same files`
      : 'generate --from-dpkg: fsverity-utils missing, no peer time',
  );
}
rmSync(dir, { recursive: true, force: true });

const body = [
  `Machine: ${machine()}. Run: ${new Date().toISOString().slice(0, 10)}. Load average (1 min) ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end: figures from a busy machine are slower, ratios within one run still compare.`,
  '',
  'Policies: 3 boolean rules in front of N−3 `fsverity_digest` rules; contexts: 64 files, half with a listed digest (spread over the list), half unlisted. Decisions are `op=EXECUTE`; both evaluators are checked to agree before timing.',
  '',
  table(['rules', 'size', 'parse ms (median)', 'compile ms', 'reference decisions/s', 'compiled decisions/s', 'compiled / reference'], rows),
  '',
  '`ward policy check` as a whole process (start-up, read, validate, print), 10 vs 100 000 rules, interleaved, median of 15 wall times; CPU is user+sys per run (mean).',
  '',
  table(['rules', 'wall ms (median)', 'CPU ms', 'wall × 10 rules', 'CPU × 10 rules'], checkRows),
  '',
  '`ward policy generate --from-dpkg`: ' + genNote,
  '',
  genRows.length ? table(['what', 'wall ms (median)', 'CPU ms (mean)', 'MiB/s', 'time × ward'], genRows) : '',
  '',
  ...verdicts.map((v) => `- ${v}`),
].join('\n');
console.log(body);
writeSection('Policy engine (`npm run bench:policy`)', body);
