// The Debian package on this machine: `npm run package:deb`, lintian, `dpkg -i` with a PATH
// whose `node` is a trap (the package must bring its own), the CLI and the daemon's config check
// on the shipped files, `ward node APP` (one Node start-up, on the package's runtime), the unit verified by systemd-analyze, an upgrade that keeps state and
// edited conffiles, remove, purge, and nothing named ward left behind.
// Not here: systemd is not PID 1 on this machine, so the maintainer scripts' start/stop of the
// service is not exercised (their enable/disable through deb-systemd-helper is).

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../helpers/cli.ts';
import { IS_ROOT, requires, Scratch } from '../helpers/kernel.ts';
import { mustRun, NODE_DIR, run, SYSTEM_PATH, type Run } from './build.ts';

const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
// Every object bpf/build.sh builds (the repository's bpf/*.bpf.o).
const BPF_OBJECTS = readdirSync(join(REPO_ROOT, 'bpf')).filter((f) => f.endsWith('.bpf.o')).sort();
const SEARCH = ['/etc', '/usr/bin', '/usr/lib', '/usr/share', '/lib/systemd', '/var/lib', '/var/cache', '/var/log', '/run'];

/** Every path named ward or ward.* (and all under it) in the places a package installs to (what must not outlive purge). */
function wardPaths(): string[] {
  const r = run('find', [...SEARCH, '-xdev', '-regextype', 'posix-extended', '-regex', '.*/ward(\\.[^/]*)?(/.*)?', '-not', '-path', '/usr/lib/node_modules/*'], { env: { PATH: SYSTEM_PATH } });
  return r.stdout.split('\n').filter((p) => p && !p.startsWith(REPO_ROOT) && !p.startsWith('/run/user'));
}

