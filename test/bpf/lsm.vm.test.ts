// ward's BPF LSM backend in Debian's 6.1 guest, on the microsoft/ipe functional cases: a denied
// binary by exec and by ld.so, a denied library by dlopen and LD_PRELOAD, mmap and mprotect of a
// denied file, a denied module by insmod, and an allowed one of each; what the kernel decides for
// files no verdict covers; policy swap and permissive mode; kill -9 in both failure modes. The
// oracle is the guest kernel's own answer (errno, exit status, /sys/module).

import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, utimesSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BpfBackend } from '../../src/enforcer/bpf-backend.ts';
import type { AccessRecord, AuditRecord } from '../../src/enforcer/audit.ts';
import { parsePolicyOrThrow } from '../../src/policy/parser.ts';
import { IN_VM, VM_KERNEL, VM_SCRATCH, inGuest } from '../helpers/vm.ts';
import { digest, sh } from './guest.ts';

const ON = IN_VM && VM_KERNEL === '6.1';
const D = `${VM_SCRATCH}/bpf`;
const HOLD = fileURLToPath(new URL('./hold.ts', import.meta.url));
const LIBZ = '/usr/lib/x86_64-linux-gnu/libz.so.1';
const mod = (name: string) => spawnSync('modinfo', ['-n', name], { encoding: 'utf8' }).stdout.trim();

const MMAP = (f: string) => `python3 -c "import mmap,os; fd=os.open('${f}', os.O_RDONLY); mmap.mmap(fd, 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ|mmap.PROT_EXEC)"`;
const MPROTECT = (f: string) =>
  `python3 -c "
import ctypes,os,sys
libc=ctypes.CDLL(None, use_errno=True); libc.mmap.restype=ctypes.c_void_p
libc.mmap.argtypes=[ctypes.c_void_p,ctypes.c_size_t,ctypes.c_int,ctypes.c_int,ctypes.c_int,ctypes.c_long]
fd=os.open('${f}', os.O_RDONLY); a=libc.mmap(None, 4096, 1, 2, fd, 0)
r=libc.mprotect(ctypes.c_void_p(a), 4096, 5)
sys.exit(0 if r == 0 else ctypes.get_errno())"`;
const DLOPEN = (f: string) => `python3 -c "import ctypes; ctypes.CDLL('${f}')"`;

let denyList = '';
const events = { audit: (_r: AuditRecord) => {}, log: (_l: string) => {}, failed: (_r: string) => {} };

