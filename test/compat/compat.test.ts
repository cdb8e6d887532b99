// Compatibility suite: real packages, pinned (test/compat/fixture), installed from the npm
// registry with `npm ci` once per lockfile (cached in .cache/compat/<lockfile hash>), made
// loadable with `ward node trust`, and run under `ward exec --restrict-file --deny-interactive
// -- ward node`. Every case must work in the default mode; with --deny-codegen the cases listed
// in NEED_CODEGEN are refused (they compile code at run time) and every other one works.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IS_ROOT, requires } from '../helpers/kernel.ts';
import { WARD_BIN, REPO_ROOT } from '../helpers/cli.ts';
import { execveCheckSupported } from '../../src/kernel/exec-check.ts';
import { CASES, FILES } from './apps.ts';

const FIXTURE = fileURLToPath(new URL('./fixture/', import.meta.url));
const lock = readFileSync(join(FIXTURE, 'package-lock.json'));
const DIR = join(REPO_ROOT, '.cache', 'compat', createHash('sha256').update(lock).digest('hex').slice(0, 16));
const ok = () => IS_ROOT && execveCheckSupported();

/** Measured: these compile code at run time (eslint's ajv, prettier's and better-sqlite3's `new Function`, fastify's router, jest/vitest/tsx module runners). */
export const NEED_CODEGEN = new Set(['eslint', 'prettier', 'fastify', 'better-sqlite3', 'jest', 'vitest', 'tsx']);

let installError: string | undefined;

before(() => {
  if (!ok()) return;
  try {
    if (!existsSync(join(DIR, 'node_modules', '.package-lock.json'))) {
      const tmp = `${DIR}.tmp-${process.pid}`;
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      copyFileSync(join(FIXTURE, 'package.json'), join(tmp, 'package.json'));
      copyFileSync(join(FIXTURE, 'package-lock.json'), join(tmp, 'package-lock.json'));
      execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: tmp, stdio: 'pipe', timeout: 600_000, env: { ...process.env, npm_config_update_notifier: 'false' } });
      rmSync(DIR, { recursive: true, force: true });
      renameSync(tmp, DIR);
    }
    for (const [rel, text] of Object.entries(FILES)) {
      mkdirSync(dirname(join(DIR, rel)), { recursive: true });
      writeFileSync(join(DIR, rel), text, { mode: 0o644 });
    }
    execFileSync(process.execPath, [WARD_BIN, 'node', 'trust', DIR], { stdio: 'pipe' });
  } catch (e) {
    installError = `installing the compatibility fixture failed (the npm registry must be reachable once per lockfile): ${(e as Error).message}`;
  }
});

function fi(args: string[]) {
  // Not this test runner's own context: `node --test` inside would think it is nested.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NODE_TEST') && k !== 'NODE_OPTIONS'));
  const r = spawnSync(process.execPath, [WARD_BIN, 'exec', '--restrict-file', '--deny-interactive', '--', process.execPath, WARD_BIN, 'node', ...args], { cwd: DIR, encoding: 'utf8', timeout: 120_000, env: { ...env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

for (const [name, c] of Object.entries(CASES)) {
  test(`compat: ${name} under -fi${NEED_CODEGEN.has(name) ? ' (refused with --deny-codegen)' : ', also with --deny-codegen'}`, (t) => {
    if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
    assert.equal(installError, undefined, installError);
    const r = fi(c.args);
    assert.equal(r.status, c.status ?? 0, r.out);
    assert.match(r.out, c.expect, r.out);
    const strict = fi(['--deny-codegen', ...c.args]);
    if (NEED_CODEGEN.has(name)) {
      assert.match(strict.out, /ward node runs with --deny-codegen|Code generation from strings disallowed/, strict.out);
    } else {
      assert.equal(strict.status, c.status ?? 0, strict.out);
      assert.match(strict.out, c.expect, strict.out);
    }
  });
}
