// npm run bench:policy — parse time and decisions/s of the reference vs compiled evaluator
// for policies of 10, 1 000 and 100 000 rules (digest rules behind a few boolean rules);
// `ward policy check` of 10 vs 100 000 rules as whole processes; `ward policy generate
// --from-dpkg` on this host against the same hashing done by md5sum + fsverity-utils, and
// against fapolicyd's Debian trust backend (scripts/bench-deps/fapolicyd-debdb.sh builds it).

import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompiledPolicy, StaticFileContext, evaluate, parsePolicyOrThrow, type FileContext } from '../src/policy/index.ts';
import { countDebdb, debdbPeer, dpkgMd5sumPaths, runDebdb } from './lib/fapolicyd-debdb.ts';
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
// md5sum (dpkg's record, as debsums checks it) and fsverity digest over the same files;
// and against fapolicyd's own Debian trust backend (trust = debdb), which builds its trust
// database from dpkg's records too, in the same interleaved rounds.
const genRows: Array<Array<string | number>> = [];
const debdbRows: Array<Array<string | number>> = [];
const debdbNotes: string[] = [];
let genNote = 'no dpkg database here: generation not measured.';
if (existsSync('/var/lib/dpkg/status')) {
  type Summary = { files: number; rules: number; packages: number; bytes: number; skipped: unknown[] };
  const policyPaths = (file: string) => readFileSync(file, 'utf8').split('\n').flatMap((l) => /^# (?:\S+(?:, \S+)*: )?(\/.*)$/.exec(l)?.[1] ?? []);
  const genWith = (out: string, extra: string[]) => () => {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [WARD, 'policy', 'generate', '--from-dpkg', ...extra, '-o', out, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0 && r.status !== 1) throw new Error(`generate: ${r.stderr}`);
    return { ms: Number(process.hrtime.bigint() - t) / 1e6, s: JSON.parse(r.stdout) as Summary };
  };
  const out = join(dir, 'dpkg.pol');
  const outLib = join(dir, 'dpkg-lib.pol');
  const gen = genWith(out, []);
  const genLib = genWith(outLib, ['--libraries']);
  gen(); // warm the page cache: every run below reads from memory
  const policyFiles = policyPaths(out);
  const list = join(dir, 'files.list');
  writeFileSync(list, policyFiles.join('\0'));
  const tool = (cmd: string) => {
    const t = process.hrtime.bigint();
    const r = spawnSync('bash', ['-c', `xargs -0 -n 256 ${cmd} < ${list} > /dev/null`]);
    if (r.status !== 0) throw new Error(`${cmd}: exit ${r.status}`);
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  const haveFsverity = spawnSync('fsverity', ['--version']).status === 0;
  const peer = debdbPeer();
  const debdb = 'bin' in peer ? peer : undefined;
  const dbDir = join(dir, 'fapolicyd-db');
  if (debdb) {
    genLib(); // warm: the shared objects too
    runDebdb(debdb.bin, dbDir); // warm: every file dpkg has an MD5 for
  }
  // Interleaved rounds, so a change in the machine's load falls on all of them alike.
  const runs: Array<ReturnType<typeof gen>> = [];
  const libRuns: Array<ReturnType<typeof gen>> = [];
  const md5Runs: number[] = [];
  const verityRuns: number[] = [];
  const debdbRuns: Array<ReturnType<typeof runDebdb>> = [];
  const cpuOf = { gen: 0, genLib: 0, md5: 0, verity: 0, debdb: 0 };
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
    if (debdb) {
      libRuns.push(timed('genLib', genLib));
      debdbRuns.push(timed('debdb', () => runDebdb(debdb.bin, dbDir)));
    }
  }
  // Counts from the last round: the policy files, dpkg's records and debdb's database are read
  // after it, so all describe the same state of a host whose packages may change meanwhile.
  const g = runs.at(-1)!.s;
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
  genNote = `the peers do the same hashing as ward with standard tools over the same file list. This host: ${g.files.toLocaleString('en-US')} executables from ${g.packages} packages, ${mib.toFixed(0)} MiB, ${g.rules.toLocaleString('en-US')} rules (identical contents share one), ${g.skipped.length} files left out as modified (they do not match dpkg's record). Page cache warm; medians of 3 interleaved rounds.`;
  verdicts.push(
    haveFsverity
      ? `generate --from-dpkg (both hashes, verified, written) takes ${(genMs / (md5Ms + verityMs)).toFixed(2)}× the time of md5sum + fsverity digest of the same files`
      : 'generate --from-dpkg: fsverity-utils missing, no peer time',
  );
  if (debdb) {
    const db = countDebdb(debdb.bin, dbDir, join(dir, 'debdb.list'));
    const listed = dpkgMd5sumPaths();
    const inListed = [...db.paths].filter((f) => listed.has(f)).length;
    const l = libRuns.at(-1)!.s;
    const libFiles = policyPaths(outLib);
    const exeFiles = policyPaths(out);
    const libMs = median(libRuns.map((r) => r.ms));
    const dbMs = median(debdbRuns.map((r) => r.ms));
    const dbMib = db.bytes / 2 ** 20;
    const libMib = l.bytes / 2 ** 20;
    const row = (what: string, files: number, m: number, ms: number, cpu: number) =>
      [what, files.toLocaleString('en-US'), m.toFixed(0), ms.toFixed(0), cpu.toFixed(0), (m / (ms / 1000)).toFixed(0), `${(ms / genMs).toFixed(2)}×`];
    debdbRows.push(row('ward policy generate --from-dpkg (executables; both cores)', g.files, mib, genMs, cpuOf.gen));
    debdbRows.push(row('ward policy generate --from-dpkg --libraries (+ shared objects)', l.files, libMib, libMs, cpuOf.genLib));
    debdbRows.push(row(`fapolicyd ${debdb.version} trust=debdb (every file with an MD5; one thread)`, db.entries, dbMib, dbMs, cpuOf.debdb));
    // Where ward trusts a file debdb does not: dpkg keeps no md5sums line for it.
    const outside = (files: string[]) => {
      const miss = files.filter((f) => !db.paths.has(f));
      const etc = miss.filter((f) => f.startsWith('/etc/')).length;
      const maint = miss.filter((f) => f.startsWith('/var/lib/dpkg/info/')).length;
      return { inDb: files.length - miss.length, miss: miss.length, etc, maint, other: miss.length - etc - maint };
    };
    const ex = outside(exeFiles);
    const lib = outside(libFiles);
    const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)}%`;
    debdbNotes.push(
      `fapolicyd's own Debian trust backend, built from Debian's fapolicyd ${debdb.version} source (\`--with-deb\`; Debian 12's 1.1.7 has no such backend) by scripts/bench-deps/fapolicyd-debdb.sh, timed as the daemon's trust-database build (libdpkg reads the package database and each package's md5sums; for each listed file: open, MD5 of the whole file checked against dpkg's, SHA-256 of the whole file, then one LMDB write per entry) run without the daemon, so no fanotify listener. Its database holds the SHA-256 and size of the file, not an fs-verity digest.`,
      `Files covered: dpkg records an MD5 for ${listed.size.toLocaleString('en-US')} paths; debdb's database holds ${db.entries.toLocaleString('en-US')} paths, ${inListed.toLocaleString('en-US')} of them among those (${pct(inListed, listed.size)} of dpkg's; ${debdbRuns.at(-1)!.mismatches.toLocaleString('en-US')} were left out as modified, the other ${(listed.size - inListed - debdbRuns.at(-1)!.mismatches).toLocaleString('en-US')} are missing, symlinks or not regular files), executables or not. ward trusts what can be executed: ${g.files.toLocaleString('en-US')} executables (${pct(g.files, db.entries)} of debdb's count), ${l.files.toLocaleString('en-US')} with --libraries (${pct(l.files, db.entries)}).`,
      `Of ward's ${g.files.toLocaleString('en-US')} executables ${ex.inDb.toLocaleString('en-US')} are in debdb's database; the other ${ex.miss} have no md5sums line, so debdb does not trust them: ${ex.etc} executable conffiles under /etc (init scripts, cron jobs; dpkg keeps their hashes in its status file), ${ex.maint} maintainer scripts under /var/lib/dpkg/info, ${ex.other} other (e.g. diverted files). With --libraries: ${lib.inDb.toLocaleString('en-US')} of ${l.files.toLocaleString('en-US')} in debdb's database.`,
    );
    verdicts.push(
      `generate --from-dpkg takes ${(genMs / dbMs).toFixed(2)}× the time of fapolicyd's debdb build (${(libMs / dbMs).toFixed(2)}× with --libraries) and trusts ${pct(g.files, db.entries)} (${pct(l.files, db.entries)}) as many files; per MiB hashed, ward ${(mib / (genMs / 1000)).toFixed(0)} MiB/s, debdb ${(dbMib / (dbMs / 1000)).toFixed(0)} MiB/s`,
    );
  } else {
    debdbNotes.push(`fapolicyd's own Debian trust backend (trust=debdb): ${'missing' in peer ? peer.missing : ''}.`);
  }
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
  ...debdbNotes.flatMap((n) => [n, '']),
  debdbRows.length ? table(['what', 'files trusted', 'MiB hashed', 'wall ms (median)', 'CPU ms (mean)', 'MiB/s', 'time × ward'], debdbRows) + '\n' : '',
  ...verdicts.map((v) => `- ${v}`),
].join('\n');
console.log(body);
writeSection('Policy engine (`npm run bench:policy`)', body);
