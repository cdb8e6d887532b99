// npm run bench:bpf — exec latency in Debian's 6.1 guest (this host's kernel refuses BPF LSM
// programs): no enforcement, ward's BPF LSM backend, and ward daemon's fanotify backend, in one
// boot, interleaved rounds, the same policy (a digest deny-list) and the same static binary.
// Under TCG absolute times are meaningless: the ratios to "none" are the result.
// On the host it boots the guest (scripts/vm.sh), which prints its measurements as JSON; the host
// writes the section of docs/benchmarks.md (the guest cannot write the host's files).

import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { median, table, writeSection } from './lib/report.ts';

const N = Number(process.env.WARD_BENCH_EXECS ?? 300);
const ROUNDS = Number(process.env.WARD_BENCH_ROUNDS ?? 3);
const WARD = fileURLToPath(new URL('../bin/ward.js', import.meta.url));
const VM = fileURLToPath(new URL('../scripts/vm.sh', import.meta.url));
const MARK = 'WARD-BPF-BENCH ';

interface Result { kernel: string; execs: number; rounds: number; ms: Record<string, number[]> }

async function guest(): Promise<void> {
  const { BpfBackend } = await import('../src/enforcer/bpf-backend.ts');
  const { parsePolicyOrThrow } = await import('../src/policy/parser.ts');
  const D = '/scratch/bm';
  mkdirSync(D, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', D]);
  copyFileSync('/bin/busybox', `${D}/true`); // busybox picks its applet from argv[0]
  copyFileSync('/bin/busybox', `${D}/denied`);
  appendFileSync(`${D}/denied`, 'x');
  chmodSync(`${D}/true`, 0o755);
  const digest = execFileSync('fsverity', ['digest', '--compact', `${D}/denied`], { encoding: 'utf8' }).trim();
  const policyText = `policy_name=bench policy_version=0.0.1\nDEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=sha256:${digest} action=DENY\n`;
  writeFileSync('/scratch/bench.pol', policyText);
  const loop = () => {
    const t = process.hrtime.bigint();
    const r = spawnSync('/bin/sh', ['-c', `i=0; while [ $i -lt ${N} ]; do ${D}/true || exit 1; i=$((i+1)); done`]);
    if (r.status !== 0) throw new Error(`exec loop failed: ${r.stderr}`);
    return Number(process.hrtime.bigint() - t) / 1e6 / N;
  };
  const ms: Record<string, number[]> = { none: [], bpf: [], fanotify: [] };
  loop(); // warm the page cache and the shell
  for (let r = 0; r < ROUNDS; r++) {
    ms.none!.push(loop());
    const b = new BpfBackend({ failureMode: 'open', cover: [D] });
    await b.start(parsePolicyOrThrow(policyText), { enforce: true, auditSuccess: false }, { audit: () => {}, log: () => {}, failed: () => {} });
    if (!spawnSync(`${D}/denied`, ['true']).error) throw new Error('the BPF backend does not deny the denied binary');
    ms.bpf!.push(loop());
    await b.stop();
    const d: ChildProcess = spawn(process.execPath, [WARD, 'daemon', '--mount', D, '--boot-policy', '/scratch/bench.pol', '--state-dir', `/scratch/state${r}`, '--socket', `/scratch/ctl${r}.sock`, '--audit-log', `/scratch/audit${r}.jsonl`, '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      let log = '';
      d.stderr!.on('data', (c: Buffer) => { log += c.toString(); if (log.includes('ready:')) resolve(); });
      d.once('exit', (c) => reject(new Error(`daemon exited ${c}: ${log}`)));
    });
    if (!spawnSync(`${D}/denied`, ['true']).error) throw new Error('the fanotify daemon does not deny the denied binary');
    ms.fanotify!.push(loop());
    d.kill('SIGTERM');
    await new Promise((res) => d.once('exit', res));
  }
  const result: Result = { kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(), execs: N, rounds: ROUNDS, ms };
  process.stdout.write(`${MARK}${JSON.stringify(result)}\n`);
}

function host(): void {
  // TCG turns guest instructions into host work on one host thread: other load on the host
  // slows every row, and not always evenly. Recorded so runs can be told apart.
  const loadBefore = loadavg()[0]!;
  const r = spawnSync('bash', [VM, '--kernel', '6.1', '--', process.execPath, fileURLToPath(import.meta.url)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  const line = r.stdout.split('\n').find((l) => l.startsWith(MARK));
  if (r.status !== 0 || !line) {
    console.error(`bench:bpf: the guest run failed (status ${r.status})\n${r.stdout}`);
    process.exit(1);
  }
  const res = JSON.parse(line.slice(MARK.length)) as Result;
  const loadAfter = loadavg()[0]!;
  const none = median(res.ms.none!);
  const rows = Object.entries(res.ms).map(([k, v]) => [k === 'none' ? 'no enforcement' : k === 'bpf' ? 'ward BPF LSM backend' : 'ward daemon (fanotify)', median(v).toFixed(2), v.map((x) => x.toFixed(2)).join(', '), (median(v) / none).toFixed(2) + '×']);
  const body = [
    `Guest: Debian ${res.kernel} under QEMU TCG (1 vCPU; absolute times are TCG's, only ratios mean anything). Run: ${new Date().toISOString().slice(0, 10)}. Host load average (1 min) ${loadBefore.toFixed(1)} before the boot, ${loadAfter.toFixed(1)} after, on ${cpus().length} CPUs: on a busy host compare rows of one run, not runs.`,
    `fork + exec of a static binary (busybox) on a tmpfs, ${res.execs} per loop, ${res.rounds} interleaved rounds, medians; policy: DEFAULT ALLOW and one fs-verity digest DENY rule (each backend is checked to deny the denied binary first).`,
    '',
    table(['configuration', 'ms per exec (median)', 'each round', 'vs none'], rows),
    '',
    'Differences within the spread of the rounds are noise: a BPF hook call costs well under a microsecond natively (a prototype measured ≈0.4 µs from the kernel program statistics), far below TCG\'s per-exec time; the fanotify row pays a round trip to the daemon per exec.',
  ].join('\n');
  console.log(body);
  writeSection('BPF LSM vs fanotify exec latency (`npm run bench:bpf`)', body);
}

if (process.env.WARD_VM === '1') await guest();
else host();
