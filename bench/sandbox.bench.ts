// npm run bench:sandbox — launch cost of `ward run … -- /bin/true` against bare /bin/true,
// bubblewrap with a comparable read-only /usr, and `node -e 0` (the floor of any Node launcher);
// and a file-heavy workload inside vs outside the sandbox. ward run here is the default sandbox:
// Landlock plus its own session, dropped capabilities, the seccomp filter, closed fds, clean env.
// All measured in this run.

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, median, table, writeSection } from './lib/report.ts';

const WARD = fileURLToPath(new URL('../bin/ward.js', import.meta.url));
const N = Number(process.env.WARD_BENCH_RUNS ?? 40);

function timeRun(argv: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

if (spawnSync('bwrap', ['--version']).status !== 0) {
  console.error('bench:sandbox needs bubblewrap: WARD_BENCH_DEPS=1 bash scripts/test-deps.sh as root (apt-get install bubblewrap)');
  process.exit(2);
}

// The built package as users install it (bin/ + dist/, no src/: bin/ward.js runs dist/), when
// `npm run build` has made dist/: staged in a temporary directory with this checkout's node_modules.
const REPO = fileURLToPath(new URL('..', import.meta.url));
let staged: string | undefined;
if (existsSync(join(REPO, 'dist/cli/run-fast.js'))) {
  staged = mkdtempSync(join(tmpdir(), 'ward-bench-pkg-'));
  for (const x of ['bin', 'dist', 'package.json']) cpSync(join(REPO, x), join(staged, x), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(staged, 'node_modules'));
  process.on('exit', () => rmSync(staged!, { recursive: true, force: true }));
}

const loadAtStart = loadavg()[0]!.toFixed(1);
const RO_USR = ['--rox', '/usr', '--ro', '/etc/ld.so.cache', '--rw', '/dev/null'];
const BWRAP_USR = ['bwrap', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--symlink', 'usr/bin', '/bin', '--ro-bind', '/etc/ld.so.cache', '/etc/ld.so.cache', '--dev-bind', '/dev/null', '/dev/null'];
const launchers: Record<string, string[]> = {
  'bare /bin/true': ['/bin/true'],
  'node -e 0': [process.execPath, '-e', '0'],
  'ward run --rox /usr … -- /bin/true': [process.execPath, WARD, 'run', ...RO_USR, '--', '/bin/true'],
  ...(staged ? { 'ward run (built package: dist/) --rox /usr … -- /bin/true': [process.execPath, join(staged, 'bin/ward.js'), 'run', ...RO_USR, '--', '/bin/true'] } : {}),
  'bwrap --ro-bind /usr … -- /bin/true': [...BWRAP_USR, '/bin/true'],
};
// Warm-up (page cache, ward's compile cache), then interleave so drift hits all alike.
for (const argv of Object.values(launchers)) for (let i = 0; i < 3; i++) timeRun(argv);
const samples: Record<string, number[]> = Object.fromEntries(Object.keys(launchers).map((k) => [k, []]));
for (let i = 0; i < N; i++) for (const [k, argv] of Object.entries(launchers)) samples[k]!.push(timeRun(argv));
const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<string, number>;
const nodeFloor = med['node -e 0']!;
const bare = med['bare /bin/true']!;

const WORK = 'find /usr -type f -print0 | head -z -n 50000 | xargs -0 cat > /dev/null';
const workloads: Record<string, string[]> = {
  outside: ['/bin/sh', '-c', WORK],
  'inside ward run': [process.execPath, WARD, 'run', ...RO_USR, '--', '/bin/sh', '-c', WORK],
};
for (const argv of Object.values(workloads)) timeRun(argv);
const W = Number(process.env.WARD_BENCH_WORK_RUNS ?? 7);
const work: Record<string, number[]> = { outside: [], 'inside ward run': [] };
for (let i = 0; i < W; i++) for (const [k, argv] of Object.entries(workloads)) work[k]!.push(timeRun(argv));
const wOut = median(work.outside!);
const wIn = median(work['inside ward run']!);
// The workload inside includes ward's own start-up; the sandbox's cost on the work is the rest.
const wardStart = med['ward run --rox /usr … -- /bin/true']! - bare;
const launchRatio = med['ward run --rox /usr … -- /bin/true']! / nodeFloor;
const workRatio = (wIn - wardStart) / wOut;

const load = loadavg().map((x) => x.toFixed(1)).join(' ');
const body = [
  `Machine: ${machine()}. Run: ${new Date().toISOString().slice(0, 10)}. Medians of ${N} interleaved launches after warm-up; workload medians of ${W}. Load average (1 min) ${loadAtStart} at the start; at the end: ${load} (a shared machine: wall-clock ratios move with it).`,
  '',
  table(
    ['launch', 'median ms', '× bare', '× node -e 0'],
    Object.keys(launchers).map((k) => [k, med[k]!.toFixed(2), `${(med[k]! / bare).toFixed(1)}×`, `${(med[k]! / nodeFloor).toFixed(2)}×`]),
  ),
  '',
  table(
    ['workload: `' + WORK + '`', 'median ms'],
    [
      ['outside', wOut.toFixed(0)],
      ['inside ward run (Landlock: /usr read+exec)', wIn.toFixed(0)],
      ['inside, less ward\'s start-up', (wIn - wardStart).toFixed(0)],
    ],
  ),
  '',
  `- launch: ward run is ${launchRatio.toFixed(2)}× \`node -e 0\` (target ≤ 1.2×): ${launchRatio <= 1.2 ? 'met' : 'MISSED'}`,
  ...(staged ? [`- launch, built package: ${(med['ward run (built package: dist/) --rox /usr … -- /bin/true']! / nodeFloor).toFixed(2)}× \`node -e 0\` (target ≤ 1.2×)`] : ['- the built package (dist/) was not measured: run `npm run build` first']),
  `- workload under Landlock: ${workRatio.toFixed(3)}× unsandboxed (target ≤ 1.05×): ${workRatio <= 1.05 ? 'met' : 'MISSED'}`,
].join('\n');
console.log(body);
writeSection('Sandbox launch and workload (`npm run bench:sandbox`)', body);