/** dpkg, waiting for another engineer's dpkg/apt to finish rather than failing on the lock. */
async function dpkg(args: string[]): Promise<Run> {
  for (let i = 0; ; i++) {
    const r = run('dpkg', args, { env: { PATH: SYSTEM_PATH, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status === 0 || !/lock/i.test(r.stderr) || i >= 120) return r;
    await sleep(5000);
  }
}

const installed = (): boolean => run('dpkg-query', ['-W', '-f=${Status}', 'ward']).stdout.includes('installed');

describe('Debian package', { timeout: 900_000 }, () => {
  let deb = '';
  let work = '';
  let env: NodeJS.ProcessEnv = {};
  let before_: string[] = [];
  let ready = false;

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'ward-deb-'));
    // A `node` first on PATH that fails loudly: anything picking up a system node is caught.
    const trap = join(work, 'trap');
    mustRun('mkdir', [trap]);
    writeFileSync(join(trap, 'node'), '#!/bin/sh\necho "system node used: $0 $*" >&2\nexit 99\n');
    chmodSync(join(trap, 'node'), 0o755);
    env = { PATH: `${trap}:${SYSTEM_PATH}`, LANG: 'C.UTF-8', HOME: work };
  });
  after(async () => {
    if (ready && installed()) await dpkg(['--purge', 'ward']);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('builds with npm run package:deb', (t) => {
    if (!requires(t, IS_ROOT, 'root (dpkg -i)')) return;
    // A daemon started by postinst would mark every mount of this shared machine: only where
    // systemd is not running (as on CI's machine), or a policy-rc.d forbids starting services.
    const noStart = !existsSync('/run/systemd/system') || run('/usr/sbin/policy-rc.d', ['ward', 'start']).status === 101;
    if (!requires(t, noStart, 'a host where installing cannot start the daemon (no systemd, or policy-rc.d)')) return;
    assert.ok(!installed(), 'ward is already installed on this host: purge it first (dpkg --purge ward)');
    const out = mustRun('npm', ['run', '--silent', 'package:deb'], { cwd: REPO_ROOT, env: { ...process.env, PATH: `${NODE_DIR}:${process.env.PATH ?? SYSTEM_PATH}` } });
    deb = out.trim().split('\n').at(-1)!;
    assert.equal(deb, join(REPO_ROOT, 'build', `ward_${version}_amd64.deb`));
    const info = mustRun('dpkg-deb', ['-f', deb, 'Package', 'Version', 'Architecture', 'Depends']);
    assert.match(info, new RegExp(`^Package: ward\nVersion: ${version}\nArchitecture: amd64\nDepends: .*libc6 \\(>= [\\d.]+\\)`));
    // The apt hook's snippets (packaging/apt/, when the repository has it) are conffiles too.
    const aptDir = join(REPO_ROOT, 'packaging', 'apt');
    const aptFiles = existsSync(aptDir) ? readdirSync(aptDir).filter((n) => statSync(join(aptDir, n)).isFile()) : [];
    const aptConf = aptFiles.filter((n) => !n.endsWith('.md') && !(statSync(join(aptDir, n)).mode & 0o111)).map((n) => `/etc/apt/apt.conf.d/${n}`);
    assert.deepEqual(mustRun('dpkg-deb', ['-I', deb, 'conffiles']).split('\n').filter(Boolean).sort(), ['/etc/ward/boot.pol', '/etc/ward/daemon.json', ...aptConf].sort());
    const files = mustRun('dpkg-deb', ['-c', deb]).split('\n').map((l) => l.split(/\s+/).slice(5).join(' ')).filter(Boolean);
    for (const f of ['./usr/bin/ward', './usr/lib/ward/runtime/bin/node', './usr/lib/ward/dist/cli/main.js', './usr/lib/ward/node_modules/koffi/package.json', './lib/systemd/system/ward.service', './var/lib/ward/', './usr/share/man/man1/ward.1.gz', './usr/share/bash-completion/completions/ward', './usr/share/doc/ward/copyright'])
      assert.ok(files.includes(f), `${f} missing`);
    // ward's BPF objects (and nothing else of bpf/: no sources, no build script), where the loader looks.
    assert.deepEqual(files.filter((f) => f.startsWith('./usr/lib/ward/bpf/') && !f.endsWith('/')).sort(), BPF_OBJECTS.map((f) => `./usr/lib/ward/bpf/${f}`));
    for (const n of aptFiles.filter((n) => statSync(join(aptDir, n)).mode & 0o111)) assert.ok(files.includes(`./usr/lib/ward/${n}`), `apt hook ${n} missing`);
    assert.deepEqual(files.filter((f) => /\/(src|test|bench|\.cache)\/$/.test(f) && f.startsWith('./usr/lib/ward/') && !f.includes('/node_modules/')), []);
    assert.deepEqual(files.filter((f) => /node_modules\/(typescript|fast-check|node|@types)\/$/.test(f)), [], 'dev dependencies shipped');
    ready = true;
  });

  it('lintian reports no error and no warning', (t) => {
    if (!requires(t, ready, 'the package built')) return;
    if (!requires(t, run('sh', ['-c', 'command -v lintian']).status === 0, 'lintian (scripts/test-deps.sh installs it)')) return;
    const r = run('lintian', ['--fail-on', 'error,warning', deb], { env: { PATH: SYSTEM_PATH, LANG: 'C.UTF-8' } });
    assert.deepEqual(r.stdout.split('\n').filter((l) => /^[EW]: /.test(l)), []);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it('installs with dpkg -i and runs on its own Node, with a node on PATH that must not be used', async (t) => {
    if (!requires(t, ready, 'the package built')) return;
    before_ = wardPaths();
    const r = await dpkg(['-i', deb]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.ok(installed());
    // The search that must come back empty after purge does see what the package installs.
    const now = wardPaths();
    for (const p of ['/usr/bin/ward', '/usr/lib/ward', '/etc/ward', '/var/lib/ward', '/var/cache/ward', '/var/lib/dpkg/info/ward.list']) assert.ok(now.includes(p) && !before_.includes(p), p);
    const v = run('/usr/bin/ward', ['--version'], { env });
    assert.deepEqual([v.status, v.stdout, v.stderr], [0, `${version}\n`, '']);
    assert.match(mustRun('/usr/lib/ward/runtime/bin/node', ['--version']), /^v24\./);
    const status = run('ward', ['status'], { env });
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /Landlock/);
    assert.doesNotMatch(status.stderr, /system node used/);
    // The installed BPF objects are the repository's, and the installed ward loads them from there.
    for (const f of BPF_OBJECTS) assert.ok(readFileSync(`/usr/lib/ward/bpf/${f}`).equals(readFileSync(join(REPO_ROOT, 'bpf', f))), `/usr/lib/ward/bpf/${f} differs from the repository's`);
    const json = run('ward', ['status', '--json'], { env });
    const bpf = (JSON.parse(json.stdout) as { items: Array<{ name: string; value: unknown; source?: string; meaning: string }> }).items.find((i) => i.name === 'BPF LSM');
    assert.equal(bpf?.source, '/usr/lib/ward/bpf', JSON.stringify(bpf));
    assert.notEqual(bpf.value, 'objects missing', bpf.meaning);
    assert.doesNotMatch(bpf.meaning, /ENOENT/);
  });

  it("ward node APP: one Node start-up, on the package's runtime, with enforcement; ward node trust and --help are the CLI", (t) => {
    if (!requires(t, installed(), 'the package installed')) return;
    if (!requires(t, run('sh', ['-c', 'command -v strace']).status === 0, 'strace (scripts/test-deps.sh installs it)')) return;
    const RUNTIME = '/usr/lib/ward/runtime/bin/node';
    const app = join(work, 'app');
    mustRun('mkdir', [app]);
    // dep.js is not executable: under --enforce its AT_EXECVE_CHECK fails, until `ward node trust`.
    writeFileSync(
      join(app, 'main.js'),
      `let dep; try { dep = require('./dep.js'); } catch (e) { dep = e.code; }
      console.log(JSON.stringify({ execPath: process.execPath, ppid: process.ppid, dep, preload: Object.keys(require.cache).filter((p) => p.startsWith('/usr/lib/ward/')) }));\n`,
      { mode: 0o755 },
    );
    writeFileSync(join(app, 'dep.js'), 'module.exports = 42;\n', { mode: 0o644 });
    const node = (args: string[]) => {
      const r = spawnSync('/usr/bin/ward', ['node', ...args], { env, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout) as { execPath: string; ppid: number; dep: number | string; preload: string[] };
    };
    // The app is this test's child on the package's Node (no intermediate process; the PATH's
    // node is the trap), with ward's preload loaded from the package.
    const plain = node([join(app, 'main.js')]);
    assert.deepEqual(plain, { execPath: RUNTIME, ppid: process.pid, dep: 42, preload: ['/usr/lib/ward/bin/ward-node-preload.cjs'] });
    assert.equal(node(['--enforce', join(app, 'main.js')]).dep, 'ERR_WARD_EXEC_DENIED');
    // One Node start-up, as the kernel's execve saw them (strace, an independent observer): the
    // launcher, its shell, then the runtime once with the app — the CLI (ward.js) never starts.
    const log = join(work, 'execve.log');
    const traced = run('strace', ['-f', '-qq', '-s', '256', '-e', 'trace=execve', '-e', 'signal=none', '-o', log, '/usr/bin/ward', 'node', join(app, 'main.js')], { env });
    assert.equal(traced.status, 0, traced.stderr);
    const execs = readFileSync(log, 'utf8').split('\n').filter((l) => / = 0$/.test(l)).map((l) => /execve\("([^"]+)", \[(.*?)\]/.exec(l)!);
    assert.deepEqual(execs.map((m) => m[1]), ['/usr/bin/ward', '/bin/sh', RUNTIME], readFileSync(log, 'utf8'));
    assert.doesNotMatch(execs.map((m) => m[2]).join('\n'), /ward\.js/);
    // `ward node trust` is still the CLI (on the package's runtime): it makes dep.js loadable.
    const trust = run('/usr/bin/ward', ['node', 'trust', app], { env });
    assert.equal(trust.status, 0, trust.stdout + trust.stderr);
    assert.ok(statSync(join(app, 'dep.js')).mode & 0o100, 'ward node trust did not set the execute bit');
    assert.equal(node(['--enforce', join(app, 'main.js')]).dep, 42);
    const help = run('/usr/bin/ward', ['node', '--help'], { env });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: ward node /);
    assert.doesNotMatch(trust.stderr + help.stderr, /system node used/);
  });

  it('the shipped configuration passes ward daemon --check-config: permissive, allow-all boot policy', (t) => {
    if (!requires(t, installed(), 'the package installed')) return;
    const plain = run('ward', ['daemon', '--check-config'], { env });
    assert.equal(plain.status, 0, plain.stdout + plain.stderr);
    const r = run('ward', ['daemon', '--check-config', '--json'], { env });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as { ok: boolean; config: { enforce: boolean; bootPolicy: string; stateDir: string } };
    assert.equal(out.ok, true);
    assert.equal(out.config.enforce, false, 'installing must never start enforcing');
    assert.equal(out.config.bootPolicy, '/etc/ward/boot.pol');
    assert.equal(out.config.stateDir, '/var/lib/ward');
    // The boot policy allows every operation: evaluated by ward's own engine on a real file.
    const ev = run('ward', ['policy', 'eval', '/etc/ward/boot.pol', '--op', 'EXECUTE', '/usr/bin/env'], { env });
    assert.equal(ev.status, 0, ev.stdout + ev.stderr);
    assert.match(ev.stdout, /ALLOW/);
    assert.equal(statSync('/var/lib/ward').mode & 0o777, 0o700);
  });

  it('the packaged daemon decides execs (its worker runs from dist/) on a tmpfs of its own', async (t) => {
    if (!requires(t, installed(), 'the package installed')) return;
    // Marks only this test's tmpfs (--mount), enforcing a policy that denies every exec there;
    // under timeout -s KILL so it cannot outlive the test. Its own config, not /etc/ward's.
    const scratch = new Scratch('ward-deb-daemon-');
    try {
      const m = scratch.tmpfs('m');
      const bin = join(m, 'true');
      copyFileSync('/bin/true', bin);
      chmodSync(bin, 0o755);
      writeFileSync(join(scratch.root, 'daemon.json'), '{}\n');
      writeFileSync(join(scratch.root, 'deny.pol'), 'policy_name=deny_m policy_version=0.0.1\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\n');
      const args = ['-s', 'KILL', '60', '/usr/bin/ward', 'daemon', '--config', join(scratch.root, 'daemon.json'), '--state-dir', join(scratch.root, 'state'), '--socket', join(scratch.root, 'ctl.sock'), '--audit-log', join(scratch.root, 'audit.jsonl'), '--mount', m, '--boot-policy', join(scratch.root, 'deny.pol')];
      const proc = spawn('timeout', args, { stdio: ['ignore', 'ignore', 'pipe'], env });
      let log = '';
      const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`daemon did not get ready: ${log}`)), 30_000);
        proc.stderr.on('data', (d: Buffer) => {
          log += d.toString();
          if (log.includes('ready:')) {
            clearTimeout(timer);
            resolve();
          }
        });
        void exited.then((code) => reject(new Error(`daemon exited (${code}): ${log}`)));
      });
      try {
        // The root daemon's Node is started so that SIGUSR1 never opens the inspector, from its start.
        const pid = spawnSync('pgrep', ['-P', String(proc.pid)], { encoding: 'utf8' }).stdout.trim();
        assert.deepEqual(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, 3), ['/usr/lib/ward/runtime/bin/node', '--disable-sigusr1', '/usr/lib/ward/bin/ward.js']);
        const denied = spawnSync(bin, [], { env });
        assert.equal((denied.error as NodeJS.ErrnoException | undefined)?.code, 'EPERM', `exec on the watched tmpfs: ${JSON.stringify(denied)}\n${log}`);
        assert.equal(spawnSync('/bin/true', [], { env }).status, 0, 'an exec elsewhere was affected');
      } finally {
        proc.kill('SIGTERM');
        await exited;
      }
      assert.doesNotMatch(log, /system node used/);
      assert.equal(spawnSync(bin, [], { env }).status, 0, 'still denied after the daemon stopped');
    } finally {
      scratch.cleanup();
    }
  });

  it('the unit passes systemd-analyze verify and is enabled; man page and completion work', (t) => {
    if (!requires(t, installed(), 'the package installed')) return;
    const unit = readFileSync('/lib/systemd/system/ward.service', 'utf8');
    assert.match(unit, /^ExecStart=\/usr\/bin\/ward daemon/m);
    const v = run('systemd-analyze', ['verify', '/lib/systemd/system/ward.service'], { env: { PATH: SYSTEM_PATH } });
    assert.equal(v.status, 0, v.stdout + v.stderr);
    assert.doesNotMatch(v.stderr, /ward\.service/);
    // Enabled as dh_installsystemd does (the symlink systemctl enable would make).
    assert.equal(readlinkSync('/etc/systemd/system/sysinit.target.wants/ward.service'), '/lib/systemd/system/ward.service');
    assert.equal(mustRun('man', ['-w', 'ward'], { env: { PATH: SYSTEM_PATH } }).trim(), '/usr/share/man/man1/ward.1.gz');
    const man = run('man', ['--warnings', '-E', 'UTF-8', '-l', '-Tutf8', '/usr/share/man/man1/ward.1.gz'], { env: { PATH: SYSTEM_PATH, MANWIDTH: '80' } });
    assert.equal(man.stderr, '');
    assert.match(man.stdout.replace(/.\x08/g, ''), /ward\s+-\s+decide what code may run/); // without overstrike
    const complete = (words: string[]): string =>
      mustRun('bash', ['-c', `source /usr/share/bash-completion/completions/ward; COMP_WORDS=(${words.join(' ')}); COMP_CWORD=${words.length - 1}; _ward; echo "\${COMPREPLY[*]}"`]).trim();
    assert.equal(complete(['ward', 'pol']), 'policy');
    assert.equal(complete(['ward', 'policy', 'ch']), 'check');
    assert.equal(complete(['ward', 'daemon', '--check-c']), '--check-config');
  });

  it('an upgrade keeps the state directory and an edited conffile', async (t) => {
    if (!requires(t, installed(), 'the package installed')) return;
    // What the daemon keeps in /var/lib/ward (policies, floor, mode) stands in as files here.
    writeFileSync('/var/lib/ward/test-policy.pol', 'policy_name=kept policy_version=1.2.3\nDEFAULT action=ALLOW\n');
    writeFileSync('/etc/ward/boot.pol', readFileSync('/etc/ward/boot.pol', 'utf8') + '# edited by the admin\n');
    const r = await dpkg(['-i', '--force-confold', deb]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(readFileSync('/var/lib/ward/test-policy.pol', 'utf8'), /policy_version=1\.2\.3/);
    assert.match(readFileSync('/etc/ward/boot.pol', 'utf8'), /# edited by the admin\n$/);
    assert.equal(run('ward', ['--version'], { env }).stdout, `${version}\n`);
  });

  it('remove keeps configuration and state; purge leaves nothing named ward', async (t) => {
    if (!requires(t, installed(), 'the package installed')) return;
    // What the package and its use made (other engineers' tests may add or remove their own
    // ward-named files meanwhile: only ours are compared).
    const ours = wardPaths().filter((p) => !before_.includes(p));
    assert.ok(ours.includes('/var/lib/ward/test-policy.pol') && ours.includes('/var/cache/ward/compile'), ours.join('\n'));
    const rm = await dpkg(['--remove', 'ward']);
    assert.equal(rm.status, 0, rm.stdout + rm.stderr);
    assert.ok(!existsSync('/usr/bin/ward') && !existsSync('/usr/lib/ward'));
    assert.ok(existsSync('/etc/ward/daemon.json') && existsSync('/var/lib/ward/test-policy.pol'));
    assert.ok(!existsSync('/var/cache/ward/compile'), 'the compile cache outlived the package');
    const purge = await dpkg(['--purge', 'ward']);
    assert.equal(purge.status, 0, purge.stdout + purge.stderr);
    assert.ok(!installed());
    const left = new Set(wardPaths());
    assert.deepEqual(ours.filter((p) => left.has(p)), []);
  });
});
