// npm run bench:enforcer — ward daemon against Debian's fapolicyd with an equivalent rule set
// (the same trusted files by hash, default deny for the rest of a test tree), each alone on the
// same machine in one run: added latency per execve (warm cache and cache misses), exec
// throughput with 8 parallel spawners, and daemon CPU time per 10 000 execs.
// fapolicyd's configuration in /etc/fapolicyd is replaced for the run and restored afterwards.
// `--large-policy` runs only the 100,000-rule load/activate part and rewrites only its paragraph.

import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, median, readSection, table, writeSection } from './lib/report.ts';
import { request } from '../src/enforcer/client.ts';
import { randomBytes } from 'node:crypto';

const WARD = fileURLToPath(new URL('../bin/ward.js', import.meta.url));
const WARM = Number(process.env.WARD_BENCH_WARM ?? 3000);
const MISSES = Number(process.env.WARD_BENCH_MISSES ?? 300);
const PAR = 8;
const PAR_EACH = Number(process.env.WARD_BENCH_PAR_EACH ?? 1250);
const ROUNDS = Number(process.env.WARD_BENCH_ROUNDS ?? 3);
const SECTION = 'Exec enforcement: ward daemon vs fapolicyd (`npm run bench:enforcer`)';
const LARGE_ONLY = process.argv.includes('--large-policy');

if (process.getuid?.() !== 0) {
  console.error('bench:enforcer needs root');
  process.exit(2);
}
if (spawnSync('fapolicyd', ['--help']).error) {
  console.error('bench:enforcer needs Debian fapolicyd: WARD_BENCH_DEPS=1 bash scripts/test-deps.sh');
  process.exit(2);
}

const root = mkdtempSync(join(tmpdir(), 'ward-bench-enf-'));
chmodSync(root, 0o755);
const M = join(root, 'm');
execFileSync('mkdir', [M]);
execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=512m', 'tmpfs', M]);
const etcBackup = join(root, 'etc-fapolicyd');
cpSync('/etc/fapolicyd', etcBackup, { recursive: true });
let running: ChildProcess | undefined;

function binary(name: string, salt?: string): string {
  const p = join(M, name);
  copyFileSync('/bin/true', p);
  if (salt) appendFileSync(p, salt);
  chmodSync(p, 0o755);
  return p;
}

const good = binary('good');
const denied = binary('denied', 'x');
const misses = Array.from({ length: MISSES }, (_, i) => binary(`miss${i}`, `salt-${i}`));
const trusted = [good, ...misses];

