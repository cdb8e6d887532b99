// Reading dpkg's database (src/trust/dpkg.ts) and deciding each file (src/trust/generate.ts),
// on a database this test writes: the formats are dpkg's (deb-md5sums(5), deb-conffiles(5),
// dpkg-divert(1)); the hashes are compared with md5sum(1) and fsverity(1) where it exists.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { divertedPath, parseDiversions, parseMd5sums, parseStatus } from '../../src/trust/dpkg.ts';
import { generateTrustPolicy, verifyFile } from '../../src/trust/generate.ts';
import { readTrustPolicy } from '../../src/trust/trust-policy.ts';
import { checkTrustPolicy, trustCheckClean } from '../../src/trust/check.ts';
import { parsePolicy } from '../../src/policy/parser.ts';

const STATUS = `Package: alpha
Status: install ok installed
Architecture: amd64
Version: 1.0

Package: libbeta
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Conffiles:
 /etc/beta/run.sh 0123456789abcdef0123456789abcdef
 /etc/beta/old 00000000000000000000000000000000 obsolete
 /etc/beta/new newconffile
Description: two
 lines

Package: gone
Status: deinstall ok config-files
Architecture: all

Package: unpacked
Status: install ok unpacked
Architecture: all
`;

test('status: packages with files on disk, Multi-Arch ids, conffiles without obsolete ones', () => {
  const p = parseStatus(STATUS);
  assert.deepEqual(p.map((x) => x.id), ['alpha', 'libbeta:amd64', 'unpacked']);
  const beta = p.find((x) => x.name === 'libbeta')!;
  assert.deepEqual([...beta.conffiles], [['/etc/beta/run.sh', '0123456789abcdef0123456789abcdef'], ['/etc/beta/new', 'newconffile']]);
});

test('md5sums, diversions, and where a diverted file is for each package', () => {
  const sums = parseMd5sums('7987cf330ff5bb94015dfbb9eae5a99f  usr/bin/ls\nd41d8cd98f00b204e9800998ecf8427e  usr/share/a file with spaces\nbroken line\n');
  assert.deepEqual([...sums], [['/usr/bin/ls', '7987cf330ff5bb94015dfbb9eae5a99f'], ['/usr/share/a file with spaces', 'd41d8cd98f00b204e9800998ecf8427e']]);
  const div = parseDiversions('/usr/bin/perf\n/usr/bin/perf.wrapper\nlinux-perf\n/usr/bin/x\n/usr/bin/x.local\n:\n');
  assert.deepEqual(div.get('/usr/bin/x'), { to: '/usr/bin/x.local', by: undefined });
  const pkg = (name: string) => ({ id: name, name, arch: 'amd64', conffiles: new Map() });
  assert.equal(divertedPath('/usr/bin/perf', pkg('linux-perf'), div), '/usr/bin/perf', 'the diverting package keeps its path');
  assert.equal(divertedPath('/usr/bin/perf', pkg('linux-perf-5'), div), '/usr/bin/perf.wrapper', 'every other package is diverted');
  assert.equal(divertedPath('/usr/bin/x', pkg('anything'), div), '/usr/bin/x.local', 'a local diversion applies to all');
  assert.equal(divertedPath('/usr/bin/y', pkg('anything'), div), '/usr/bin/y');
});

test('verifyFile: matching, modified (expected and found), unrecorded, vanished', () => {
  const file = { path: '/x', kind: 'executable' as const, size: 1, owners: [{ pkg: 'a', md5: 'aa'.repeat(16), conffile: false }] };
  const hashed = { path: '/x', size: 1, digest: 'sha256:00', md5: 'aa'.repeat(16) };
  assert.deepEqual(verifyFile(file, hashed, 'dpkg'), { trusted: { path: '/x', kind: 'executable', packages: ['a'], digest: 'sha256:00' } });
  const mod = verifyFile(file, { ...hashed, md5: 'bb'.repeat(16) }, 'dpkg');
  assert.ok('skipped' in mod);
  assert.equal(mod.skipped.reason, 'modified');
  assert.equal(mod.skipped.expected, 'aa'.repeat(16));
  assert.equal(mod.skipped.found, 'bb'.repeat(16));
  const none = verifyFile({ ...file, owners: [{ pkg: 'a', md5: undefined, conffile: false }] }, hashed, 'dpkg');
  assert.ok('skipped' in none && none.skipped.reason === 'unverifiable');
  const gone = verifyFile(file, { path: '/x', error: 'ENOENT' }, 'dpkg');
  assert.ok('skipped' in gone && gone.skipped.reason === 'vanished');
  assert.ok('trusted' in verifyFile({ ...file, owners: [] }, { path: '/x', size: 1, digest: 'sha256:00' }, 'dir'));
});

