// The kernel's IPE is the oracle for ward's BPF backend (Debian's 6.12: real IPE, fs-verity and
// the bpf_get_fsverity_digest kfunc). One policy, the same files — with and without fs-verity,
// on the boot filesystem and elsewhere, covered by a user-space verdict or not — decided once by
// kernel IPE and once by ward's programs: every decision must be equal, except the one designed
// difference (a computed digest for a file without fs-verity), which is asserted as such.

import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { BpfBackend } from '../../src/enforcer/bpf-backend.ts';
import type { AuditRecord } from '../../src/enforcer/audit.ts';
import { parsePolicyOrThrow } from '../../src/policy/parser.ts';
import { VM_IPE_CERT, VM_IPE_KEY, VM_SCRATCH, inGuest } from '../helpers/vm.ts';
import { sh } from './guest.ts';

const S = `${VM_SCRATCH}/oracle`;
const IPE = '/sys/kernel/security/ipe';
const MMAP = (f: string) => `python3 -c "import mmap,os; fd=os.open('${f}', os.O_RDONLY); mmap.mmap(fd, 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ|mmap.PROT_EXEC)"`;

function digestOf(path: string): string {
  return `sha256:${execFileSync('fsverity', ['digest', '--compact', path], { encoding: 'utf8' }).trim()}`;
}

function ipeLoad(text: string, name: string): void {
  writeFileSync(`${S}/${name}.pol`, text);
  execFileSync('openssl', ['smime', '-sign', '-binary', '-noattr', '-nodetach', '-nosmimecap', '-outform', 'der', '-in', `${S}/${name}.pol`, '-signer', VM_IPE_CERT!, '-inkey', VM_IPE_KEY!, '-out', `${S}/${name}.p7s`]);
  execFileSync('sh', ['-c', `cat ${S}/${name}.p7s > ${IPE}/new_policy && echo 1 > ${IPE}/policies/${name}/active`]);
}

/** Each case: "exec" or "mmap" of a file → allowed (true) or denied. */
function decisions(files: Record<string, string>): Record<string, boolean> {
  const out: Record<string, boolean> = {};
  for (const [label, f] of Object.entries(files)) {
    out[`exec ${label}`] = spawnSync(f).error === undefined;
    out[`mmap ${label}`] = sh(MMAP(f)).status === 0;
  }
  return out;
}

describe('kernel IPE vs ward BPF LSM (6.12 guest)', { concurrency: false }, () => {
  test('every decision is equal (but for computed digests of files without fs-verity)', async (t) => {
    if (!inGuest(t, '6.12')) return;
    mkdirSync(`${S}/mnt`, { recursive: true });
    sh('modprobe loop');
    execFileSync('sh', ['-c', `truncate -s 64M ${S}/verity.img && mkfs.ext4 -q -b 4096 -O verity ${S}/verity.img && mount -o loop ${S}/verity.img ${S}/mnt`]);
    const V = `${S}/mnt`; // ext4 with fs-verity
    const T = `${S}/tmp`; // tmpfs: no fs-verity
    mkdirSync(T, { recursive: true });
    for (const dir of [V, T]) {
      copyFileSync('/usr/bin/true', `${dir}/good`);
      copyFileSync('/usr/bin/true', `${dir}/bad`);
      appendFileSync(`${dir}/bad`, 'bad');
      execFileSync('chmod', ['755', `${dir}/good`, `${dir}/bad`]);
    }
    copyFileSync(`${V}/bad`, `${V}/bad-uncovered`);
    execFileSync('chmod', ['755', `${V}/bad-uncovered`]);
    for (const f of ['good', 'bad', 'bad-uncovered']) execFileSync('fsverity', ['enable', `${V}/${f}`]);
    const bad = digestOf(`${V}/bad`);
    assert.equal(bad, digestOf(`${T}/bad`), 'same bytes, same digest');
    const policy = `policy_name=oracle policy_version=1.0.0\nDEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=${bad} action=DENY\n`;
    const files = {
      'fs-verity file the policy denies (covered)': `${V}/bad`,
      'fs-verity file the policy denies (no verdict: the kfunc decides)': `${V}/bad-uncovered`,
      'fs-verity file the policy allows': `${V}/good`,
      'same bytes without fs-verity': `${T}/bad`,
      'file without fs-verity': `${T}/good`,
      'file on the boot filesystem': '/usr/bin/true',
    };

    ipeLoad(policy, 'oracle');
    const kernel = decisions(files);
    ipeLoad('policy_name=allow-all policy_version=9.0.0\nDEFAULT action=ALLOW\n', 'allow-all');
    assert.equal(kernel['exec fs-verity file the policy denies (covered)'], false, 'kernel IPE enforces the policy');

    const b = new BpfBackend({ failureMode: 'open', cover: [`${V}/bad`, `${V}/good`, `${T}/bad`, `${T}/good`] });
    const log: string[] = [];
    const seen: AuditRecord[] = [];
    await b.start(parsePolicyOrThrow(policy), { enforce: true, auditSuccess: false }, { audit: (r) => seen.push(r), log: (l) => log.push(l), failed: () => {} });
    let ward: Record<string, boolean>;
    try {
      assert.equal(b.status().details.verityKfunc, true, log.join('\n'));
      ward = decisions(files);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await b.stop();
      sh(`umount ${V}`);
    }
    // The one designed difference (docs/bpf.md, docs/properties.md): for a file WITHOUT fs-verity,
    // kernel IPE's fsverity_digest is false, while ward's user-space verdict uses the digest it
    // computed (so digest rules work on files that cannot have fs-verity). Everything else is equal.
    const differs = ['exec same bytes without fs-verity', 'mmap same bytes without fs-verity'];
    for (const k of differs) {
      assert.equal(kernel[k], true, `IPE: ${k}`);
      assert.equal(ward[k], false, `ward: ${k}`);
    }
    const same = (r: Record<string, boolean>) => Object.fromEntries(Object.entries(r).filter(([k]) => !differs.includes(k)));
    assert.deepEqual(same(ward), same(kernel));
    assert.equal(Object.keys(same(kernel)).length, 10);
    assert.ok(seen.some((r) => r.type === 'IPE_ACCESS' && r.rule === 'bpf:kernel_fsverity'), 'the uncovered fs-verity file was decided by the kernel\'s digest');
  });
});
