// After tsc (scripts/build.sh): the enlightened-Node preload as ONE CommonJS file,
// dist/node/preload.bundle.cjs, which bin/ward-node-preload.cjs loads in an installed package —
// and likewise `ward run`'s fast entry, dist/cli/run.bundle.cjs, which bin/ward.js loads (the same
// ~25 small modules were most of a sandbox launch's cost: docs/benchmarks.md, "Sandbox launch").
// Why: the preload runs at every enlightened start (and in every worker and child), and loading
// its ~30 ES modules one by one — each resolved (URL objects, package.json scope lookups),
// read, compiled and linked by Node's ESM loader through require(esm) — cost more than the
// preload's own work (measured in `npm run bench:node`). One file is one read and one compile.
//
// How (TypeScript's transpileModule, one function per module; no bundler dependency): see
// scripts/preload-bundler.cjs, which a checkout's preload also uses on the TypeScript sources.
// Usage: node scripts/bundle-preload.ts <dist>

import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const dist = process.argv[2];
if (!dist) {
  process.stderr.write('usage: node scripts/bundle-preload.ts <dist directory>\n');
  process.exit(2);
}
const root = resolve(dist);
const { graph, bundle: build, BUNDLES } = createRequire(import.meta.url)('./preload-bundler.cjs') as {
  graph(entry: string, also: string[]): Array<{ file: string; text: string }>;
  bundle(root: string, modules: Array<{ file: string; text: string }>, ts: undefined, name: string): string;
  BUNDLES: Record<string, { name: string; entry: string; also: string[]; out: string }>;
};
for (const { name, entry, also, out } of Object.values(BUNDLES)) {
  const order = graph(join(root, `${entry}.js`), also.map((m) => join(root, `${m}.js`)));
  let bundle: string;
  try {
    bundle = build(root, order, undefined, name);
  } catch (e) {
    process.stderr.write(`bundle-preload: ${(e as Error).message}\n`);
    process.exit(1);
  }
  writeFileSync(join(root, out), bundle);
  process.stderr.write(`build: dist/${out}: ${order.length} modules\n`);
}