/** Seconds for a shell loop; every exec must succeed (0) or be denied as expected. */
function shellLoop(script: string): number {
  const t = process.hrtime.bigint();
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`loop failed (${r.status}): ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const warmLoop = `i=0; while [ $i -lt ${WARM} ]; do ${good}; i=$((i+1)); done`;
const missLoop = `for f in ${misses.join(' ')}; do $f; done`;
const parLoop = `for p in $(seq ${PAR}); do (i=0; while [ $i -lt ${PAR_EACH} ]; do ${good}; i=$((i+1)); done) & done; wait`;
const deniedCheck = `if ${denied} 2>/dev/null; then exit 3; fi; exit 0`;

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, all threads
}
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

interface Result {
  warmUs: number;
  missUs: number;
  throughput: number;
  cpuMsPer10k: number | undefined;
}

/** Waits for a daemon (run under timeout) to print `marker`; returns the daemon's own pid. */
async function whenReady(p: ChildProcess, marker: string, name: string): Promise<number> {
  running = p;
  await new Promise<void>((resolve, reject) => {
    let log = '';
    p.stderr!.on('data', (d: Buffer) => {
      log += d;
      if (log.includes(marker)) resolve();
    });
    p.once('exit', () => reject(new Error(`${name} exited: ${log}`)));
  });
  return Number(execFileSync('pgrep', ['-P', String(p.pid)], { encoding: 'utf8' }).trim());
}

async function startWard(): Promise<number> {
  const state = join(root, `ward-state-${Date.now()}`);
  const pol = join(root, 'ward.pol');
  const digests = execFileSync(process.execPath, [WARD, 'digest', ...trusted], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(' ')[0]);
  writeFileSync(pol, `policy_name=bench policy_version=1.0.0\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\n${digests.map((d) => `op=EXECUTE fsverity_digest=${d} action=ALLOW`).join('\n')}\n`);
  writeFileSync(join(root, 'daemon.json'), '{}\n'); // defaults, not the host's /etc/ward/daemon.json
  const p = spawn('timeout', ['-s', 'KILL', '1200', process.execPath, WARD, 'daemon', '--config', join(root, 'daemon.json'), '--state-dir', state, '--socket', join(root, 'ward.sock'), '--audit-log', join(root, 'audit.jsonl'), '--mount', M, '--boot-policy', pol, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return whenReady(p, 'ready:', 'ward daemon');
}

async function startFapolicyd(): Promise<number> {
  const hashes = trusted.map((f) => execFileSync('sha256sum', [f], { encoding: 'utf8' }).split(' ')[0]);
  writeFileSync('/etc/fapolicyd/compiled.rules', [...hashes.map((h) => `allow perm=execute all : sha256hash=${h}`), `deny_audit perm=execute all : dir=${M}/`, 'allow perm=any all : all', ''].join('\n'));
  const conf = readFileSync(join(etcBackup, 'fapolicyd.conf'), 'utf8')
    .replace(/^trust = .*/m, 'trust = file')
    .replace(/^watch_fs = .*/m, 'watch_fs = tmpfs')
    .replace(/^uid = .*/m, 'uid = root')
    .replace(/^gid = .*/m, 'gid = root');
  writeFileSync('/etc/fapolicyd/fapolicyd.conf', conf);
  const p = spawn('timeout', ['-s', 'KILL', '1200', 'fapolicyd', '--debug-deny'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return whenReady(p, 'Starting to listen for events', 'fapolicyd');
}

async function stop(): Promise<void> {
  const p = running;
  running = undefined;
  if (!p || p.exitCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
  spawnSync('pkill', ['-KILL', '-P', String(p.pid)]);
}

async function measure(start: (() => Promise<number>) | undefined): Promise<Result> {
  const pid = start ? await start() : undefined;
  try {
    if (start && shellLoop(deniedCheck) === undefined) throw new Error('unreachable');
    const missUs = (shellLoop(missLoop) / MISSES) * 1e6; // cold: first exec of each file
    shellLoop(warmLoop); // warm the caches
    const warmUs = median(Array.from({ length: ROUNDS }, () => (shellLoop(warmLoop) / WARM) * 1e6));
    const c0 = pid ? cpuTicks(pid) : 0;
    const parS = shellLoop(parLoop);
    const c1 = pid ? cpuTicks(pid) : 0;
    const total = PAR * PAR_EACH;
    return { warmUs, missUs, throughput: total / parS, cpuMsPer10k: pid ? ((c1 - c0) * TICK_MS * 10_000) / total : undefined };
  } finally {
    await stop();
  }
}

/** Longest single exec (spawn → exit) of `good` while `during` runs, and how many ran. */
async function execsDuring<T>(during: () => Promise<T>): Promise<{ value: T; maxMs: number; count: number }> {
  let done = false;
  let maxMs = 0;
  let count = 0;
  const loop = (async () => {
    while (!done) {
      const t = process.hrtime.bigint();
      await new Promise((r) => spawn(good, [], { stdio: 'ignore' }).once('exit', r));
      maxMs = Math.max(maxMs, Number(process.hrtime.bigint() - t) / 1e6);
      count++;
    }
  })();
  await new Promise((r) => setTimeout(r, 200));
  const value = await during();
  done = true;
  await loop;
  return { value, maxMs, count };
}

/**
 * Issue 14's target "the daemon activates a 100,000-rule policy without stalling any exec": a
 * stall (compiling on the decision path; it was ≈3.8 s for 300,000 rules) makes the longest exec
 * during activation about as long as the compile, i.e. most of the activation. Without one, the
 * longest exec is what the machine's load gives anyway. So: no stall when execs completed during
 * the activation and the longest of them took at most 10 % of the activation's time (no exec waited
 * for the compile) — or, for an activation too short for that share to mean anything, at most 2×
 * the longest exec of the idle window just before.
 */
function stallVerdict(act: { value: number; maxMs: number; count: number }, idle: { maxMs: number }): string {
  const ratio = act.maxMs / idle.maxMs;
  const share = act.maxMs / act.value;
  const met = act.count > 0 && (share <= 0.1 || ratio <= 2);
  return `- activation of a 100,000-rule policy without stalling execs: ${act.count} execs completed in its ${act.value.toFixed(0)} ms, the longest ${act.maxMs.toFixed(1)} ms = ${(share * 100).toFixed(1)} % of the activation (${ratio.toFixed(2)}× the ${idle.maxMs.toFixed(1)} ms longest idle) (target: no exec waits for the compile — longest ≤ 10 % of the activation, or ≤ 2× idle): ${met ? 'met' : 'MISSED'}`;
}

/** A 100,000-rule policy: load over the socket, then activate while execs run (issue 14). */
async function largePolicy(): Promise<string[]> {
  await startWard();
  try {
    const digest = execFileSync(process.execPath, [WARD, 'digest', good], { encoding: 'utf8' }).split(' ')[0];
    const lines = ['policy_name=big policy_version=9.0.0', 'DEFAULT action=ALLOW', 'DEFAULT op=EXECUTE action=DENY'];
    for (let i = 0; i < 100_000; i++) lines.push(`op=EXECUTE fsverity_digest=sha256:${randomBytes(32).toString('hex')} action=ALLOW`);
    lines.push(`op=EXECUTE fsverity_digest=${digest} action=ALLOW`);
    const text = Buffer.from(lines.join('\n') + '\n');
    const sock = join(root, 'ward.sock');
    // As `ward policy load` sends it (the raw bytes after the request line).
    const t0 = process.hrtime.bigint();
    const load = await request(sock, { verb: 'load', text });
    const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
    if (!load.ok) throw new Error(`load failed: ${load.message}`);
    const idle = await execsDuring(() => new Promise((r) => setTimeout(r, 2000)));
    const act = await execsDuring(async () => {
      const t = process.hrtime.bigint();
      const r = await request(sock, { verb: 'activate', name: 'big' });
      if (!r.ok) throw new Error(`activate failed: ${r.message}`);
      return Number(process.hrtime.bigint() - t) / 1e6;
    });
    return [
      `A 100,000-rule policy (${(text.length / 1e6).toFixed(1)} MB), ward daemon with 2 event threads (load average ${loadavg()[0]!.toFixed(1)}, 1 min): \`load\` over the control socket took ${loadMs.toFixed(0)} ms (target ≤ 1000 ms: ${loadMs <= 1000 ? 'met' : 'MISSED'}); \`activate\` (every thread compiled and switched) took ${act.value.toFixed(0)} ms, during which ${act.count} execs ran, the longest ${act.maxMs.toFixed(1)} ms (vs ${idle.maxMs.toFixed(1)} ms longest in 2 s without a switch).`,
      '',
      stallVerdict(act, idle),
    ];
  } finally {
    await stop();
  }
}

