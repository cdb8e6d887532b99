// ward policy generate and ward trust check as commands: usage errors, --from-dir, .deb
// archives (--with-deb), --version-after, and the output written atomically.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ward } from '../helpers/cli.ts';
import { HAVE_DPKG, buildDeb, md5 } from '../helpers/dpkg.ts';
import { requires } from '../helpers/kernel.ts';
import { generateTrustPolicy } from '../../src/trust/generate.ts';

function scratch(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'ward-gencli-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('usage errors say what to do and exit 2', () => {
  const cases: Array<[string[], RegExp]> = [
    [['policy', 'generate'], /--from-dpkg or --from-dir DIR/],
    [['policy', 'generate', '--from-dpkg', '--from-dir', '/tmp'], /one of them/],
    [['policy', 'generate', '--from-dir', '/tmp', '--version', '1.2'], /--version must be MAJOR.MINOR.REV/],
    [['policy', 'generate', '--from-dir', '/tmp', '--name', 'a b'], /--name must be printable ASCII/],
    [['policy', 'generate', '--from-dir', '/tmp', '--with-deb', 'x.deb'], /--with-deb goes with --from-dpkg/],
    [['policy', 'generate', '--from-dir', '/tmp', '--jobs', '0'], /--jobs takes/],
    [['trust', 'check'], /name a policy file/],
    [['policy', 'generate', '--from-dir', '/nonexistent-ward-test'], /ENOENT: cannot list \/nonexistent-ward-test: no such file or directory/],
    [['policy', 'generate', '--from-dir', '/etc/hostname'], /--from-dir takes a directory/],
    [['policy', 'generate', '--from-dpkg', '--admindir', '/nonexistent-ward-test'], /no dpkg database at \/nonexistent-ward-test/],
  ];
  for (const [args, re] of cases) {
    const r = ward(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stdout, '');
  }
  // With --json the failure is JSON too (on stdout, as every --json command reports one).
  const j = ward(['policy', 'generate', '--from-dir', '/tmp', '--json']);
  assert.equal(j.status, 2);
  assert.match((JSON.parse(j.stdout) as { message: string }).message, /needs a file: add -o FILE/);
});

test('--from-dir: executables and (with --libraries) ELF shared objects, deterministic, then trust check', (t) => {
  const d = scratch(t);
  const app = join(d, 'app');
  mkdirSync(join(app, 'bin'), { recursive: true });
  mkdirSync(join(app, 'lib'), { recursive: true });
  writeFileSync(join(app, 'bin/run'), '#!/bin/sh\necho run\n', { mode: 0o755 });
  writeFileSync(join(app, 'bin/data.txt'), 'data\n', { mode: 0o644 });
  // An ELF header saying ET_DYN (elf(5)): a shared object, without an execute bit.
  writeFileSync(join(app, 'lib/libx.so.1'), Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(8), Buffer.from([3, 0]), Buffer.alloc(200)]), { mode: 0o644 });
  writeFileSync(join(app, 'lib/libx.so'), 'INPUT(libx.so.1)\n', { mode: 0o644 }); // a linker script: not code
  const out = join(d, 'app.pol');
  const r = ward(['policy', 'generate', '--from-dir', app, '--libraries', '--name', 'app', '--version', '2.0.1', '-o', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { files: number; rules: number; skipped: unknown[] };
  assert.equal(s.files, 2);
  const text = readFileSync(out, 'utf8');
  assert.match(text, /^policy_name=app policy_version=2\.0\.1\n/);
  assert.match(text, new RegExp(`^# ${join(app, 'bin/run')}\\nop=EXECUTE fsverity_digest=${ward(['digest', join(app, 'bin/run')]).stdout.split(' ')[0]} action=ALLOW$`, 'm'));
  assert.ok(text.includes(`# ${join(app, 'lib/libx.so.1')}\n`));
  assert.ok(!text.includes('data.txt'));
  assert.deepEqual(readdirSync(d).sort(), ['app', 'app.pol'], 'no temporary file left behind');
  const again = ward(['policy', 'generate', '--from-dir', app, '--libraries', '--name', 'app', '--version', '2.0.1']);
  assert.equal(again.stdout, text, 'same tree, same bytes');
  assert.equal(ward(['policy', 'check', out]).status, 0);

  assert.equal(ward(['trust', 'check', out]).status, 0);
  writeFileSync(join(app, 'bin/new'), '#!/bin/sh\n', { mode: 0o755 });
  const c = ward(['trust', 'check', out]);
  assert.equal(c.status, 1);
  assert.match(c.stdout, new RegExp(`^uncovered: ${join(app, 'bin/new')}: installed code the policy does not allow$`, 'm'));
  // --version-after: the version after the named policy's.
  const next = ward(['policy', 'generate', '--from-dir', app, '--version-after', out]);
  assert.match(next.stdout, /^policy_name=app policy_version=2\.0\.2\n/);
  const notGenerated = join(d, 'plain.pol');
  writeFileSync(notGenerated, 'policy_name=p policy_version=1.0.0\nDEFAULT action=ALLOW\n');
  const plain = ward(['trust', 'check', notGenerated]);
  assert.equal(plain.status, 2);
  assert.match(plain.stderr, /not a policy from `ward policy generate`/);
});

test('--with-deb: an archive\'s code is trusted where dpkg will put it; its conffile as the archive holds it; a file contradicting md5sums is left out', async (t) => {
  if (!requires(t, HAVE_DPKG, 'dpkg-deb')) return;
  const d = scratch(t);
  const deb = buildDeb(d, 'ward-test-deb', {
    '/usr/bin/ward-test-deb': { content: '#!/bin/sh\necho deb\n', mode: 0o755 },
    '/usr/libexec/ward-test-deb/liar': { content: '#!/bin/sh\necho liar\n', mode: 0o755 },
    '/etc/ward-test-deb/hook': { content: '#!/bin/sh\necho hook\n', mode: 0o755, conffile: true },
    '/usr/share/doc/ward-test-deb/README': { content: 'doc\n', mode: 0o644 },
  });
  // Rebuild with a md5sums entry that does not match the file it names.
  const root = join(d, 'ward-test-deb-1.0-root'); // buildDeb's tree for version 1.0
  const sums = readFileSync(join(root, 'DEBIAN/md5sums'), 'utf8').replace(md5(join(root, 'usr/libexec/ward-test-deb/liar')), '0'.repeat(32));
  writeFileSync(join(root, 'DEBIAN/md5sums'), sums);
  const { execFileSync } = await import('node:child_process');
  execFileSync('dpkg-deb', ['--root-owner-group', '--build', root, deb], { stdio: 'ignore' });
  chmodSync(deb, 0o644);
  const admin = join(d, 'admin');
  mkdirSync(join(admin, 'info'), { recursive: true });
  writeFileSync(join(admin, 'status'), '');
  const r = await generateTrustPolicy({ source: { kind: 'dpkg' }, name: 'x', version: { major: 1, minor: 0, rev: 0 }, libraries: false, admindir: admin, debs: [deb] });
  assert.deepEqual(r.trusted.map((f) => [f.path, f.packages.join()]).sort(), [
    ['/etc/ward-test-deb/hook', 'ward-test-deb'],
    ['/usr/bin/ward-test-deb', 'ward-test-deb'],
  ]);
  assert.equal(r.skipped.length, 1);
  assert.equal(r.skipped[0]!.path, '/usr/libexec/ward-test-deb/liar');
  assert.equal(r.skipped[0]!.reason, 'modified');
  assert.equal(r.skipped[0]!.expected, '0'.repeat(32));
});
