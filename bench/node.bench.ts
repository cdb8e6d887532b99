// npm run bench:node — start-up and module loading, enforcement on (WARD_NODE_ENFORCE=1: both
// exec bits' behaviour, default mode), against plain node on the same files in the same run:
// an empty app, generated ~1000-module apps (CommonJS and ESM), and — when the compatibility
// fixture is installed (run test/compat first) — tsc, eslint and prettier on real inputs.
// Variants: plain node; node + ward's preload (what the launchers exec into); bin/ward-node (the
// shell launcher, one Node start); `ward node` (the CLI launcher, a second Node start).
// Medians of interleaved runs after warm-up, ratios to plain node.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, median, table, writeSection } from './lib/report.ts';
import { PRELOAD } from '../src/node/launch.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const WARD = join(ROOT, 'bin/ward.js');
const WARD_NODE = join(ROOT, 'bin/ward-node');
const MODULES = Number(process.env.WARD_BENCH_MODULES ?? 1000);
const RUNS = Number(process.env.WARD_BENCH_RUNS ?? 11);
const lock = readFileSync(join(ROOT, 'test/compat/fixture/package-lock.json'));
const FIXTURE = join(ROOT, '.cache/compat', createHash('sha256').update(lock).digest('hex').slice(0, 16));

interface App {
  argv: string[];
  cwd?: string;
  /** Exit statuses of a normal run (eslint reports problems with 1). */
  ok?: number[];
  target: number;
}

const loadBefore = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'ward-bench-node-'));
try {
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
    apps['tsc -p (small project)'] = { argv: ['node_modules/typescript/bin/tsc', '-p', 'apps/tsconfig.json'], cwd: FIXTURE, target: 1.05 };
    apps['eslint on express+fastify'] = { argv: ['node_modules/eslint/bin/eslint.js', '-c', 'apps/eslint.config.mjs', 'apps/bench-input'], cwd: FIXTURE, ok: [0, 1], target: 1.15 };
    apps['prettier on express+fastify'] = { argv: ['node_modules/prettier/bin/prettier.cjs', 'apps/bench-input'], cwd: FIXTURE, target: 1.15 };
  }
  const env = { ...process.env, WARD_NODE_ENFORCE: '1' };
  const preload = [`--require=${PRELOAD}`, '--disable-sigusr1'];
  const variants: Record<string, (app: string[]) => string[]> = {
    node: (app) => [process.execPath, ...app],
    'node + ward preload': (app) => [process.execPath, ...preload, ...app],
    'bin/ward-node': (app) => [WARD_NODE, ...app],
    'ward node': (app) => [process.execPath, WARD, 'node', ...app],
  };
  const rows: Array<Array<string | number>> = [];
  const verdicts: string[] = [];
  for (const [name, app] of Object.entries(apps)) {
    const timeIn = (argv: string[]) => {
      const t = process.hrtime.bigint();
      const r = spawnSync(argv[0]!, argv.slice(1), { env, cwd: app.cwd ?? dir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      if (!(app.ok ?? [0]).includes(r.status ?? -1)) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    for (const v of Object.values(variants)) for (let i = 0; i < 2; i++) timeIn(v(app.argv));
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    for (let i = 0; i < RUNS; i++) for (const [k, v] of Object.entries(variants)) samples[k]!.push(timeIn(v(app.argv)));
    const base = median(samples.node!);
    for (const [k, v] of Object.entries(samples)) {
      const m = median(v);
      rows.push([name, k, m.toFixed(1), `${(m / base).toFixed(3)}×`]);
    }
    console.log(rows.slice(-4).map((r) => r.join(' | ')).join('\n'));
    const launcher = median(samples['bin/ward-node']!) / base;
    const runtime = median(samples['node + ward preload']!) / base;
    verdicts.push(`${name}: bin/ward-node ${launcher.toFixed(3)}× plain node (target ≤ ${app.target}×): ${launcher <= app.target ? 'met' : 'MISSED'}; preload alone ${runtime.toFixed(3)}×; \`ward node\` ${(median(samples['ward node']!) / base).toFixed(2)}×`);
  }
  const body = [
    `Machine: ${machine()}. Run: ${new Date().toISOString().slice(0, 10)}. Medians of ${RUNS} interleaved runs after 2 warm-ups each (1-minute load average ${loadBefore.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after: on a busy machine the ratios are noisy), enforcement on (WARD_NODE_ENFORCE=1, default mode: every file checked with AT_EXECVE_CHECK and read from the checked fd), all files executable (\`ward node trust\` for the packages). "node + ward preload" is what the launchers exec into; bin/ward-node is the shell launcher (one Node start); \`ward node\` is the CLI launcher (a second Node start). The real-package rows need the compatibility fixture (\`node --test test/compat/\` installs it; WARD_BENCH_REAL=0 skips them).`,
    '',
    table(['app', 'variant', 'median ms', '× node'], rows),
    '',
    ...verdicts.map((v) => `- ${v}`),
  ].join('\n');
  console.log(body);
  writeSection('Enlightened Node start-up (`npm run bench:node`)', body);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
