// npm run bench:node — start-up and module loading of a generated ~1000-module app (CommonJS and
// ESM) and of a real package's CLI (tsc --version): plain node vs node with ward's preload (the
// enlightened runtime, checks on, enforcement on) vs `ward node` (launcher + runtime). Medians of
// interleaved runs after warm-up, ratios to plain node.

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, median, table, writeSection } from './lib/report.ts';
import { PRELOAD } from '../src/node/launch.ts';

const WARD = fileURLToPath(new URL('../bin/ward.js', import.meta.url));
const MODULES = Number(process.env.WARD_BENCH_MODULES ?? 1000);
const RUNS = Number(process.env.WARD_BENCH_RUNS ?? 15);
const TSC = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'ward-bench-node-'));
try {
  // A tree: module i requires modules 2i+1 and 2i+2, so all are loaded from the entry.
  for (const kind of ['cjs', 'esm'] as const) {
    const d = join(dir, kind);
    mkdirSync(d);
    for (let i = 0; i < MODULES; i++) {
      const kids = [2 * i + 1, 2 * i + 2].filter((k) => k < MODULES);
      const body =
        kind === 'cjs'
          ? `${kids.map((k) => `require('./m${k}.js');`).join('\n')}\nmodule.exports = { id: ${i}, data: ${JSON.stringify('x'.repeat(200))} };\n`
          : `${kids.map((k) => `import './m${k}.mjs';`).join('\n')}\nexport const id = ${i}, data = ${JSON.stringify('x'.repeat(200))};\n`;
      const f = join(d, `m${i}.${kind === 'cjs' ? 'js' : 'mjs'}`);
      writeFileSync(f, body);
      chmodSync(f, 0o755);
    }
  }
  const env = { ...process.env, WARD_NODE_ENFORCE: '1' };
  const preload = ['--require', PRELOAD, '--disallow-code-generation-from-strings'];
  const apps: Record<string, string[]> = {
    [`${MODULES}-module app, CommonJS`]: [join(dir, 'cjs/m0.js')],
    [`${MODULES}-module app, ESM`]: [join(dir, 'esm/m0.mjs')],
    'tsc --version (typescript package)': [TSC, '--version'],
  };
  const variants: Record<string, (app: string[]) => string[]> = {
    'node': (app) => [process.execPath, ...app],
    'node + ward preload': (app) => [process.execPath, ...preload, ...app],
    'ward node': (app) => [process.execPath, WARD, 'node', ...app],
  };
  const rows: Array<Array<string | number>> = [];
  const verdicts: string[] = [];
  // tsc's files are not executable in node_modules: measured with checks on but not enforced.
  for (const [name, app] of Object.entries(apps)) {
    const runEnv = name.startsWith('tsc') ? { ...process.env } : env;
    const timeIn = (argv: string[]) => {
      const t = process.hrtime.bigint();
      const r = spawnSync(argv[0]!, argv.slice(1), { env: runEnv, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    for (const v of Object.values(variants)) for (let i = 0; i < 2; i++) timeIn(v(app));
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    for (let i = 0; i < RUNS; i++) for (const [k, v] of Object.entries(variants)) samples[k]!.push(timeIn(v(app)));
    const base = median(samples.node!);
    for (const [k, v] of Object.entries(samples)) {
      const m = median(v);
      rows.push([name, k, m.toFixed(1), `${(m / base).toFixed(3)}×`]);
    }
    const rt = median(samples['node + ward preload']!) / base;
    verdicts.push(`${name}: enlightened runtime ${rt.toFixed(3)}× plain node (target ≤ 1.05×): ${rt <= 1.05 ? 'met' : 'MISSED'}; with the \`ward node\` launcher ${(median(samples['ward node']!) / base).toFixed(2)}×`);
  }
  const body = [
    `Machine: ${machine()}. Run: ${new Date().toISOString().slice(0, 10)}. Medians of ${RUNS} interleaved runs after 2 warm-ups each. "node + ward preload" is what \`ward node\` execs into: every file checked with AT_EXECVE_CHECK and read from the checked fd, enforcement on (WARD_NODE_ENFORCE=1) for the generated apps, checks without enforcement for tsc (its files in node_modules are not executable). "ward node" adds the launcher, itself a Node start.`,
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
