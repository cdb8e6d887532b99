// packaging/apt/ward-apt-hook against a real ward daemon that enforces a dpkg trust policy on
// the test's own tmpfs (the only mount it marks): a package built here is allowed from the
// moment the pre-install step has run — before dpkg unpacks it — stays allowed once installed,
// and is denied again after it is purged; every step raises the policy version. A system
// program copied onto the tmpfs runs by its digest, a modified copy does not. And an upgrade —
// the hook run as apt runs it, then apt-get itself reading the shipped 50ward — never denies the
// package's program, which a loop runs throughout, while the old content is denied afterwards.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { IS_ROOT, requires } from '../helpers/kernel.ts';
import { REPO_ROOT, WARD_BIN, ward } from '../helpers/cli.ts';
import { TestDaemon, exec } from '../helpers/daemon.ts';
import { HAVE_DPKG, buildDeb, dpkg } from '../helpers/dpkg.ts';

const HOOK = join(REPO_ROOT, 'packaging/apt/ward-apt-hook');
const SNIPPET = join(REPO_ROOT, 'packaging/apt/50ward');
const PKG = 'ward-test-apt-hook';
const UPG = 'ward-test-apt-upgrade';
const HAVE_APT = spawnSync('apt-get', ['--version']).status === 0;

/** The hook against `d` (as apt runs it: sh, the .deb files on stdin), and the dpkg policy's version there. */
function hookOf(d: TestDaemon, policyFile: string) {
  const env = { ...process.env, WARD_APT_POLICY: policyFile, WARD_APT_SOCKET: d.socket, WARD_APT_WARD: `${process.execPath} ${WARD_BIN}` };
  const hook = (mode: 'pre' | 'post', input = '', file = policyFile) =>
    spawnSync('sh', [HOOK, mode], { input, encoding: 'utf8', timeout: 600_000, env: { ...env, WARD_APT_POLICY: file } });
  const version = () => {
    const r = d.ctl(['policy', 'list', '--json']);
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { policies: Array<{ name: string; version: string; active: boolean }> }).policies.find((p) => p.name === 'dpkg');
  };
  return { env, hook, version };
}

/** `ward policy generate --from-dpkg` into `policyFile`, loaded and activated in `d`. */
function enforceDpkgPolicy(d: TestDaemon, policyFile: string): void {
  const gen = ward(['policy', 'generate', '--from-dpkg', '-o', policyFile], { timeout: 600_000 });
  assert.ok(gen.status === 0 || gen.status === 1, gen.stderr);
  for (const args of [['policy', 'load', policyFile], ['policy', 'activate', 'dpkg']]) {
    const r = d.ctl(args);
    assert.equal(r.status, 0, r.stderr);
  }
}