describe('BPF LSM backend (6.1 guest)', { concurrency: false }, () => {
  before(() => {
    if (!ON) return;
    mkdirSync(`${D}/late`, { recursive: true });
    copyFileSync('/usr/bin/true', `${D}/allowed-bin`);
    copyFileSync('/usr/bin/true', `${D}/denied-bin`);
    appendFileSync(`${D}/denied-bin`, 'denied');
    chmodSync(`${D}/denied-bin`, 0o755);
    copyFileSync(LIBZ, `${D}/liballowed.so`);
    copyFileSync(LIBZ, `${D}/libdenied.so`);
    appendFileSync(`${D}/libdenied.so`, 'denied');
    copyFileSync(mod('veth'), `${D}/veth.ko`);
    copyFileSync(mod('macvlan'), `${D}/macvlan.ko`);
    denyList = [
      'policy_name=deny-list policy_version=0.0.1',
      'DEFAULT action=ALLOW',
      `op=EXECUTE fsverity_digest=${digest(`${D}/denied-bin`)} action=DENY`,
      `op=EXECUTE fsverity_digest=${digest(`${D}/libdenied.so`)} action=DENY`,
      `op=KMODULE fsverity_digest=${digest(`${D}/veth.ko`)} action=DENY`,
      '',
    ].join('\n');
    writeFileSync(`${VM_SCRATCH}/deny-list.pol`, denyList);
  });

  test('ward status: the BPF LSM accepts programs here', (t) => {
    if (!inGuest(t, '6.1')) return;
    const r = sh(`${process.execPath} ${fileURLToPath(new URL('../../bin/ward.js', import.meta.url))} status --json`);
    assert.equal(r.status, 0, r.stderr);
    const item = (JSON.parse(r.stdout) as { items: { name: string; value: unknown; usable: unknown; meaning: string }[] }).items.find((i) => i.name === 'BPF LSM');
    assert.equal(item?.value, true, JSON.stringify(item));
    assert.equal(item?.usable, true);
    assert.match(item!.meaning, /fs-verity kfunc absent/);
  });

  test('the microsoft/ipe functional cases: denied by exec, ld.so, dlopen, LD_PRELOAD, mmap, mprotect, insmod; allowed ones work', async (t) => {
    if (!inGuest(t, '6.1')) return;
    const b = new BpfBackend({ failureMode: 'open', cover: [D] });
    const seen: AccessRecord[] = [];
    await b.start(parsePolicyOrThrow(denyList), { enforce: true, auditSuccess: false }, { ...events, audit: (r) => { if (r.type === 'IPE_ACCESS') seen.push(r); } });
    try {
      const exec = spawnSync(`${D}/denied-bin`);
      assert.equal((exec.error as NodeJS.ErrnoException | undefined)?.code, 'EACCES');
      assert.equal(spawnSync(`${D}/allowed-bin`).status, 0);
      const ldso = sh(`/lib64/ld-linux-x86-64.so.2 ${D}/denied-bin`);
      assert.notEqual(ldso.status, 0);
      assert.match(ldso.stderr, /failed to map segment/);
      assert.equal(sh(`/lib64/ld-linux-x86-64.so.2 ${D}/allowed-bin`).status, 0);
      const dl = sh(DLOPEN(`${D}/libdenied.so`));
      assert.notEqual(dl.status, 0);
      assert.match(dl.stderr, /failed to map segment/);
      assert.equal(sh(DLOPEN(`${D}/liballowed.so`)).status, 0);
      const pre = sh(`LD_PRELOAD=${D}/libdenied.so /usr/bin/true`);
      assert.match(pre.stderr, /cannot be preloaded/);
      assert.doesNotMatch(sh(`LD_PRELOAD=${D}/liballowed.so /usr/bin/true`).stderr, /cannot be preloaded/);
      const mm = sh(MMAP(`${D}/denied-bin`));
      assert.match(mm.stderr, /PermissionError/);
      assert.equal(sh(MMAP(`${D}/allowed-bin`)).status, 0);
      assert.equal(sh(MPROTECT(`${D}/denied-bin`)).status, 13, 'mprotect(PROT_EXEC) must fail with EACCES');
      assert.equal(sh(MPROTECT(`${D}/allowed-bin`)).status, 0);
      const ins = sh(`insmod ${D}/veth.ko`);
      assert.notEqual(ins.status, 0);
      assert.match(ins.stderr, /Permission denied/);
      assert.equal(existsSync('/sys/module/veth'), false);
      const ok = sh(`insmod ${D}/macvlan.ko`);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(existsSync('/sys/module/macvlan'), true);
      sh('rmmod macvlan');
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await b.stop();
    }
    const hooks = new Set(seen.filter((r) => r.decision === 'DENY').map((r) => `${r.ipe_op}/${r.ipe_hook}`));
    for (const h of ['EXECUTE/BPRM_CHECK', 'EXECUTE/MMAP', 'EXECUTE/MPROTECT', 'KMODULE/KERNEL_READ']) assert.ok(hooks.has(h), `audit must show ${h}: ${[...hooks]}`);
    assert.equal(spawnSync(`${D}/denied-bin`).status, 0, 'stopped in open mode: nothing enforced');
  });

  test('files no verdict covers: the kernel decides with boot_verified only (fail-closed for a DEFAULT DENY op)', async (t) => {
    if (!inGuest(t, '6.1')) return;
    const allowVeth = [
      'policy_name=modules policy_version=0.0.1',
      'DEFAULT action=ALLOW',
      'DEFAULT op=KMODULE action=DENY',
      `op=KMODULE fsverity_digest=${digest(`${D}/veth.ko`)} action=ALLOW`,
      `op=EXECUTE fsverity_digest=${digest(`${D}/libdenied.so`)} action=DENY`,
      '',
    ].join('\n');
    const b = new BpfBackend({ failureMode: 'open', cover: [`${D}/veth.ko`, `${D}/libdenied.so`] });
    await b.start(parsePolicyOrThrow(allowVeth), { enforce: true, auditSuccess: false }, events);
    try {
      const late = `${D}/late/veth.ko`;
      copyFileSync(`${D}/veth.ko`, late); // same bytes, but no verdict covers this inode
      assert.match(sh(`insmod ${late}`).stderr, /Permission denied/, 'uncovered: the policy\'s digest is unknown to the kernel');
      // A module open for writing: the kernel itself refuses it first (ETXTBSY, deny_write_access).
      const holder = openSync(`${D}/veth.ko`, 'r+');
      try {
        assert.match(sh(`insmod ${D}/veth.ko`).stderr, /Text file busy/);
      } finally {
        closeSync(holder);
      }
      // A library open for writing: mmap has no such check, so the verdict (DENY) must not be
      // used: the file is decided as uncovered (here DEFAULT ALLOW).
      assert.match(sh(MMAP(`${D}/libdenied.so`)).stderr, /PermissionError/);
      const writer = openSync(`${D}/libdenied.so`, 'r+');
      try {
        assert.equal(sh(MMAP(`${D}/libdenied.so`)).status, 0, 'open for writing: its verdict is not used');
      } finally {
        closeSync(writer);
      }
      assert.match(sh(MMAP(`${D}/libdenied.so`)).stderr, /PermissionError/, 'writer gone, ctime unchanged: the verdict applies again');
      const ok = sh(`insmod ${D}/veth.ko`);
      assert.equal(ok.status, 0, `covered and unchanged: allowed (${ok.stderr})`);
      sh('rmmod veth');
      // Changed after the verdict (ctime moves): stale, so uncovered.
      utimesSync(`${D}/veth.ko`, new Date(), new Date());
      assert.match(sh(`insmod ${D}/veth.ko`).stderr, /Permission denied/, 'a changed file is decided as uncovered');
    } finally {
      await b.stop();
      sh('rmmod veth 2>/dev/null');
    }
  });

  test('policy swap and permissive mode', async (t) => {
    if (!inGuest(t, '6.1')) return;
    const b = new BpfBackend({ failureMode: 'open', cover: [D] });
    const seen: AccessRecord[] = [];
    await b.start(parsePolicyOrThrow(denyList), { enforce: true, auditSuccess: false }, { ...events, audit: (r) => { if (r.type === 'IPE_ACCESS') seen.push(r); } });
    try {
      assert.equal((spawnSync(`${D}/denied-bin`).error as NodeJS.ErrnoException | undefined)?.code, 'EACCES');
      const other = `policy_name=other policy_version=0.0.2\nDEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=${digest(`${D}/allowed-bin`)} action=DENY\n`;
      await b.swapPolicy(parsePolicyOrThrow(other));
      assert.equal(spawnSync(`${D}/denied-bin`).status, 0);
      assert.equal((spawnSync(`${D}/allowed-bin`).error as NodeJS.ErrnoException | undefined)?.code, 'EACCES');
      await b.setMode({ enforce: false, auditSuccess: false });
      assert.equal(spawnSync(`${D}/allowed-bin`).status, 0, 'permissive: audited, not denied');
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(seen.some((r) => r.decision === 'DENY' && r.enforcing === 0 && r.policy_name === 'other'));
      await b.swapPolicy(undefined);
      await b.setMode({ enforce: true, auditSuccess: false });
      assert.equal(spawnSync(`${D}/allowed-bin`).status, 0, 'no policy: everything allowed');
    } finally {
      await b.stop();
    }
  });

  for (const mode of ['closed', 'open'] as const) {
    test(`kill -9 of the daemon in failure mode ${mode}`, async (t) => {
      if (!inGuest(t, '6.1')) return;
      const child = spawn(process.execPath, [HOLD, mode, `${VM_SCRATCH}/deny-list.pol`, D], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => (d.toString().includes('ready') ? resolve() : undefined));
        child.on('exit', (c) => reject(new Error(`holder exited ${c}`)));
      });
      assert.equal((spawnSync(`${D}/denied-bin`).error as NodeJS.ErrnoException | undefined)?.code, 'EACCES');
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await new Promise((r) => setTimeout(r, 200));
      const after = spawnSync(`${D}/denied-bin`);
      if (mode === 'closed') {
        assert.equal((after.error as NodeJS.ErrnoException | undefined)?.code, 'EACCES', 'closed: the pinned programs keep enforcing');
        assert.ok(existsSync('/sys/fs/bpf/ward/links'));
        // A restarted daemon takes the pins over; stopping it in open mode detaches them.
        const r = spawnSync(process.execPath, [HOLD, 'open', `${VM_SCRATCH}/deny-list.pol`, D, 'stop'], { encoding: 'utf8' });
        assert.match(r.stderr, /took over/);
        assert.equal(r.status, 0, r.stderr);
      } else {
        assert.equal(after.status, 0, 'open: the programs went with the daemon');
      }
      assert.equal(spawnSync(`${D}/denied-bin`).status, 0);
      assert.equal(existsSync('/sys/fs/bpf/ward'), false);
    });
  }

  after(() => {
    if (ON && existsSync('/sys/fs/bpf/ward')) sh('rm -rf /sys/fs/bpf/ward');
  });
});
