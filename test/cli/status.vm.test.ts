// ward status in Debian's 6.1 (the guest): what it says about loadable modules and module
// auto-loading, checked against the kernel (the host's kernel has no modules at all).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ward } from '../helpers/cli.ts';
import { inGuest } from '../helpers/vm.ts';

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

test('loadable modules: ward status reports them, and the kernel auto-loads one on demand', (t) => {
  if (!inGuest(t, '6.1')) return;
  const loaded = () => readFileSync('/proc/modules', 'utf8').split('\n').map((l) => l.split(' ')[0]);
  assert.ok(!loaded().includes('dummy'));
  sh('ip', ['link', 'add', 'ward-vm0', 'type', 'dummy']);
  assert.ok(loaded().includes('dummy'), 'ip link add … type dummy auto-loaded the dummy module');
  const items = (JSON.parse(ward(['status', '--json']).stdout) as { items: Array<{ name: string; value: unknown; usable: unknown }> }).items;
  const mods = items.find((i) => i.name === 'loadable modules');
  assert.deepEqual([mods?.value, mods?.usable], [true, 'partial']);
});
