// ward policy generate --from-dpkg and ward trust check on this machine's real dpkg database,
// compared with dpkg's own tools: `dpkg -L` (what each package installed) and `dpkg --verify`
// (which files no longer match their package). A package this test builds with dpkg-deb is
// installed, altered and purged; no system file is touched.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IS_ROOT, requires } from '../helpers/kernel.ts';
import { ward } from '../helpers/cli.ts';
import { readTrustPolicy } from '../../src/trust/trust-policy.ts';

const HAVE_DPKG = existsSync('/var/lib/dpkg/status') && spawnSync('dpkg', ['--version']).status === 0;

interface Summary {
  files: number;
  rules: number;
  packages: number;
  skipped: Array<{ path: string; packages: string[]; reason: string; expected?: string; found?: string }>;
}

function generate(out: string, extra: string[] = []): Summary {
  const r = ward(['policy', 'generate', '--from-dpkg', '-o', out, '--json', ...extra], { timeout: 600_000 });
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  const s = JSON.parse(r.stdout) as Summary;
  assert.equal(r.status, s.skipped.length > 0 ? 1 : 0, 'exit 1 exactly when files were skipped');
  return s;
}

/** Every executable regular file dpkg says it installed, after diversions, per `dpkg -L`. */
function dpkgExecutables(): Set<string> {
  const pkgs = execFileSync('dpkg-query', ['-W', '-f=${binary:Package}\\n'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const out = execFileSync('dpkg', ['-L', ...pkgs], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).split('\n');
  const paths: string[] = [];
  for (const line of out) {
    const diverted = /^diverted by \S+ to: (\/.*)$/.exec(line);
    if (diverted) paths[paths.length - 1] = diverted[1]!; // the previous path lives here
    else if (line.startsWith('/') && line !== '/.') paths.push(line);
  }
  const exe = new Set<string>();
  for (const p of paths) {
    try {
      const st = lstatSync(p);
      if (st.isFile() && (st.mode & 0o111) !== 0) exe.add(p);
    } catch {
      /* listed but not on disk */
    }
  }
  return exe;
}

test('--from-dpkg covers every executable dpkg -L lists; the left-out ones are those dpkg --verify finds changed', (t) => {
  if (!requires(t, HAVE_DPKG, 'a dpkg-based system')) return;
  const dir = mkdtempSync(join(tmpdir(), 'ward-gen-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'dpkg.pol');
  const s = generate(out);
  const policy = readTrustPolicy(readFileSync(out, 'utf8'), out);
  assert.ok(policy.ok);
  const all = new Set(policy.value.files.map((f) => f.path));
  assert.equal(all.size, s.files);
  // Maintainer scripts are trusted from dpkg's database (dpkg -L does not list them).
  const scripts = execFileSync('bash', ['-c', 'for f in /var/lib/dpkg/info/*.{preinst,postinst,prerm,postrm,config}; do [ -f "$f" ] && [ -x "$f" ] && echo "$f"; done; true'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  assert.deepEqual([...all].filter((p) => p.startsWith('/var/lib/dpkg/info/')).sort(), scripts);
  const trusted = new Set([...all].filter((p) => !p.startsWith('/var/lib/dpkg/info/')));
  const expected = dpkgExecutables();
  const seen = new Set([...trusted, ...s.skipped.map((k) => k.path)]);
  assert.deepEqual([...expected].filter((p) => !seen.has(p)), [], 'every dpkg executable is trusted or reported');
  assert.deepEqual([...seen].filter((p) => !expected.has(p)), [], 'nothing outside dpkg -L is trusted');
  assert.ok(expected.size > 100, `found ${expected.size} executables`);
  // dpkg --verify (its own md5 check) over the packages owning those executables: the changed
  // executables it reports ('5' in the third column) are exactly the ones left out as modified.
  const owners = execFileSync('dpkg', ['-S', ...[...expected].slice(0, 4000)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .split('\n')
    .filter((l) => !l.startsWith('diversion by') && l.includes(': /'))
    .flatMap((l) => l.slice(0, l.indexOf(': /')).split(', '));
  const verify = spawnSync('dpkg', ['--verify', ...new Set(owners)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 600_000 });
  const changedByDpkg = verify.stdout
    .split('\n')
    .map((l) => /^..5\S*\s+(?:c\s+)?(\/.*)$/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined && expected.has(p))
    .sort();
  const modified = s.skipped.filter((k) => k.reason === 'modified').map((k) => k.path).sort();
  assert.deepEqual(modified, changedByDpkg);
  assert.deepEqual(s.skipped.filter((k) => k.reason !== 'modified'), [], 'nothing else is skipped on this machine');
});

const PKG = 'ward-test-trust';

/** dpkg takes its lock without waiting: retry while another process (apt, another test) holds it. */
function dpkg(args: string[]): void {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const r = spawnSync('dpkg', args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status === 0) return;
    if (!/lock/i.test(r.stderr) || Date.now() > deadline) assert.fail(`dpkg ${args.join(' ')}: ${r.stderr}`);
    spawnSync('sleep', ['2']);
  }
}

test('a package built here: trusted when installed; a modified file is reported and left out; trust check finds it changed and a removed file vanished', (t) => {
  if (!requires(t, HAVE_DPKG && IS_ROOT, 'root on a dpkg-based system (to install a test package)')) return;
  const dir = mkdtempSync(join(tmpdir(), 'ward-deb-'));
  const root = join(dir, 'pkg');
  t.after(() => {
    dpkg(['--purge', PKG]);
    rmSync(dir, { recursive: true, force: true });
  });
  const hello = `/usr/bin/${PKG}-hello`;
  const helper = `/usr/lib/${PKG}/helper`;
  const hook = `/etc/${PKG}/hook`;
  for (const [p, body] of [[hello, '#!/bin/sh\necho hello\n'], [helper, '#!/bin/sh\necho helper\n'], [hook, '#!/bin/sh\necho hook\n']] as const) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), body);
    chmodSync(join(root, p), 0o755);
  }
  mkdirSync(join(root, 'DEBIAN'));
  writeFileSync(join(root, 'DEBIAN/control'), `Package: ${PKG}\nVersion: 1.0\nArchitecture: all\nMaintainer: ward tests <root@localhost>\nDescription: ward test package\n`);
  writeFileSync(join(root, 'DEBIAN/conffiles'), `${hook}\n`);
  writeFileSync(join(root, 'DEBIAN/postinst'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(root, 'DEBIAN/postinst'), 0o755);
  const md5 = (p: string) => execFileSync('md5sum', [p], { encoding: 'utf8' }).slice(0, 32);
  writeFileSync(join(root, 'DEBIAN/md5sums'), [hello, helper].map((p) => `${md5(join(root, p))}  ${p.slice(1)}`).join('\n') + '\n');
  const deb = join(dir, `${PKG}.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '--build', root, deb], { stdio: 'ignore' });
  dpkg(['-i', deb]);

  const before = join(dir, 'before.pol');
  generate(before);
  const policy = readTrustPolicy(readFileSync(before, 'utf8'), before);
  assert.ok(policy.ok);
  const ours = policy.value.files.filter((f) => f.packages.includes(PKG)).map((f) => f.path).sort();
  assert.deepEqual(ours, [hook, helper, hello, `/var/lib/dpkg/info/${PKG}.postinst`].sort(), 'the package\'s executables, its conffile and maintainer script included, are trusted');

  const clean = ward(['trust', 'check', before, '--json'], { timeout: 600_000 });
  const cleanReport = JSON.parse(clean.stdout) as { changed: Array<{ path: string }>; vanished: Array<{ path: string }>; uncovered: Array<{ path: string }> };
  assert.ok(![...cleanReport.changed, ...cleanReport.vanished, ...cleanReport.uncovered].some((x) => x.path.includes(PKG)));

  appendFileSync(hello, 'echo tampered\n');
  rmSync(helper);
  const after = generate(join(dir, 'after.pol'));
  const skipped = after.skipped.find((k) => k.path === hello);
  assert.ok(skipped, 'the modified file is reported');
  assert.equal(skipped.reason, 'modified');
  assert.deepEqual(skipped.packages, [PKG]);
  assert.equal(skipped.expected, md5(join(root, hello)));
  assert.equal(skipped.found, md5(hello));
  const afterPolicy = readTrustPolicy(readFileSync(join(dir, 'after.pol'), 'utf8'), 'after');
  assert.ok(afterPolicy.ok);
  assert.ok(!afterPolicy.value.files.some((f) => f.path === hello || f.path === helper), 'neither is trusted any more');

  const check = ward(['trust', 'check', before, '--json'], { timeout: 600_000 });
  assert.equal(check.status, 1, check.stderr);
  const report = JSON.parse(check.stdout) as { ok: boolean; changed: Array<{ path: string; packages: string[] }>; vanished: Array<{ path: string }> };
  assert.equal(report.ok, false);
  assert.deepEqual(report.changed.filter((c) => c.path.includes(PKG)).map((c) => [c.path, c.packages]), [[hello, [PKG]]]);
  assert.deepEqual(report.vanished.filter((c) => c.path.includes(PKG)).map((c) => c.path), [helper]);
  const human = ward(['trust', 'check', before], { timeout: 600_000 });
  assert.equal(human.status, 1);
  assert.match(human.stdout, new RegExp(`^changed: ${hello} \\(${PKG}\\): policy has sha256:`, 'm'));
  assert.match(human.stdout, new RegExp(`^vanished: ${helper} \\(${PKG}\\)$`, 'm'));
});
