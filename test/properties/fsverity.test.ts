// ward's user-space fs-verity digest against Debian's `fsverity digest` (fsverity-utils), on the
// sizes where the Merkle tree changes shape, a 100 MiB file and a sparse file.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, writeFileSync, writeSync, ftruncateSync, fstatSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Scratch, requires } from '../helpers/kernel.ts';
import { computeVerityDigest, PropertyReader, IdentityCache } from '../../src/properties/index.ts';
import { ward, WARD_BIN } from '../helpers/cli.ts';

const HAVE_TOOL = spawnSync('fsverity', ['--version']).status === 0;
let scratch: Scratch;
before(() => {
  scratch = new Scratch('ward-fsverity-');
});
after(() => scratch.cleanup());

function reference(path: string, alg: string): string {
  return execFileSync('fsverity', ['digest', '--hash-alg', alg, path], { encoding: 'utf8' }).split(' ')[0]!;
}

function ours(path: string, alg: 'sha256' | 'sha512'): string {
  const fd = openSync(path, 'r');
  try {
    return `${alg}:${computeVerityDigest(fd, fstatSync(fd).size, alg).toString('hex')}`;
  } finally {
    closeSync(fd);
  }
}

const K = 1024;
const sizes = [0, 1, 4095, 4096, 4097, 128 * K - 1, 128 * K, 128 * K + 1, 1024 * K + 1, 100 * 1024 * K];

for (const size of sizes) {
  test(`fs-verity digest of a ${size}-byte file equals fsverity digest (sha256, sha512)`, (t) => {
    if (!requires(t, HAVE_TOOL, 'Debian fsverity (scripts/test-deps.sh installs it)')) return;
    const path = join(scratch.root, `f${size}`);
    writeFileSync(path, size > 4 * 1024 * K ? Buffer.alloc(size, 0x5a) : randomBytes(size));
    if (size > 4 * 1024 * K) {
      // Make the big file not uniform: different bytes every MiB.
      const fd = openSync(path, 'r+');
      for (let off = 0; off < size; off += 1024 * K) writeSync(fd, randomBytes(64), 0, 64, off);
      closeSync(fd);
    }
    for (const alg of ['sha256', 'sha512'] as const) assert.equal(ours(path, alg), reference(path, alg), alg);
  });
}

test('a sparse file (holes read as zeros) has the same digest as fsverity digest', (t) => {
  if (!requires(t, HAVE_TOOL, 'Debian fsverity')) return;
  const path = join(scratch.root, 'sparse');
  const fd = openSync(path, 'w');
  ftruncateSync(fd, 64 * 1024 * K + 123);
  writeSync(fd, Buffer.from('data in the middle'), 0, 18, 10 * 1024 * K + 7);
  closeSync(fd);
  for (const alg of ['sha256', 'sha512'] as const) assert.equal(ours(path, alg), reference(path, alg));
});

test('ward digest prints lines like `fsverity digest`, --json, and errors per file', (t) => {
  if (!requires(t, HAVE_TOOL, 'Debian fsverity')) return;
  const a = join(scratch.root, 'a.bin');
  const b = join(scratch.root, 'b.bin');
  writeFileSync(a, randomBytes(10_000));
  writeFileSync(b, 'hello\n');
  const r = ward(['digest', a, b]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, execFileSync('fsverity', ['digest', a, b], { encoding: 'utf8' }));
  const j = ward(['digest', '--hash-alg', 'sha512', '--json', a, join(scratch.root, 'missing'), scratch.root]);
  assert.equal(j.status, 1);
  const doc = JSON.parse(j.stdout) as { results: Array<{ path: string; digest?: string; source?: string; error?: string }> };
  assert.equal(doc.results[0]!.digest, reference(a, 'sha512'));
  assert.equal(doc.results[0]!.source, 'computed');
  assert.match(doc.results[1]!.error!, /^ENOENT/);
  assert.match(doc.results[2]!.error!, /^EISDIR/);
  assert.equal(ward(['digest', '--hash-alg', 'md5', a]).status, 2);
});

test('digests are cached by file identity and recomputed when the file changes', (t) => {
  if (!requires(t, HAVE_TOOL, 'Debian fsverity')) return;
  const path = join(scratch.root, 'cached.bin');
  writeFileSync(path, randomBytes(50_000));
  const reader = new PropertyReader({ cache: new IdentityCache(8) });
  const look = () => {
    const fd = openSync(path, 'r');
    try {
      return reader.verityDigest(fd);
    } finally {
      closeSync(fd);
    }
  };
  const first = look();
  assert.deepEqual(first, { value: reference(path, 'sha256'), source: 'computed' });
  assert.deepEqual(look(), { value: first.value, source: 'cache' });
  appendFileSync(path, 'x');
  const changed = look();
  assert.equal(changed.source, 'computed');
  assert.equal(changed.value, reference(path, 'sha256'));
  assert.notEqual(changed.value, first.value);
});

test('ward digest shows progress for big files when stderr is a terminal, and not otherwise', (t) => {
  if (!requires(t, spawnSync('script', ['--version']).status === 0, 'script(1) from util-linux, for a terminal')) return;
  const path = join(scratch.root, 'big-sparse');
  const fd = openSync(path, 'w');
  ftruncateSync(fd, 260 * 1024 * 1024);
  closeSync(fd);
  const cmd = `"${process.execPath}" "${WARD_BIN}" digest "${path}"`;
  const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(tty.status, 0, tty.stderr);
  assert.match(tty.stdout, /big-sparse: 100% of 260 MiB/);
  const plain = ward(['digest', path]);
  assert.doesNotMatch(plain.stderr, /%/);
  assert.equal(plain.stdout.split(' ')[0], tty.stdout.replace(/\x1b\[K/g, '').split(/[\r\n]/).find((l) => l.startsWith('sha256:'))!.split(' ')[0]);
});
