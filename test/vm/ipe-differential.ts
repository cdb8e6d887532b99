// The IPE parser differential, run inside the 6.12 guest: each policy is parsed by ward
// (parsePolicy, what `ward policy check` runs) and, signed with the key enrolled in the guest's
// UEFI db, written to the kernel's /sys/kernel/security/ipe/new_policy in one write(). Outcomes
// compared: accepted or the errno; for accepted policies also the name and the version the
// kernel reads back. Each loaded policy is deleted again before the next case.
//
// As a script: node test/vm/ipe-differential.ts [--count N] [--seed S] [--json FILE]

import fc from 'fast-check';
import { closeSync, openSync, readFileSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { parsePolicy } from '../../src/policy/index.ts';
import { versionString } from '../../src/policy/model.ts';
import { policyNameError } from '../../src/policy/lifecycle.ts';
import { mutatedPolicy, renderedPolicy } from '../helpers/policy-arbitraries.ts';
import { EDGE_CASES, KUNIT_CASES } from './ipe-cases.ts';
import { loadSigner, signPkcs7, type Signer } from './pkcs7.ts';

export const IPE = '/sys/kernel/security/ipe';

export interface Case {
  kind: 'kunit' | 'edge' | 'generated' | 'mutated';
  label: string;
  bytes: Buffer;
}

export interface Outcome {
  /** 'OK' or the errno name. */
  ward: string;
  kernel: string;
  /** For a policy both accepted: ward's name and version vs what the kernel reads back. */
  wardLoaded?: string;
  kernelLoaded?: string;
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));
ERRNO_NAMES.set(126, 'ENOKEY');
ERRNO_NAMES.set(129, 'EKEYREJECTED');

function errnoOf(e: unknown): string {
  const n = (e as NodeJS.ErrnoException).errno;
  return typeof n === 'number' ? (ERRNO_NAMES.get(-n) ?? ERRNO_NAMES.get(n) ?? `errno ${n}`) : String(e);
}

/** KUnit + edge cases, then `count` fuzzed ones (half generated valid policies, half mutated). */
export function corpus(count: number, seed: number): Case[] {
  const out: Case[] = [];
  for (const [text, , label] of KUNIT_CASES) out.push({ kind: 'kunit', label, bytes: Buffer.from(text, 'latin1') });
  out.push({ kind: 'kunit', label: 'wide-string policy', bytes: Buffer.from('policy_name=Test policy_version=0.0.0\nDEFAULT action=ALLOW', 'utf16le') });
  for (const [text, label] of EDGE_CASES) out.push({ kind: 'edge', label, bytes: Buffer.from(text, 'latin1') });
  const half = Math.ceil(count / 2);
  fc.sample(renderedPolicy, { numRuns: half, seed }).forEach((p, i) => out.push({ kind: 'generated', label: `generated #${i} (seed ${seed})`, bytes: Buffer.from(p.bytes) }));
  fc.sample(mutatedPolicy, { numRuns: count - half, seed: seed + 1 }).forEach((p, i) =>
    out.push({ kind: 'mutated', label: `mutated #${i} (seed ${seed + 1})`, bytes: Buffer.from(p as Uint8Array) }),
  );
  return out;
}

export function wardOutcome(bytes: Buffer): { errno: string; loaded?: string } {
  const r = parsePolicy(bytes);
  if (!r.ok) return { errno: r.error.code };
  // What ward daemon's new_policy does next: a name securityfs cannot hold is refused.
  const bad = policyNameError(r.value.rawName);
  if (bad) return { errno: bad.code };
  return { errno: 'OK', loaded: `${r.value.rawName} ${versionString(r.value.version)}` };
}

/** Writes signed policies to the kernel's IPE and compares with ward; keeps no policy loaded. */
export class Differential {
  readonly #signer: Signer;
  readonly #fd: number;

  constructor(keyPem: string, certPem: string) {
    this.#signer = loadSigner(keyPem, certPem);
    this.#fd = openSync(`${IPE}/new_policy`, 'w');
    this.#sweep(); // policies other tests left loaded (not active) would read back as ours
  }

