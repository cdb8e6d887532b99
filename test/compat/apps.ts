// The small programs the compatibility suite runs with each package (written into the installed
// fixture, then made loadable with `ward node trust`). Each prints a line the test expects.

export interface CompatCase {
  /** ward node arguments (script and its arguments), run in the fixture directory. */
  args: string[];
  /** What a working run prints (stdout + stderr). */
  expect: RegExp;
  /** Exit status of a working run (default 0). */
  status?: number;
}

export const FILES: Record<string, string> = {
  'apps/hello.ts': 'const n: number = 40 + 2;\nexport const answer = n;\nconsole.log(`ts ${n}`);\n',
  'apps/tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'nodenext', target: 'es2022', types: [] }, files: ['hello.ts'] }),
  'apps/lint-me.js': 'const unused = 1;\nexport const used = 2;\n',
  'apps/eslint.config.mjs': 'export default [{ files: ["**/*.js"], languageOptions: { sourceType: "module" }, rules: { "no-unused-vars": "error" } }];\n',
  'apps/ugly.js': 'const   x = {a:1,\n b:2}\n',
  'apps/esbuild.cjs': "const r = require('esbuild').buildSync({ entryPoints: [__dirname + '/hello.ts'], bundle: true, write: false, format: 'esm' }); console.log('esbuild', r.outputFiles[0].text.includes('40 + 2') ? 'bundled' : 'failed');\n",
  'apps/express.mjs': "import express from 'express';\nconst app = express();\napp.get('/', (req, res) => res.json({ ok: 'express' }));\nconst server = app.listen(0, '127.0.0.1', async () => { const r = await fetch(`http://127.0.0.1:${server.address().port}/`); console.log((await r.json()).ok); server.close(); });\n",
  'apps/fastify.mjs': "import Fastify from 'fastify';\nconst app = Fastify();\napp.get('/:name', { schema: { params: { type: 'object', properties: { name: { type: 'string' } } }, response: { 200: { type: 'object', properties: { hello: { type: 'string' } } } } } }, async (req) => ({ hello: req.params.name }));\nconst r = await app.inject({ method: 'GET', url: '/fastify' });\nconsole.log(r.json().hello);\n",
  'apps/sqlite.cjs': "const Database = require('better-sqlite3'); const db = new Database(':memory:'); db.exec('create table t (x)'); db.prepare('insert into t values (?)').run(42); console.log('sqlite', db.prepare('select x from t').get().x);\n",
  'apps/worker.mjs': "import { Worker } from 'node:worker_threads';\nconst w = new Worker(new URL('./worker-child.mjs', import.meta.url));\nw.on('message', (m) => { console.log(m); w.terminate(); });\n",
  'apps/worker-child.mjs': "import { parentPort } from 'node:worker_threads';\nparentPort.postMessage('worker ok');\n",
  'apps/esm-only.mjs': "import chalk from 'chalk';\nconsole.log(chalk.level >= 0 ? 'chalk ok' : 'no');\n",
  'apps/dynamic.mjs': "const { answer } = await import('./hello.ts');\nconst data = (await import('./data.json', { with: { type: 'json' } })).default;\nconsole.log('dynamic', answer, data.json);\n",
  'apps/data.json': '{"json": "ok"}\n',
  'apps/jest/sum.test.js': "test('adds', () => { expect(1 + 1).toBe(2); });\n",
  'apps/jest/package.json': '{"jest": {"testEnvironment": "node", "cache": false}}\n',
  'apps/vitest/sum.test.mjs': "import { test, expect } from 'vitest';\ntest('adds', () => { expect(1 + 1).toBe(2); });\n",
  'apps/mocha/sum.spec.cjs': "const assert = require('node:assert'); describe('sum', () => it('adds', () => assert.equal(1 + 1, 2)));\n",
  'apps/nodetest/a.test.mjs': "import test from 'node:test';\ntest('adds', () => {});\n",
};

const bin = (p: string) => `node_modules/${p}`;

export const CASES: Record<string, CompatCase> = {
  'typescript (tsc)': { args: [bin('typescript/bin/tsc'), '-p', 'apps/tsconfig.json'], expect: /^$/ },
  eslint: { args: [bin('eslint/bin/eslint.js'), '-c', 'apps/eslint.config.mjs', 'apps/lint-me.js'], expect: /'unused' is assigned a value but never used/, status: 1 },
  prettier: { args: [bin('prettier/bin/prettier.cjs'), 'apps/ugly.js'], expect: /const x = \{ a: 1, b: 2 \};/ },
  esbuild: { args: ['apps/esbuild.cjs'], expect: /esbuild bundled/ },
  'express 5': { args: ['apps/express.mjs'], expect: /^express$/m },
  fastify: { args: ['apps/fastify.mjs'], expect: /^fastify$/m },
  'better-sqlite3': { args: ['apps/sqlite.cjs'], expect: /sqlite 42/ },
  worker_threads: { args: ['apps/worker.mjs'], expect: /worker ok/ },
  'ESM-only package (chalk)': { args: ['apps/esm-only.mjs'], expect: /chalk ok/ },
  'dynamic import() and JSON import': { args: ['apps/dynamic.mjs'], expect: /dynamic 42 ok/ },
  jest: { args: [bin('jest/bin/jest.js'), '--rootDir', 'apps/jest', '--ci'], expect: /Tests:\s+1 passed/ },
  vitest: { args: [bin('vitest/vitest.mjs'), 'run', '--root', 'apps/vitest'], expect: /1 passed/ },
  mocha: { args: [bin('mocha/bin/mocha.js'), 'apps/mocha/sum.spec.cjs'], expect: /1 passing/ },
  tsx: { args: [bin('tsx/dist/cli.mjs'), 'apps/hello.ts'], expect: /ts 42/ },
  'node --test': { args: ['--test', 'apps/nodetest/a.test.mjs'], expect: /pass 1/ },
  'npm itself': { args: [bin('npm/bin/npm-cli.js'), 'ls', 'express', '--depth=0'], expect: /express@5\.3\.0/ },
};
