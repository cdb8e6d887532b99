// The CLI's command groups: each group registers exactly the top-level commands main.ts routes
// to it (GROUP_OF is derived from that list), and no command belongs to two groups.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProgram, GROUP_OF, GROUPS, type GroupName } from '../../src/cli/main.ts';
import { ward } from '../helpers/cli.ts';

test('each group registers exactly the commands GROUPS lists for it', async () => {
  for (const g of Object.keys(GROUPS) as GroupName[]) {
    const program = await buildProgram(() => {}, g);
    assert.deepEqual(program.commands.map((c) => c.name()).sort(), [...GROUPS[g].commands].sort(), `group ${g}`);
  }
});

test('GROUP_OF names every command once, and the full program has them all', async () => {
  const listed = Object.values(GROUPS).flatMap((g) => [...g.commands]);
  assert.equal(GROUP_OF.size, listed.length, 'no command is in two groups');
  const all = await buildProgram(() => {});
  assert.deepEqual(all.commands.map((c) => c.name()).sort(), [...GROUP_OF.keys()].sort());
});

test('ward --version prints package.json\'s version; an unknown command is a usage error', () => {
  const v = ward(['--version']);
  assert.equal(v.status, 0);
  assert.match(v.stdout, /^\d+\.\d+\.\d+/);
  const bad = ward(['polcy']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown command 'polcy'.*\n.*policy/s);
});