test('the apt hook: new binaries allowed before unpacking, kept after, gone after purge; versions only rise', async (t) => {
  if (!requires(t, IS_ROOT && HAVE_DPKG, 'root on a dpkg-based system')) return;
  const d = new TestDaemon();
  t.after(async () => {
    dpkg(['--purge', PKG]);
    await d.cleanup();
  });
  await d.start();
  const policyFile = join(d.scratch.root, 'dpkg.pol');
  const { hook, version } = hookOf(d, policyFile);

  // Off until the policy file exists.
  const off = hook('post', '', join(d.scratch.root, 'absent.pol'));
  assert.equal(off.status, 0, off.stderr);
  assert.ok(!existsSync(join(d.scratch.root, 'absent.pol')));

  enforceDpkgPolicy(d, policyFile);
  const first = version();
  assert.equal(first?.version, '1.0.0');
  assert.equal(first?.active, true);

  // A program of the system's own, copied onto the watched tmpfs: the generated policy allows
  // it by its content (coreutils' true), wherever it lies; one byte more and it is denied.
  assert.match(readFileSync(policyFile, 'utf8'), /^# coreutils: (\/usr)?\/bin\/true$/m);
  const systemCopy = join(d.m1, 'true');
  copyFileSync('/usr/bin/true', systemCopy);
  chmodSync(systemCopy, 0o755);
  assert.equal(exec(systemCopy), 0, 'a copy of /usr/bin/true runs by its digest');
  assert.equal(exec(d.binary('true-modified', '\n')), 'EPERM', 'a modified copy is denied');

  // The package's program: a copy of /bin/true with its own content (so its own digest).
  const program = readFileSync('/bin/true');
  const content = Buffer.concat([program, Buffer.from(`\n${PKG} ${Date.now()}\n`)]);
  const deb = buildDeb(d.scratch.root, PKG, { [`/usr/bin/${PKG}`]: { content, mode: 0o755 } }, { postinst: '#!/bin/sh\nexit 0\n' });
  // The same bytes on the watched tmpfs: what the daemon decides.
  const onM1 = join(d.m1, 'incoming');
  writeFileSync(onM1, content);
  chmodSync(onM1, 0o755);
  const stranger = d.binary('stranger', 'not in any package');
  assert.equal(exec(onM1), 'EPERM', 'not installed, not announced: denied');
  assert.equal(exec(stranger), 'EPERM');

  const pre = hook('pre', `${deb}\n`);
  assert.equal(pre.status, 0, pre.stderr);
  assert.equal(version()!.version, '1.0.1');
  assert.equal(exec(onM1), 0, 'allowed before dpkg unpacks it');
  assert.equal(exec(stranger), 'EPERM', 'nothing else is');
  assert.match(readFileSync(policyFile, 'utf8'), new RegExp(`^# ${PKG}: /usr/bin/${PKG}$`, 'm'));
  assert.match(readFileSync(policyFile, 'utf8'), new RegExp(`^# ${PKG}: /var/lib/dpkg/info/${PKG}.postinst$`, 'm'));

  // The daemon's active policy, asked through its verbs: eval shows the property it used, and
  // trust check sees the announced file is not on disk yet.
  const evalActive = ward(['policy', 'eval', '--active', onM1, '--socket', d.socket, '--json']);
  assert.equal(evalActive.status, 0, evalActive.stderr);
  const decided = (JSON.parse(evalActive.stdout) as { results: Array<{ action: string; properties: { fsverity_digest: string } }> }).results[0]!;
  assert.equal(decided.action, 'ALLOW');
  assert.equal(decided.properties.fsverity_digest, ward(['digest', onM1]).stdout.split(' ')[0]);
  const checkActive = ward(['trust', 'check', '--active', '--socket', d.socket, '--json'], { timeout: 600_000 });
  assert.equal(checkActive.status, 1, checkActive.stderr);
  assert.ok((JSON.parse(checkActive.stdout) as { vanished: Array<{ path: string }> }).vanished.some((v) => v.path === `/usr/bin/${PKG}`));

  dpkg(['-i', deb]);
  const post = hook('post');
  assert.equal(post.status, 0, post.stderr);
  assert.equal(version()!.version, '1.0.2');
  assert.equal(exec(onM1), 0, 'installed: still allowed');

  dpkg(['--purge', PKG]);
  const gone = hook('post');
  assert.equal(gone.status, 0, gone.stderr);
  assert.equal(version()!.version, '1.0.3');
  assert.equal(exec(onM1), 'EPERM', 'purged: denied again');
  assert.ok(version()!.active);
});

test('an upgrade never denies the package\'s program, which runs in a loop throughout; the old content is denied once it is done — the hook run as apt runs it, then by apt-get reading 50ward', async (t) => {
  if (!requires(t, IS_ROOT && HAVE_DPKG && HAVE_APT, 'root on a dpkg-based system with apt-get')) return;
  const d = new TestDaemon();
  let loop: ChildProcess | undefined;
  t.after(async () => {
    loop?.kill('SIGKILL');
    dpkg(['--purge', UPG]);
    await d.cleanup();
  });
  await d.start();
  const root = d.scratch.root;
  const policyFile = join(root, 'dpkg.pol');
  const { env, hook, version } = hookOf(d, policyFile);
  enforceDpkgPolicy(d, policyFile);

  // The package installs its program on the watched tmpfs: the daemon decides the very file
  // dpkg replaces (the directories above it keep their modes: buildDeb copies the host's).
  const prog = join(d.m1, UPG);
  const log = join(root, 'loop.log');
  const stop = join(root, 'loop.stop');
  writeFileSync(log, '');
  const content = (v: string) => Buffer.concat([readFileSync('/bin/true'), Buffer.from(`\n${UPG} ${v} ${randomBytes(8).toString('hex')}\n`)]);
  const contents = { '1.0': content('1.0'), '2.0': content('2.0'), '3.0': content('3.0') };
  // In an upgrade the new preinst runs after apt's Pre-Install-Pkgs hook and before dpkg unpacks
  // (the old program in place); the new postinst after unpacking (the new program in place) and
  // before the Post-Invoke hook. Each waits until the loop has run the program twice more, so the
  // loop has run it at both stages whatever the scheduling (it gives up after 5 minutes).
  const waitForLoop = `#!/bin/sh\nn=$(wc -l < '${log}'); i=0\nwhile [ "$(wc -l < '${log}')" -lt $((n + 2)) ]; do\n  i=$((i + 1)); if [ $i -gt 6000 ]; then echo 'the exec loop made no progress' >&2; exit 1; fi; sleep 0.05\ndone\n`;
  const deb = (v: keyof typeof contents) => buildDeb(root, UPG, { [prog]: { content: contents[v], mode: 0o755 } }, v === '1.0' ? {} : { preinst: waitForLoop, postinst: waitForLoop }, v);
  const debs = { '1.0': deb('1.0'), '2.0': deb('2.0'), '3.0': deb('3.0') };
  // Copies of each version's content, for after the upgrade: what the policy allows, by content.
  const copyOf = (v: keyof typeof contents) => {
    const p = join(d.m1, `copy-${v}`);
    writeFileSync(p, contents[v]);
    chmodSync(p, 0o755);
    return p;
  };
  const bump = (v: string | undefined) => v!.replace(/\d+$/, (n) => String(Number(n) + 1));

  // Version 1, installed as apt would: pre (with the .deb), dpkg, post.
  for (const [step, r] of [['pre', () => hook('pre', `${debs['1.0']}\n`)], ['dpkg', () => dpkg(['-i', debs['1.0']])], ['post', () => hook('post')]] as const) {
    const out = r();
    if (out) assert.equal(out.status, 0, `${step}: ${out.stderr}`);
  }
  assert.equal(exec(prog), 0, 'version 1 installed: allowed');
  const old1 = copyOf('1.0');

  // The loop: runs the installed program until told to stop, one exit status per line (126: the
  // exec was refused). Under a killing timeout, like everything the test starts.
  loop = spawn('timeout', ['-s', 'KILL', '600', 'sh', '-c', 'while [ ! -e "$1" ]; do "$2"; echo $? >> "$3"; done', 'sh', stop, prog, log], { stdio: 'ignore' });
  const ended = new Promise<void>((resolve) => loop!.once('exit', () => resolve()));
  const lines = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const progress = async (more: number) => {
    const n = lines().length;
    while (lines().length < n + more) await new Promise((r) => setTimeout(r, 20));
  };
  await progress(1);

  // Version 2 by hand, in apt's order.
  let v = version()!.version;
  const pre = hook('pre', `${debs['2.0']}\n`);
  assert.equal(pre.status, 0, pre.stderr);
  assert.equal(version()!.version, (v = bump(v)));
  assert.equal(exec(old1), 0, 'during the upgrade the old content is still allowed');
  assert.equal(exec(copyOf('2.0')), 0, 'and the new one already');
  dpkg(['-i', debs['2.0']]);
  assert.deepEqual(readFileSync(prog), contents['2.0']);
  const post = hook('post');
  assert.equal(post.status, 0, post.stderr);
  assert.equal(version()!.version, (v = bump(v)));
  assert.equal(exec(old1), 'EPERM', 'version 1 is no longer installed: its content is denied');
  assert.equal(exec(prog), 0);
  await progress(1);

  // Version 3 by apt-get itself, with the shipped 50ward as its only configuration snippet
  // (APT_CONFIG is read before apt.conf.d; -o Dir::Etc::parts would come too late). Only the
  // hook's path differs: the snippet names /usr/lib/ward/ward-apt-hook, where the package puts it.
  const parts = join(root, 'apt.conf.d');
  mkdirSync(parts);
  const installedHook = join(root, 'ward-apt-hook');
  copyFileSync(HOOK, installedHook);
  chmodSync(installedHook, 0o755);
  const snippet = readFileSync(SNIPPET, 'utf8');
  assert.equal(snippet.split('/usr/lib/ward/ward-apt-hook').length, 5, 'the snippet names the hook twice in each of its two lines');
  writeFileSync(join(parts, '50ward'), snippet.replaceAll('/usr/lib/ward/ward-apt-hook', installedHook));
  const aptConf = join(root, 'apt.conf');
  writeFileSync(aptConf, `Dir::Etc::parts "${parts}";\nDir::Etc::main "/dev/null";\n`);
  const dump = spawnSync('apt-config', ['dump'], { encoding: 'utf8', env: { ...env, APT_CONFIG: aptConf } });
  assert.match(dump.stdout, /^DPkg::Pre-Install-Pkgs:: ".*ward-apt-hook pre; fi";$/m);
  assert.match(dump.stdout, /^DPkg::Post-Invoke:: ".*ward-apt-hook post; fi";$/m);
  const old2 = copyOf('2.0');
  const apt = spawnSync('apt-get', ['install', '-y', '-o', 'DPkg::Lock::Timeout=600', debs['3.0']], {
    encoding: 'utf8',
    timeout: 900_000,
    env: { ...env, APT_CONFIG: aptConf, DEBIAN_FRONTEND: 'noninteractive' },
  });
  assert.equal(apt.status, 0, `${apt.stdout}\n${apt.stderr}`);
  assert.deepEqual(readFileSync(prog), contents['3.0']);
  assert.equal(version()!.version, bump(bump(v)), 'apt ran the hook before and after dpkg');
  assert.equal(exec(old2), 'EPERM', 'version 2 is no longer installed: its content is denied');
  assert.equal(exec(prog), 0);
  await progress(1);

  writeFileSync(stop, '');
  await ended;
  loop = undefined;
  const statuses = lines();
  // 1 + 2 + 2 + 1 (version 2) + 2 + 2 + 1 (version 3) at least, every one allowed.
  assert.ok(statuses.length >= 11, `${statuses.length} execs`);
  assert.deepEqual(statuses.filter((s) => s !== '0'), [], 'the program was never refused while installed');
  assert.ok(version()!.active);
});
