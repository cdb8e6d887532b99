import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { wardVersion } from '../../src/util/version.ts';

test('wardVersion is package.json\'s version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(wardVersion(), pkg.version);
  assert.match(wardVersion(), /^\d+\.\d+\.\d+/);
});
