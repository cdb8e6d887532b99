// Ways past the BPF LSM backend tried as an unprivileged user in Debian's 6.1 guest (the review's
// classes, new variants). The oracle is the guest kernel's own answer to execve.
//
// Verdicts are user space's measurement of a file, kept for an identity (dev, ino, ctime,
// i_generation) the kernel re-checks at the hook. On tmpfs the owner of a file can change its
// content keeping all of that: pages read-faulted into a MAP_SHARED writable mapping come in
// writable (shmem has no dirty tracking) and writes through them update neither mtime nor ctime.
// Before the fix, a covered file nobody owned, rewritten that way, was executed on its old ALLOW;
// now only files only root can write get verdicts.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { IN_VM, VM_KERNEL, VM_SCRATCH, inGuest } from '../helpers/vm.ts';
import { NO_NEW_CODE, digest } from './guest.ts';

const ON = IN_VM && VM_KERNEL === '6.1';
const D = `${VM_SCRATCH}/bypass`;
const NOBODY = 65534;
const RUN = fileURLToPath(new URL('./enforce-run.ts', import.meta.url));

const REMAP = `import os, mmap, sys
f = sys.argv[1]
size = os.stat(f).st_size
before = os.stat(f)
evil = b'#!/bin/sh\\necho PWNED\\nexit 0\\n'
evil += b'\\n' * (size - len(evil))
fd = os.open(f, os.O_RDWR)
m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
for off in range(0, size, 4096): m[off]
m[:] = evil
m.close(); os.close(fd)
after = os.stat(f)
print('same' if (before.st_size, before.st_mtime_ns, before.st_ctime_ns) == (after.st_size, after.st_mtime_ns, after.st_ctime_ns) else 'changed')
`;

describe('BPF LSM backend: bypass attempts (6.1 guest)', { concurrency: false }, () => {
  before(() => {
    if (!ON) return;
    mkdirSync(D, { recursive: true });
    spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0755', 'tmpfs', D]);
    writeFileSync(`${D}/remap.py`, REMAP);
  });
  after(() => {
    if (ON) spawnSync('umount', ['-l', D]);
  });

  test('a covered file its non-root owner rewrote through a shared mapping (tmpfs keeps ctime) is not run on the old verdict', (t) => {
    if (!inGuest(t, '6.1')) return;
    const mine = `${D}/mine`;
    const roots = `${D}/roots`;
    for (const p of [mine, roots]) copyFileSync('/usr/bin/true', p);
    chownSync(mine, NOBODY, NOBODY);
    chmodSync(mine, 0o755);
    const policy = [
      'policy_name=allowlist policy_version=0.0.1',
      'DEFAULT action=ALLOW',
      'DEFAULT op=EXECUTE action=DENY',
      `op=EXECUTE fsverity_digest=${digest('/usr/bin/true')} action=ALLOW`,
      'op=EXECUTE boot_verified=TRUE action=ALLOW',
      '',
    ].join('\n');
    writeFileSync(`${D}/allow.pol`, policy);
    const asNobody = (cmd: string) => `setpriv --reuid ${NOBODY} --regid ${NOBODY} --clear-groups sh -c '${cmd}'`;
    const cmd = `${roots}; echo "roots=$?"; ${asNobody(`${mine}; echo "first=$?"; python3 ${D}/remap.py ${mine}; ${mine}; echo "exit=$?"`)}`;
    const r = spawnSync(process.execPath, [...NO_NEW_CODE, RUN, `${D}/allow.pol`, D, cmd], { encoding: 'utf8', timeout: 900_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { stdout: string; stderr: string };
    assert.match(out.stdout, /roots=0\n/, `a covered file only root can write runs on its verdict: ${out.stdout}${out.stderr}`);
    // Before the fix: first=0 (the verdict for /usr/bin/true's content), then PWNED on the same
    // verdict. Now a file a user other than root can write gets no verdict: it is uncovered, and
    // this allowlist denies uncovered files off the boot filesystem.
    assert.match(r.stderr, /1 file\(s\) under .* not covered: a user other than root can write them/, r.stderr);
    assert.match(out.stdout, /first=126\n/, `uncovered from the start: ${out.stdout}${out.stderr}`);
    assert.match(out.stdout, /\nsame\n/, `the kernel kept the identity (else this proves nothing): ${out.stdout}${out.stderr}`);
    assert.doesNotMatch(out.stdout, /PWNED/, 'the rewritten file ran on the verdict for its old content');
    assert.match(out.stdout, /exit=126/, out.stdout + out.stderr);
    assert.match(out.stderr, /Permission denied/);
  });
});
