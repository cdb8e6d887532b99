// npm run bench:node — start-up and module loading, enforcement on (WARD_NODE_ENFORCE=1: both
// exec bits' behaviour, default mode), against plain node on the same files in the same run:
// an empty app, generated ~1000-module apps (CommonJS and ESM), and — when the compatibility
// fixture is installed (run test/compat first) — tsc, eslint and prettier on real inputs.
// Variants, all from the built package (what users run: `npm run build`, then bin/, dist/ and
// package.json copied to a temporary directory, as npm installs them): plain node; node + ward's
// preload (what the launchers exec into); bin/ward-node (the shell launcher); `ward node` as the
// installed `ward` command runs it (bin/ward → bin/ward-node: one Node start); and, for
// comparison, the preload from the checkout's TypeScript sources and `node bin/ward.js node` (the
// CLI itself: a second Node start). Medians of interleaved runs after warm-up, wall-clock and CPU
// time (user + system of the child, from getrusage(RUSAGE_CHILDREN): less disturbed by a busy
// machine than wall-clock), ratios to plain node.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, median, table, writeSection } from './lib/report.ts';
import { PRELOAD } from '../src/node/launch.ts';
import { fn } from '../src/kernel/ffi.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RUSAGE_CHILDREN = -1;
const getrusage = fn('int getrusage(int who, _Out_ uint8_t *usage)');
/** CPU time (user + system, ms) of the waited-for children so far. */
function childrenCpuMs(): number {
  const b = Buffer.alloc(144);
  getrusage(RUSAGE_CHILDREN, b);
  // struct rusage starts with ru_utime and ru_stime, each { time_t tv_sec; suseconds_t tv_usec } (64-bit).
  return (Number(b.readBigInt64LE(0)) + Number(b.readBigInt64LE(16))) * 1e3 + (Number(b.readBigInt64LE(8)) + Number(b.readBigInt64LE(24))) / 1e3;
}
const MODULES = Number(process.env.WARD_BENCH_MODULES ?? 1000);
const RUNS = Number(process.env.WARD_BENCH_RUNS ?? 11);
const lock = readFileSync(join(ROOT, 'test/compat/fixture/package-lock.json'));
const FIXTURE = join(ROOT, '.cache/compat', createHash('sha256').update(lock).digest('hex').slice(0, 16));

interface App {
  argv: string[];
  cwd?: string;
  /** Exit statuses of a normal run (eslint reports problems with 1). */
  ok?: number[];
  /** Real packages: only the variants a user runs (the comparison rows would double the run time). */
  real?: boolean;
  target: number;
}

