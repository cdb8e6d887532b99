// `ward trust check`: is a generated trust policy still true of this host? Like
// `fapolicyd-cli --check-trustdb`: the files it names whose content changed or which vanished,
// and the code installed now that it does not name (uncovered: it would be denied).

import { hashFiles, type HashProgress } from './hash-pool.ts';
import { listCode } from './generate.ts';
import type { NamedFile, TrustPolicyMeta } from './trust-policy.ts';

export interface TrustCheckReport {
  readonly checked: number;
  readonly changed: ReadonlyArray<{ path: string; packages: readonly string[]; expected: string; found: string }>;
  readonly vanished: ReadonlyArray<{ path: string; packages: readonly string[] }>;
  readonly unreadable: ReadonlyArray<{ path: string; packages: readonly string[]; error: string }>;
  readonly uncovered: ReadonlyArray<{ path: string; packages: readonly string[] }>;
}

export function trustCheckClean(r: TrustCheckReport): boolean {
  return r.changed.length === 0 && r.vanished.length === 0 && r.unreadable.length === 0 && r.uncovered.length === 0;
}

export async function checkTrustPolicy(
  policy: TrustPolicyMeta & { files: readonly NamedFile[] },
  o: { admindir?: string; workers?: number; onProgress?: HashProgress } = {},
): Promise<TrustCheckReport> {
  const results = await hashFiles(
    policy.files.map((f) => ({ path: f.path, md5: false, size: 0 })),
    { workers: o.workers, onProgress: o.onProgress },
  );
  const changed: Array<TrustCheckReport['changed'][number]> = [];
  const vanished: Array<TrustCheckReport['vanished'][number]> = [];
  const unreadable: Array<TrustCheckReport['unreadable'][number]> = [];
  policy.files.forEach((f, i) => {
    const r = results[i]!;
    if ('error' in r) {
      if (r.error === 'ENOENT') vanished.push({ path: f.path, packages: f.packages });
      else unreadable.push({ path: f.path, packages: f.packages, error: `${r.error}${r.detail ? ` (${r.detail})` : ''}` });
    } else if (r.digest !== f.digest) changed.push({ path: f.path, packages: f.packages, expected: f.digest, found: r.digest });
  });
  const named = new Set(policy.files.map((f) => f.path));
  const uncovered = listCode(policy.source, policy.libraries, o.admindir)
    .filter((c) => !named.has(c.path))
    .map((c) => ({ path: c.path, packages: c.owners.map((x) => x.pkg) }));
  return { checked: policy.files.length, changed, vanished, unreadable, uncovered };
}
