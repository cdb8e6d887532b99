// The device-mapper ioctl layout in src/kernel/arch.ts, checked against the kernel's own uapi
// header (linux-libc-dev's <linux/dm-ioctl.h>) by the C compiler: every offset, size, flag and the
// DM_TABLE_STATUS number are _Static_asserts, so a wrong value fails to compile. The ioctl itself
// runs in the 6.1 guest (test/properties/dmverity.vm.test.ts); this kernel has no device-mapper.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arch } from '../../src/kernel/arch.ts';
import { encodeDev } from '../../src/kernel/devmapper.ts';
import { requires, Scratch } from '../helpers/kernel.ts';

const HEADER = '/usr/include/linux/dm-ioctl.h';

test('struct dm_ioctl, struct dm_target_spec and DM_TABLE_STATUS agree with <linux/dm-ioctl.h>', (t) => {
  const haveClang = spawnSync('clang', ['--version']).status === 0;
  if (!requires(t, haveClang && existsSync(HEADER), `clang and ${HEADER} (scripts/test-deps.sh installs clang and linux-libc-dev)`)) return;
  const L = arch().dm;
  const lines = [
    '#include <stddef.h>',
    '#include <linux/ioctl.h>',
    '#include <linux/dm-ioctl.h>',
    `_Static_assert(DM_TABLE_STATUS == ${L.DM_TABLE_STATUS}u, "DM_TABLE_STATUS");`,
    `_Static_assert(DM_VERSION_MAJOR == ${L.version[0]}, "major");`,
    `_Static_assert(sizeof(struct dm_ioctl) == ${L.sizeofDmIoctl}, "sizeof dm_ioctl");`,
    `_Static_assert(sizeof(struct dm_target_spec) == ${L.sizeofTargetSpec}, "sizeof dm_target_spec");`,
    `_Static_assert(DM_MAX_TYPE_NAME == ${L.maxTypeName}, "DM_MAX_TYPE_NAME");`,
    ...Object.entries(L.ioctl).map(([f, off]) => `_Static_assert(offsetof(struct dm_ioctl, ${f}) == ${off}, "dm_ioctl.${f}");`),
    ...Object.entries(L.spec).map(([f, off]) => `_Static_assert(offsetof(struct dm_target_spec, ${f}) == ${off}, "dm_target_spec.${f}");`),
    ...Object.entries(L.flags).map(([f, v]) => `_Static_assert(${f} == ${v}, "${f}");`),
    '',
  ];
  const scratch = new Scratch('dm-layout');
  try {
    const src = join(scratch.root, 'layout.c');
    writeFileSync(src, lines.join('\n'));
    const r = spawnSync('clang', ['-fsyntax-only', '-std=c11', src], { encoding: 'utf8' });
    assert.equal(r.status, 0, `the compiler disagrees with src/kernel/arch.ts:\n${r.stderr}`);
    // The check can fail: a deliberately wrong offset does not compile.
    writeFileSync(src, lines.join('\n') + `_Static_assert(offsetof(struct dm_ioctl, dev) == ${L.ioctl.dev + 8}, "control");\n`);
    assert.notEqual(spawnSync('clang', ['-fsyntax-only', '-std=c11', src]).status, 0);
  } finally {
    scratch.cleanup();
  }
});

test('encodeDev is new_encode_dev (what huge_decode_dev undoes): small and large minors', () => {
  assert.equal(encodeDev(253, 0), 0xfd00n);
  assert.equal(encodeDev(8, 1), 0x801n);
  // minor 0x12345: low byte in bits 0-7, the rest above the 12-bit major at bit 20.
  assert.equal(encodeDev(254, 0x12345), 0x45n | (254n << 8n) | (0x123n << 20n));
});