try {
  if (LARGE_ONLY) {
    const paragraph = (await largePolicy()).join('\n');
    console.log(paragraph);
    const old = readSection(SECTION);
    // The paragraph and its verdict line (older runs wrote the paragraph alone).
    const previous = /^A 100,000-rule policy.*$(?:\n\n- activation of a 100,000-rule policy.*$)?/m;
    if (old === undefined || !previous.test(old)) throw new Error(`docs/benchmarks.md has no large-policy paragraph in "${SECTION}": run the whole benchmark`);
    writeSection(SECTION, old.replace(previous, () => paragraph));
  } else {
    shellLoop(warmLoop);
    const bare = await measure(undefined);
    const ward = await measure(startWard);
    const fapo = await measure(startFapolicyd);
    const bare2 = await measure(undefined); // drift check
    const bareWarm = (bare.warmUs + bare2.warmUs) / 2;
    const bareMiss = (bare.missUs + bare2.missUs) / 2;
    const bareTp = (bare.throughput + bare2.throughput) / 2;
    const added = (r: Result) => [r.warmUs - bareWarm, r.missUs - bareMiss];
    const [wardWarmAdd, wardMissAdd] = added(ward) as [number, number];
    const [fapoWarmAdd, fapoMissAdd] = added(fapo) as [number, number];
    const row = (name: string, r: Result, addW: number | string, addM: number | string) => [
      name,
      r.warmUs.toFixed(0),
      typeof addW === 'number' ? addW.toFixed(0) : addW,
      `${(r.warmUs / bareWarm).toFixed(2)}×`,
      r.missUs.toFixed(0),
      typeof addM === 'number' ? addM.toFixed(0) : addM,
      Math.round(r.throughput).toLocaleString('en-US'),
      `${(r.throughput / bareTp).toFixed(2)}×`,
      r.cpuMsPer10k === undefined ? '—' : r.cpuMsPer10k.toFixed(0),
    ];
    const body = [
      `Machine: ${machine()}. Run: ${new Date().toISOString().slice(0, 10)}, load average ${loadavg()[1]!.toFixed(1)} (5 min) at the end: on a shared machine, compare rows of one run, not runs. Each daemon alone, one after the other; both watch the same tmpfs (fapolicyd: every tmpfs mount). Policy: ${trusted.length} trusted files by hash (ward: fs-verity digest, fapolicyd: sha256), default deny for the rest of the tree; both checked to deny an untrusted copy. Latency = a shell loop of execs (fork + execve + exit), per exec; warm = ${WARM} execs of one trusted file, median of ${ROUNDS}; misses = the first exec of ${MISSES} distinct trusted files after the daemon started; throughput = ${PAR} parallel loops × ${PAR_EACH}.`,
      '',
      table(
        ['', 'warm µs/exec', 'added µs', '× bare', 'miss µs/exec', 'added µs', 'execs/s (8 parallel)', '× bare', 'daemon CPU ms / 10k execs'],
        [row('bare (no daemon)', { ...bare, warmUs: bareWarm, missUs: bareMiss, throughput: bareTp }, '—', '—'), row('ward daemon', ward, wardWarmAdd, wardMissAdd), row('fapolicyd 1.1.7', fapo, fapoWarmAdd, fapoMissAdd)],
      ),
      '',
      `- warm added latency: ward ${wardWarmAdd.toFixed(0)} µs vs fapolicyd ${fapoWarmAdd.toFixed(0)} µs (target ward ≤ fapolicyd): ${wardWarmAdd <= fapoWarmAdd ? 'met' : 'MISSED'}`,
      `- cache-miss added latency: ward ${wardMissAdd.toFixed(0)} µs vs fapolicyd ${fapoMissAdd.toFixed(0)} µs (target ward ≤ fapolicyd): ${wardMissAdd <= fapoMissAdd ? 'met' : 'MISSED'}`,
      `- warm exec with ward: ${(ward.warmUs / bareWarm).toFixed(2)}× bare (target ≤ 1.3×): ${ward.warmUs / bareWarm <= 1.3 ? 'met' : 'MISSED'}`,
      '',
      ...(await largePolicy()),
    ].join('\n');
    console.log(body);
    writeSection(SECTION, body);
  }
} finally {
  await stop();
  rmSync('/etc/fapolicyd', { recursive: true, force: true });
  cpSync(etcBackup, '/etc/fapolicyd', { recursive: true });
  spawnSync('umount', ['-l', M]);
  rmSync(root, { recursive: true, force: true });
  if (existsSync('/etc/fapolicyd/compiled.rules') && !existsSync(join(etcBackup, 'compiled.rules'))) rmSync('/etc/fapolicyd/compiled.rules');
}
