// A covered file mapped shared-writable is not run on its old verdict (bpf/ward.bpf.c
// writable()), in Debian's 6.1 guest. The oracle is the guest kernel's answer to execve and to
// mmap(PROT_EXEC).
//
// A MAP_SHARED mapping of a file opened for writing can change the file's pages while the
// mapping lasts, so the program refuses the verdict while i_mmap_writable > 0 (and while
// i_writecount > 0). The mapping holds its own reference to the file it was made from, so on
// 6.1 a shared writable mapping always keeps that file open for writing as well: each of the two
// checks alone refuses the verdict here (checked by removing each from ward.bpf.c in turn; with
// both removed the mmap below is allowed on the old ALLOW and this test fails). execve of such a
// file is refused by the kernel itself first (ETXTBSY: deny_write_access in do_open_execat);
// mmap(PROT_EXEC) has no such check, so there it is ward's program that refuses.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { IN_VM, VM_KERNEL, VM_SCRATCH, inGuest } from '../helpers/vm.ts';
import { NO_NEW_CODE, digest } from './guest.ts';

const ON = IN_VM && VM_KERNEL === '6.1';
const D = `${VM_SCRATCH}/mapped`;
const RUN = fileURLToPath(new URL('./enforce-run.ts', import.meta.url));
const PY = '/usr/bin/python3';

// Maps the file MAP_SHARED with PROT_READ|PROT_WRITE, closes its descriptor (from then on only
// the mapping holds the file), says "mapped", and keeps the mapping until its stdin closes.
// Writes nothing: the file's identity (ctime) stays that of its verdict.
const MAPPER = `import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
size = os.stat(sys.argv[1]).st_size
fd = os.open(sys.argv[1], os.O_RDWR)
a = libc.mmap(None, size, 3, 1, fd, 0)  # PROT_READ|PROT_WRITE, MAP_SHARED
if a is None or a == ctypes.c_void_p(-1).value:
    sys.exit('mmap: errno %d' % ctypes.get_errno())
os.close(fd)
print('mapped', flush=True)
sys.stdin.read()
libc.munmap(a, size)
`;
// mmap(PROT_EXEC) of the whole file: exit 0 if the kernel allows it, 13 if it refuses (EACCES).
const MAPX = `import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    mmap.mmap(fd, 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_EXEC)
except PermissionError:
    sys.exit(13)
`;

describe('BPF LSM backend: a file mapped shared-writable (6.1 guest)', { concurrency: false }, () => {
  before(() => {
    if (!ON) return;
    mkdirSync(D, { recursive: true });
    writeFileSync(`${D}/mapper.py`, MAPPER);
    writeFileSync(`${D}/mapx.py`, MAPX);
  });
  after(() => {
    if (ON) spawnSync('rm', ['-rf', D]);
  });

  test('while another process maps it MAP_SHARED|PROT_WRITE its ALLOW verdict is not used; once unmapped it is again', (t) => {
    if (!inGuest(t, '6.1')) return;
    const prog = `${D}/prog`;
    copyFileSync('/usr/bin/true', prog); // root's, 0755: only root can write it, so it is covered
    // An allowlist: the verdict for prog's content is ALLOW; a file no verdict covers off the
    // boot filesystem (this tmpfs) is denied. python3 and sh are on the boot filesystem.
    writeFileSync(`${D}/allow.pol`, [
      'policy_name=allowlist policy_version=0.0.1',
      'DEFAULT action=ALLOW',
      'DEFAULT op=EXECUTE action=DENY',
      `op=EXECUTE fsverity_digest=${digest(prog)} action=ALLOW`,
      'op=EXECUTE boot_verified=TRUE action=ALLOW',
      '',
    ].join('\n'));
    const mapx = `${PY} ${D}/mapx.py ${prog}`;
    // The mapper's stdin and stdout are FIFOs: "mapped" arrives once the mapping exists, and
    // closing fd 3 (its stdin) ends it. No sleeps.
    const cmd = [
      `mkfifo ${D}/ctl ${D}/out`,
      `${prog}; echo "exec-before=$?"`,
      `${mapx}; echo "mmap-before=$?"`,
      `${PY} ${D}/mapper.py ${prog} <${D}/ctl >${D}/out & m=$!`,
      `exec 3>${D}/ctl`,
      `read ready <${D}/out; echo "mapper=$ready"`,
      `${prog}; echo "exec-mapped=$?"`,
      `${mapx}; echo "mmap-mapped=$?"`,
      'exec 3>&-',
      `wait $m; echo "unmapped=$?"`,
      `${prog}; echo "exec-after=$?"`,
      `${mapx}; echo "mmap-after=$?"`,
    ].join('\n');
    const r = spawnSync(process.execPath, [...NO_NEW_CODE, RUN, `${D}/allow.pol`, D, cmd], { encoding: 'utf8', timeout: 900_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { stdout: string; stderr: string };
    const all = out.stdout + out.stderr;
    assert.match(out.stdout, /exec-before=0\n/, `covered, ALLOW: ${all}`);
    assert.match(out.stdout, /mmap-before=0\n/, all);
    assert.match(out.stdout, /mapper=mapped\n/, all);
    assert.match(out.stdout, /exec-mapped=126\n/, all);
    assert.match(out.stderr, /Text file busy/, `the kernel refuses to exec a file open for writing: ${all}`);
    assert.match(out.stdout, /mmap-mapped=13\n/, `mapped shared-writable: the verdict must not be used (uncovered here: denied): ${all}`);
    assert.match(out.stdout, /unmapped=0\n/, all);
    assert.match(out.stdout, /exec-after=0\n/, `unmapped, identity unchanged: the verdict applies again: ${all}`);
    assert.match(out.stdout, /mmap-after=0\n/, all);
  });
});
