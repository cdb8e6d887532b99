// npm run bench:digest — ward's fs-verity digest and plain sha256 of a 1 GiB file against
// Debian's `fsverity digest` and coreutils `sha256sum`, measured in the same run (page cache
// warm for all), and the cost of a digest-cache hit.

import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeVerityDigest, PropertyReader } from '../src/properties/index.ts';
import { machine, median, table, writeSection } from './lib/report.ts';

const SIZE = Number(process.env.WARD_BENCH_DIGEST_MIB ?? 1024) * 1024 * 1024;
const RUNS = Number(process.env.WARD_BENCH_RUNS ?? 3);

if (spawnSync('fsverity', ['--version']).status !== 0) {
  console.error('bench:digest needs Debian fsverity: run scripts/test-deps.sh as root (apt-get install fsverity)');
  process.exit(2);
}

const dir = mkdtempSync(join(tmpdir(), 'ward-bench-digest-'));
const file = join(dir, 'big.bin');
try {
  const fd = openSync(file, 'w');
  const chunk = randomBytes(8 * 1024 * 1024);
  for (let off = 0; off < SIZE; off += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, SIZE - off));
  closeSync(fd);
  execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] }); // warm the page cache

  const time = (fn: () => string): { ms: number; out: string } => {
    const t = process.hrtime.bigint();
    const out = fn();
    return { ms: Number(process.hrtime.bigint() - t) / 1e6, out };
  };
  const wardVerity = () => {
    const f = openSync(file, 'r');
    try {
      return 'sha256:' + computeVerityDigest(f, fstatSync(f).size, 'sha256').toString('hex');
    } finally {
      closeSync(f);
    }
  };
  const wardSha256 = () => {
    const f = openSync(file, 'r');
    const h = createHash('sha256');
    const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
    let pos = 0;
    for (;;) {
      const n = readSync(f, buf, 0, buf.length, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
    closeSync(f);
    return h.digest('hex');
  };
  const toolVerity = () => execFileSync('fsverity', ['digest', file], { encoding: 'utf8' }).split(' ')[0]!;
  const toolSha256 = () => execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]!;

  const runs: Record<string, number[]> = { wardVerity: [], toolVerity: [], wardSha256: [], toolSha256: [] };
  const outputs: Record<string, string> = {};
  for (let i = 0; i < RUNS; i++) {
    for (const [name, fn] of Object.entries({ wardVerity, toolVerity, wardSha256, toolSha256 })) {
      const r = time(fn);
      runs[name]!.push(r.ms);
      outputs[name] = r.out;
    }
  }
  if (outputs.wardVerity !== outputs.toolVerity) throw new Error(`fs-verity digests differ: ${outputs.wardVerity} vs ${outputs.toolVerity}`);
  if (outputs.wardSha256 !== outputs.toolSha256) throw new Error('sha256 digests differ');
  const mibps = (ms: number) => SIZE / 1024 / 1024 / (ms / 1000);
  const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)])) as Record<string, number>;

  // Cache hits: fstat + identity key + map lookup, through an open fd.
  const reader = new PropertyReader();
  const f = openSync(file, 'r');
  reader.verityDigest(f);
  const N = 200_000;
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) reader.verityDigest(f);
  const hitUs = Number(process.hrtime.bigint() - t) / 1e3 / N;
  closeSync(f);

  const verityRatio = mibps(m.wardVerity!) / mibps(m.toolVerity!);
  const shaRatio = mibps(m.wardSha256!) / mibps(m.toolSha256!);
  const body = [
    `Machine: ${machine()}. Run: ${new Date().toISOString().slice(0, 10)}. File: ${SIZE / 1024 / 1024} MiB of random bytes, page cache warm; medians of ${RUNS} runs each, interleaved. Outputs checked equal.`,
    '',
    table(
      ['digest', 'ward MiB/s', 'peer', 'peer MiB/s', 'ward / peer'],
      [
        ['fs-verity (sha256, 4 KiB blocks)', mibps(m.wardVerity!).toFixed(0), '`fsverity digest` (fsverity-utils)', mibps(m.toolVerity!).toFixed(0), `${verityRatio.toFixed(2)}×`],
        ['sha256 of the whole file', mibps(m.wardSha256!).toFixed(0), '`sha256sum` (coreutils)', mibps(m.toolSha256!).toFixed(0), `${shaRatio.toFixed(2)}×`],
      ],
    ),
    '',
    `- fs-verity throughput ${verityRatio.toFixed(2)}× fsverity-utils (target ≥ 0.8×): ${verityRatio >= 0.8 ? 'met' : 'MISSED'}`,
    `- sha256 throughput ${shaRatio.toFixed(2)}× sha256sum (target ≥ 0.8×): ${shaRatio >= 0.8 ? 'met' : 'MISSED'}`,
    `- digest cache hit (fstat of the fd + lookup): ${hitUs.toFixed(2)} µs (target < 5 µs): ${hitUs < 5 ? 'met' : 'MISSED'}`,
  ].join('\n');
  console.log(body);
  writeSection('File digests (`npm run bench:digest`)', body);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
