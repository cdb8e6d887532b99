// The committed BPF objects are what bpf/build.sh makes from the committed sources: rebuild into
// a temporary directory with Debian's clang and compare bytes. And the map layouts user space
// encodes (src/enforcer/bpf-maps.ts) have the sizes the compiler gave the C structs (bpftool
// reads them from the objects' BTF).

import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CONFIG_SIZE, DIGEST_KEY_SIZE, DIGEST_VERDICT_SIZE, EVENT_SIZE, VERDICT_KEY_SIZE, VERDICT_SIZE } from '../../src/enforcer/bpf-maps.ts';
import { requires } from '../helpers/kernel.ts';

const BPF = fileURLToPath(new URL('../../bpf/', import.meta.url));
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

test('bpf/build.sh reproduces the committed objects byte for byte', (t) => {
  if (!requires(t, has('clang') && has('llvm-strip'), 'clang and llvm (scripts/test-deps.sh installs them)')) return;
  const out = mkdtempSync(join(tmpdir(), 'ward-bpf-'));
  try {
    execFileSync('bash', [join(BPF, 'build.sh')], { env: { ...process.env, WARD_BPF_OUT: out }, stdio: 'pipe' });
    const objects = readdirSync(BPF).filter((f) => f.endsWith('.bpf.o')).sort();
    assert.deepEqual(readdirSync(out).filter((f) => f.endsWith('.bpf.o')).sort(), objects);
    assert.ok(objects.length >= 3);
    for (const o of objects) assert.ok(readFileSync(join(out, o)).equals(readFileSync(join(BPF, o))), `${o} differs from a rebuild: run bpf/build.sh and commit the result`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('map layouts: the sizes user space encodes are the C structs\' sizes (BTF of the objects)', (t) => {
  if (!requires(t, has('bpftool'), 'bpftool (scripts/test-deps.sh installs it)')) return;
  const sizes = new Map<string, number>();
  for (const o of ['ward.bpf.o', 'modauto.bpf.o']) {
    const dump = execFileSync('bpftool', ['btf', 'dump', 'file', join(BPF, o)], { encoding: 'utf8' });
    for (const m of dump.matchAll(/STRUCT '(ward_\w+)' size=(\d+)/g)) sizes.set(m[1]!, Number(m[2]));
  }
  assert.equal(sizes.get('ward_config'), CONFIG_SIZE);
  assert.equal(sizes.get('ward_verdict_key'), VERDICT_KEY_SIZE);
  assert.equal(sizes.get('ward_verdict'), VERDICT_SIZE);
  assert.equal(sizes.get('ward_digest_key'), DIGEST_KEY_SIZE);
  assert.equal(sizes.get('ward_digest_verdict'), DIGEST_VERDICT_SIZE);
  assert.equal(sizes.get('ward_modauto_denial'), 96);
  // ward_event travels only through the ring buffer, so it is not in the BTF: ask the compiler.
  if (has('clang')) {
    const c = spawnSync('clang', ['-fsyntax-only', '-target', 'bpf', '-I', BPF, '-x', 'c', '-'], {
      input: `typedef unsigned long long __u64; typedef long long __s64; typedef unsigned int __u32; typedef unsigned short __u16; typedef unsigned char __u8;\n#include "ward.h"\n_Static_assert(sizeof(struct ward_event) == ${EVENT_SIZE}, "size");\n`,
      encoding: 'utf8',
    });
    assert.equal(c.status, 0, c.stderr);
  }
});