const loadBefore = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'ward-bench-node-'));
try {
  // The package as npm installs it: the build's bin/, dist/ and package.json (no src/), with the
  // checkout's dependencies (koffi).
  const build = spawnSync('bash', [join(ROOT, 'scripts/build.sh')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  if (build.status !== 0) throw new Error('npm run build failed');
  const pkg = join(dir, 'package');
  for (const p of ['bin', 'dist', 'package.json']) cpSync(join(ROOT, p), join(pkg, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  const PKG_PRELOAD = join(pkg, 'bin/ward-node-preload.cjs');
  // npm installs the command as a symbolic link (node_modules/.bin/ward): the same here.
  const WARD_CMD = join(dir, 'ward');
  symlinkSync(join(pkg, 'bin/ward'), WARD_CMD);
  const file = (rel: string, text: string) => {
    const p = join(dir, rel);
    writeFileSync(p, text);
    chmodSync(p, 0o755);
    return p;
  };
  for (const kind of ['cjs', 'esm'] as const) {
    mkdirSync(join(dir, kind));
    // A tree: module i loads modules 2i+1 and 2i+2, so all are loaded from the entry.
    for (let i = 0; i < MODULES; i++) {
      const kids = [2 * i + 1, 2 * i + 2].filter((k) => k < MODULES);
      const body =
        kind === 'cjs'
          ? `${kids.map((k) => `require('./m${k}.js');`).join('\n')}\nmodule.exports = { id: ${i}, data: ${JSON.stringify('x'.repeat(200))} };\n`
          : `${kids.map((k) => `import './m${k}.mjs';`).join('\n')}\nexport const id = ${i}, data = ${JSON.stringify('x'.repeat(200))};\n`;
      file(`${kind}/m${i}.${kind === 'cjs' ? 'js' : 'mjs'}`, body);
    }
  }
  const apps: Record<string, App> = {
    'empty app': { argv: [file('empty.js', '\n')], target: 1.3 },
    [`${MODULES}-module app, CommonJS`]: { argv: [join(dir, 'cjs/m0.js')], target: 1.1 },
    [`${MODULES}-module app, ESM`]: { argv: [join(dir, 'esm/m0.mjs')], target: 1.1 },
  };
  if (process.env.WARD_BENCH_REAL !== '0' && existsSync(join(FIXTURE, 'node_modules/.package-lock.json'))) {
    // Real inputs for the linters: the sources of express and fastify (linted and formatted as data).
    const input = join(FIXTURE, 'apps/bench-input');
    rmSync(input, { recursive: true, force: true });
    for (const pkg of ['express/lib', 'fastify/lib']) cpSync(join(FIXTURE, 'node_modules', pkg), join(input, pkg), { recursive: true });
    apps['tsc -p (small project)'] = { argv: ['node_modules/typescript/bin/tsc', '-p', 'apps/tsconfig.json'], cwd: FIXTURE, target: 1.05, real: true };
    apps['eslint on express+fastify'] = { argv: ['node_modules/eslint/bin/eslint.js', '-c', 'apps/eslint.config.mjs', 'apps/bench-input'], cwd: FIXTURE, ok: [0, 1], target: 1.15, real: true };
    apps['prettier on express+fastify'] = { argv: ['node_modules/prettier/bin/prettier.cjs', 'apps/bench-input'], cwd: FIXTURE, target: 1.15, real: true };
  }
  const env = { ...process.env, WARD_NODE_ENFORCE: '1' };
  const allVariants: Record<string, (app: string[]) => string[]> = {
    node: (app) => [process.execPath, ...app],
    'node + ward preload': (app) => [process.execPath, `--require=${PKG_PRELOAD}`, '--disable-sigusr1', ...app],
    'bin/ward-node': (app) => [join(pkg, 'bin/ward-node'), ...app],
    'ward node': (app) => [WARD_CMD, 'node', ...app],
    'preload from the TS sources': (app) => [process.execPath, `--require=${PRELOAD}`, '--disable-sigusr1', ...app],
    'node bin/ward.js node': (app) => [process.execPath, join(pkg, 'bin/ward.js'), 'node', ...app],
  };
  const rows: Array<Array<string | number>> = [];
  const verdicts: string[] = [];
  const COMPARISON = new Set(['preload from the TS sources', 'node bin/ward.js node']);
  for (const [name, app] of Object.entries(apps)) {
    const variants = Object.fromEntries(Object.entries(allVariants).filter(([k]) => !(app.real && COMPARISON.has(k))));
    const timeIn = (argv: string[]): [number, number] => {
      const cpu = childrenCpuMs();
      const t = process.hrtime.bigint();
      const r = spawnSync(argv[0]!, argv.slice(1), { env, cwd: app.cwd ?? dir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      const wall = Number(process.hrtime.bigint() - t) / 1e6;
      if (!(app.ok ?? [0]).includes(r.status ?? -1)) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
      return [wall, childrenCpuMs() - cpu];
    };
    for (const v of Object.values(variants)) for (let i = 0; i < 2; i++) timeIn(v(app.argv));
    const wall: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const [k, v] of Object.entries(variants)) {
        const [w, c] = timeIn(v(app.argv));
        wall[k]!.push(w);
        cpu[k]!.push(c);
      }
    }
    const base = median(wall.node!);
    const baseCpu = median(cpu.node!);
    const ratio = (k: string) => median(wall[k]!) / base;
    const ratioCpu = (k: string) => median(cpu[k]!) / baseCpu;
    for (const k of Object.keys(variants)) rows.push([name, k, median(wall[k]!).toFixed(1), `${ratio(k).toFixed(3)}×`, median(cpu[k]!).toFixed(1), `${ratioCpu(k).toFixed(3)}×`]);
    console.log(rows.slice(-Object.keys(variants).length).map((r) => r.join(' | ')).join('\n'));
    const launcher = 'ward node';
    const met = (r: number) => (r <= app.target ? 'met' : 'MISSED');
    verdicts.push(
      `${name}: \`ward node\` ${ratio(launcher).toFixed(3)}× plain node wall-clock, ${ratioCpu(launcher).toFixed(3)}× CPU (target ≤ ${app.target}×): ${met(ratio(launcher))} (wall), ${met(ratioCpu(launcher))} (CPU); preload alone ${ratio('node + ward preload').toFixed(3)}× wall, ${ratioCpu('node + ward preload').toFixed(3)}× CPU`,
    );
  }
  const body = [
    `Machine: ${machine()}. Run: ${new Date().toISOString().slice(0, 10)}. Medians of ${RUNS} interleaved runs after 2 warm-ups each (1-minute load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after: on a busy machine wall-clock ratios are noisy; CPU time — user + system of the child — is less so), enforcement on (WARD_NODE_ENFORCE=1, default mode: every file checked with AT_EXECVE_CHECK and read from the checked fd), all files executable (\`ward node trust\` for the packages). Everything from the built package (\`npm run build\`; bin/, dist/, package.json as npm installs them): "node + ward preload" is what the launchers exec into (the bundled preload, dist/node/preload.bundle.cjs); bin/ward-node is the shell launcher; \`ward node\` is the installed \`ward\` command (through a symbolic link, as npm installs it: bin/ward, a shell script that hands \`node\` to bin/ward-node: one Node start); for comparison (generated apps only), the preload run from the checkout's TypeScript sources, and \`node bin/ward.js node\` (the CLI, a second Node start). The real-package rows need the compatibility fixture (\`node --test test/compat/\` installs it; WARD_BENCH_REAL=0 skips them).`,
    '',
    table(['app', 'variant', 'median ms', '× node', 'median CPU ms', 'CPU × node'], rows),
    '',
    ...verdicts.map((v) => `- ${v}`),
  ].join('\n');
  console.log(body);
  writeSection('Enlightened Node start-up (`npm run bench:node`)', body);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