/** A dpkg database (admindir) over files in a scratch tree. */
function fakeSystem() {
  const root = mkdtempSync(join(tmpdir(), 'ward-dpkgdb-'));
  const admin = join(root, 'admin');
  const fs = join(root, 'fs');
  mkdirSync(join(admin, 'info'), { recursive: true });
  mkdirSync(join(fs, 'bin'), { recursive: true });
  mkdirSync(join(fs, 'etc'), { recursive: true });
  mkdirSync(join(fs, 'lib'), { recursive: true });
  const file = (p: string, content: string | Buffer, mode: number) => {
    writeFileSync(join(fs, p), content);
    chmodSync(join(fs, p), mode);
    return join(fs, p);
  };
  const md5 = (p: string) => execFileSync('md5sum', [p], { encoding: 'utf8' }).slice(0, 32);
  const tool = file('bin/tool', '#!/bin/sh\necho tool\n', 0o755);
  const same = file('bin/tool-copy', '#!/bin/sh\necho tool\n', 0o755);
  const modified = file('bin/modified', '#!/bin/sh\necho original\n', 0o755);
  const doc = file('bin/README', 'not code\n', 0o644);
  const diverted = file('bin/prog.distrib', '#!/bin/sh\necho diverted original\n', 0o755);
  const replacement = file('bin/prog', '#!/bin/sh\necho the diverter\n', 0o755);
  const conf = file('etc/hook.sh', '#!/bin/sh\necho conf\n', 0o755);
  const lib = file('lib/libz.so.1', Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(8), Buffer.from([3, 0]), Buffer.alloc(100)]), 0o644);
  const script = file('lib/libz.so', 'INPUT(libz.so.1)\n', 0o644); // a linker script, not code
  symlinkSync('tool', join(fs, 'bin/link'));
  const sums = {
    tool: md5(tool),
    same: md5(same),
    modified: md5(modified),
    doc: md5(doc),
    diverted: md5(diverted),
    replacement: md5(replacement),
    lib: md5(lib),
    conf: md5(conf),
  };
  writeFileSync(modified, '#!/bin/sh\necho changed\n');
  const rel = (p: string) => p.slice(1);
  writeFileSync(
    join(admin, 'status'),
    `Package: tools\nStatus: install ok installed\nArchitecture: amd64\nConffiles:\n ${conf} ${sums.conf}\n\nPackage: diverter\nStatus: install ok installed\nArchitecture: all\n\nPackage: libz:amd64\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\n`.replace('libz:amd64', 'libz'),
  );
  const progOrig = join(fs, 'bin/prog');
  writeFileSync(join(admin, 'info/tools.list'), ['/.', join(fs, 'bin'), tool, same, modified, doc, progOrig, conf, join(fs, 'bin/link')].join('\n') + '\n');
  writeFileSync(join(admin, 'info/tools.md5sums'), [`${sums.tool}  ${rel(tool)}`, `${sums.same}  ${rel(same)}`, `${sums.modified}  ${rel(modified)}`, `${sums.doc}  ${rel(doc)}`, `${sums.diverted}  ${rel(progOrig)}`].join('\n') + '\n');
  writeFileSync(join(admin, 'info/diverter.list'), `/.\n${progOrig}\n`);
  writeFileSync(join(admin, 'info/diverter.md5sums'), `${sums.replacement}  ${rel(progOrig)}\n`);
  writeFileSync(join(admin, 'info/libz:amd64.list'), `/.\n${lib}\n${script}\n`);
  writeFileSync(join(admin, 'info/libz:amd64.md5sums'), `${sums.lib}  ${rel(lib)}\n${md5(script)}  ${rel(script)}\n`);
  writeFileSync(join(admin, 'diversions'), `${progOrig}\n${diverted}\ndiverter\n`);
  writeFileSync(join(admin, 'info/tools.postinst'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  writeFileSync(join(admin, 'info/tools.prerm'), 'not executable\n', { mode: 0o644 });
  return { root, admin, fs, tool, same, modified, diverted, replacement, conf, lib, script, sums, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

test('generate from a dpkg database: verified, diverted, conffiles, libraries, modified left out', async (t) => {
  const s = fakeSystem();
  t.after(s.cleanup);
  const r = await generateTrustPolicy({ source: { kind: 'dpkg' }, name: 'fake', version: { major: 1, minor: 2, rev: 3 }, libraries: true, admindir: s.admin, workers: 2 });
  const trusted = Object.fromEntries(r.trusted.map((f) => [f.path, f.packages.join(',')]));
  assert.deepEqual(trusted, {
    [s.conf]: 'tools',
    [s.lib]: 'libz:amd64',
    [s.replacement]: 'diverter',
    [s.diverted]: 'tools',
    [s.tool]: 'tools',
    [s.same]: 'tools',
    [join(s.admin, 'info/tools.postinst')]: 'tools',
  });
  assert.equal(r.skipped.length, 1);
  assert.equal(r.skipped[0]!.path, s.modified);
  assert.equal(r.skipped[0]!.reason, 'modified');
  assert.equal(r.skipped[0]!.expected, s.sums.modified);
  assert.equal(r.skipped[0]!.found, execFileSync('md5sum', [s.modified], { encoding: 'utf8' }).slice(0, 32));
  assert.equal(r.rules, 6, 'tool and tool-copy share one rule');
  const parsed = parsePolicy(r.text);
  assert.ok(parsed.ok);
  assert.equal(parsed.value.name, 'fake');
  assert.equal(parsed.value.rules.length, 6);
  // Deterministic: the same files give the same bytes.
  const again = await generateTrustPolicy({ source: { kind: 'dpkg' }, name: 'fake', version: { major: 1, minor: 2, rev: 3 }, libraries: true, admindir: s.admin, workers: 1 });
  assert.equal(again.text, r.text);
  // The comments read back name every trusted file with its digest.
  const back = readTrustPolicy(r.text, 'x');
  assert.ok(back.ok);
  assert.deepEqual(back.value.files.map((f) => f.path).sort(), Object.keys(trusted).sort());
  const noLibs = await generateTrustPolicy({ source: { kind: 'dpkg' }, name: 'fake', version: { major: 1, minor: 0, rev: 0 }, libraries: false, admindir: s.admin });
  assert.ok(!noLibs.trusted.some((f) => f.path === s.lib));
});

test('trust check on the fake system: changed, vanished and uncovered files', async (t) => {
  const s = fakeSystem();
  t.after(s.cleanup);
  const r = await generateTrustPolicy({ source: { kind: 'dpkg' }, name: 'fake', version: { major: 1, minor: 0, rev: 0 }, libraries: false, admindir: s.admin });
  const policy = readTrustPolicy(r.text, 'x');
  assert.ok(policy.ok);
  const first = await checkTrustPolicy(policy.value, { admindir: s.admin });
  assert.deepEqual(first.uncovered.map((u) => u.path), [s.modified], 'the modified file was left out, so it is not covered');
  writeFileSync(s.tool, '#!/bin/sh\necho tampered\n');
  rmSync(s.conf);
  const second = await checkTrustPolicy(policy.value, { admindir: s.admin });
  assert.deepEqual(second.changed.map((c) => c.path), [s.tool]);
  assert.deepEqual(second.vanished.map((c) => c.path), [s.conf]);
  assert.ok(!trustCheckClean(second));
});
