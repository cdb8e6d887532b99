// The BPF LSM backend at kernel_load_data (a buffer from user space: init_module(2),
// kexec_load(2)) and at kernel_read_file for an op other than KMODULE (kexec_file_load(2)), in
// Debian's 6.1 guest. The oracle is the errno the guest kernel returns, and whether the module
// is in /sys/module afterwards.
//
// Each call reaches the hook before it can change anything (Linux 6.1):
//  - init_module: copy_module_from_user() calls security_kernel_load_data(LOADING_MODULE)
//    before it copies the image; allowed, the real module loads (and is removed again).
//  - kexec_load: kexec_load_check() calls security_kernel_load_data(LOADING_KEXEC_IMAGE), then
//    checks the flags; we pass no segments and a foreign architecture (KEXEC_ARCH_ARM), so an
//    allowed call fails with EINVAL at the architecture check and loads nothing.
//  - kexec_file_load: kimage_file_prepare_segments() reads the image with
//    kernel_read_file(READING_KEXEC_IMAGE) before it parses it; our "image" is an ELF file, so an
//    allowed call fails with ENOEXEC (no bzImage header) and loads nothing. The initramfs is read
//    only after the image passed its probe and signature check, so KEXEC_INITRAMFS is not
//    reachable with a bogus image, nor FIRMWARE, POLICY or X509_CERT without a driver, an IMA
//    policy write or boot-time key loading.

import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { BpfBackend } from '../../src/enforcer/bpf-backend.ts';
import type { AccessRecord, AuditRecord } from '../../src/enforcer/audit.ts';
import { parsePolicyOrThrow } from '../../src/policy/parser.ts';
import { IN_VM, VM_KERNEL, VM_SCRATCH, inGuest } from '../helpers/vm.ts';
import { digest, sh } from './guest.ts';

const ON = IN_VM && VM_KERNEL === '6.1';
const D = `${VM_SCRATCH}/kload`;

// One python3 for all calls of a phase (TCG makes each interpreter start cost seconds). Prints
// one errno per argument (0 = the call succeeded). x86_64 syscall numbers.
const CALLS = `import ctypes, json, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def call(*a):
    ctypes.set_errno(0)
    return 0 if libc.syscall(*a) == 0 else ctypes.get_errno()
out = []
for arg in sys.argv[1:]:
    kind, _, path = arg.partition(':')
    if kind == 'init_module':
        data = open(path, 'rb').read()
        out.append(call(ctypes.c_long(175), ctypes.c_char_p(data), ctypes.c_ulong(len(data)), ctypes.c_char_p(b'')))
    elif kind == 'kexec_load':  # entry 0, no segments, flags KEXEC_ARCH_ARM (40 << 16)
        out.append(call(ctypes.c_long(246), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_void_p(None), ctypes.c_ulong(40 << 16)))
    elif kind == 'kexec_file_load':  # no initramfs (KEXEC_FILE_NO_INITRAMFS = 4), no command line
        fd = os.open(path, os.O_RDONLY)
        out.append(call(ctypes.c_long(320), ctypes.c_long(fd), ctypes.c_long(-1), ctypes.c_ulong(0), ctypes.c_void_p(None), ctypes.c_ulong(4)))
        os.close(fd)
    else:
        sys.exit('unknown call ' + arg)
print(json.dumps(out))
`;

const EACCES = 13;
const EINVAL = 22;
const ENOEXEC = 8;

function calls(...args: string[]): number[] {
  const r = sh(`/usr/bin/python3 ${D}/calls.py ${args.join(' ')}`);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as number[];
}

describe('BPF LSM backend: kernel_load_data and kexec (6.1 guest)', { concurrency: false }, () => {
  let veth = '';
  before(() => {
    if (!ON) return;
    mkdirSync(D, { recursive: true });
    writeFileSync(`${D}/calls.py`, CALLS);
    veth = `${D}/veth.ko`;
    copyFileSync(spawnSync('modinfo', ['-n', 'veth'], { encoding: 'utf8' }).stdout.trim(), veth);
    copyFileSync('/usr/bin/true', `${D}/image-allowed`);
    copyFileSync('/usr/bin/true', `${D}/image-denied`);
    appendFileSync(`${D}/image-denied`, 'denied');
    sh('rmmod veth 2>/dev/null');
  });
  after(() => {
    if (ON) sh('rmmod veth 2>/dev/null');
  });

  test('init_module and kexec_load are decided at KERNEL_LOAD with every property false; kexec_file_load at KERNEL_READ by the file', async (t) => {
    if (!inGuest(t, '6.1')) return;
    const seen: AccessRecord[] = [];
    const events = { audit: (r: AuditRecord) => { if (r.type === 'IPE_ACCESS') seen.push(r); }, log: () => {}, failed: () => {} };
    const denyAll = [
      'policy_name=deny-loads policy_version=0.0.1',
      'DEFAULT action=ALLOW',
      'op=KMODULE action=DENY',
      'op=KEXEC_IMAGE action=DENY',
      '',
    ].join('\n');
    // The same ops denied only for named content: a buffer has no file and so no digest (as in
    // IPE, every property of a kernel_load_data decision is false), so these rules cannot match it.
    const byDigest = [
      'policy_name=deny-by-digest policy_version=0.0.2',
      'DEFAULT action=ALLOW',
      `op=KMODULE fsverity_digest=${digest(veth)} action=DENY`,
      `op=KEXEC_IMAGE fsverity_digest=${digest(`${D}/image-denied`)} action=DENY`,
      '',
    ].join('\n');
    const b = new BpfBackend({ failureMode: 'open', cover: [D] });
    await b.start(parsePolicyOrThrow(denyAll), { enforce: true, auditSuccess: false }, events);
    let denied: number[];
    let allowed: number[];
    try {
      denied = calls(`init_module:${veth}`, 'kexec_load', `kexec_file_load:${D}/image-allowed`);
      assert.equal(existsSync('/sys/module/veth'), false, 'init_module was refused: veth is not loaded');
      await b.swapPolicy(parsePolicyOrThrow(byDigest));
      allowed = calls(`init_module:${veth}`, 'kexec_load', `kexec_file_load:${D}/image-allowed`, `kexec_file_load:${D}/image-denied`);
      assert.equal(existsSync('/sys/module/veth'), allowed[0] === 0, 'init_module says it loaded veth exactly when /sys/module/veth exists');
    } finally {
      await b.stop(); // drains the ring buffer: every record the hooks wrote is in `seen`
      sh('rmmod veth 2>/dev/null');
    }
    assert.deepEqual(denied, [EACCES, EACCES, EACCES], 'op=KMODULE / op=KEXEC_IMAGE action=DENY refuse init_module, kexec_load, kexec_file_load');
    // Allowed, each call goes on to the kernel's own checks: the module loads, kexec_load stops
    // at the foreign architecture, kexec_file_load at the image probe. The digest DENY still
    // refuses the file whose content it names.
    assert.deepEqual(allowed, [0, EINVAL, ENOEXEC, EACCES]);

    const deny = seen.filter((r) => r.decision === 'DENY').map((r) => `${r.policy_name} ${r.ipe_op}/${r.ipe_hook} ${r.rule}`);
    assert.deepEqual(deny, [
      'deny-loads KMODULE/KERNEL_LOAD bpf:no_file',
      'deny-loads KEXEC_IMAGE/KERNEL_LOAD bpf:no_file',
      'deny-loads KEXEC_IMAGE/KERNEL_READ bpf:verdict',
      'deny-by-digest KEXEC_IMAGE/KERNEL_READ bpf:verdict',
    ]);
  });
});