  /** Deletes every loaded policy that is not active; returns "name version" of each. */
  #sweep(): string[] {
    const loaded: string[] = [];
    for (const name of readdirSync(`${IPE}/policies`, { encoding: 'buffer' })) {
      const dir = Buffer.concat([Buffer.from(`${IPE}/policies/`), name]);
      // Read back raw: a name may end in bytes JavaScript's trim() would eat (0xA0).
      const read = (f: string) => readFileSync(Buffer.concat([dir, Buffer.from(f)]), 'latin1').replace(/\n$/, '');
      // An active policy (another test's) is not one of ours, and cannot be deleted.
      if (read('/active') === '1') continue;
      loaded.push(`${read('/name')} ${read('/version')}`);
      writeFileSync(Buffer.concat([dir, Buffer.from('/delete')]), '1');
    }
    return loaded;
  }

  close(): void {
    closeSync(this.#fd);
  }

  /** The kernel's answer for a signed blob: 'OK' (then also what it loaded) or the errno. */
  kernel(blob: Buffer): { errno: string; loaded?: string } {
    try {
      writeSync(this.#fd, blob);
    } catch (e) {
      return { errno: errnoOf(e) };
    }
    const loaded = this.#sweep();
    return { errno: 'OK', loaded: loaded.join(' | ') };
  }

  run(c: Case): Outcome {
    const w = wardOutcome(c.bytes);
    const k = this.kernel(signPkcs7(c.bytes, this.#signer));
    const o: Outcome = { ward: w.errno, kernel: k.errno };
    if (w.errno === 'OK' && k.errno === 'OK') {
      o.wardLoaded = w.loaded;
      o.kernelLoaded = k.loaded;
    }
    return o;
  }
}

export function agrees(o: Outcome): boolean {
  return o.ward === o.kernel && o.wardLoaded === o.kernelLoaded;
}

export interface Summary {
  total: number;
  agreed: number;
  byKind: Record<string, { total: number; agreed: number; accepted: number }>;
  byErrno: Record<string, number>;
  disagreements: Array<{ kind: string; label: string; text: string } & Outcome>;
  seconds: number;
}

export function runAll(cases: Case[], d: Differential, onProgress?: (done: number) => void): Summary {
  const start = process.hrtime.bigint();
  const s: Summary = { total: 0, agreed: 0, byKind: {}, byErrno: {}, disagreements: [], seconds: 0 };
  for (const c of cases) {
    const o = d.run(c);
    const k = (s.byKind[c.kind] ??= { total: 0, agreed: 0, accepted: 0 });
    s.total++;
    k.total++;
    s.byErrno[o.kernel] = (s.byErrno[o.kernel] ?? 0) + 1;
    if (o.kernel === 'OK') k.accepted++;
    if (agrees(o)) {
      s.agreed++;
      k.agreed++;
    } else {
      s.disagreements.push({ kind: c.kind, label: c.label, text: c.bytes.toString('latin1'), ...o });
    }
    if (onProgress && s.total % 1000 === 0) onProgress(s.total);
  }
  s.seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return s;
}

if (import.meta.main) {
  const arg = (name: string, dflt: string) => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? process.argv[i + 1]! : dflt;
  };
  const count = Number(arg('--count', '1000'));
  const seed = Number(arg('--seed', '1'));
  const key = process.env.WARD_VM_IPE_KEY;
  const cert = process.env.WARD_VM_IPE_CERT;
  if (!key || !cert) {
    process.stderr.write('ipe-differential: run it in the 6.12 guest: scripts/vm.sh --kernel 6.12 -- node test/vm/ipe-differential.ts\n');
    process.exit(2);
  }
  const d = new Differential(key, cert);
  const summary = runAll(corpus(count, seed), d, (n) => process.stderr.write(`ipe-differential: ${n} cases\n`));
  d.close();
  const json = arg('--json', '');
  if (json) writeFileSync(json, JSON.stringify({ count, seed, ...summary }, null, 1));
  process.stdout.write(`${summary.agreed} of ${summary.total} agree (${summary.seconds.toFixed(1)} s)\n`);
  for (const x of summary.disagreements.slice(0, 20)) process.stdout.write(`${JSON.stringify(x)}\n`);
  process.exit(summary.agreed === summary.total ? 0 : 1);
}
