// Runs one shell command while the BPF backend enforces a policy, then stops it; prints the
// command's {status, stdout, stderr} as JSON. For allowlists (a DEFAULT DENY for EXECUTE), which
// deny anonymous executable memory as IPE does: run this Node interpreter-only (see
// test/bpf/guest.ts NO_NEW_CODE) so that it makes no new code once the policy is
// enforced (the test's own Node waits in spawnSync meanwhile).
//   node NO_NEW_CODE… test/bpf/enforce-run.ts POLICY_FILE COVER_DIR COMMAND [SHELL]
// SHELL (default sh) runs COMMAND as `SHELL -c COMMAND`: a policy that allows nothing on the root
// filesystem needs a shell it allows (e.g. a static busybox with an allowed digest: `… sh`).

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BpfBackend } from '../../src/enforcer/bpf-backend.ts';
import { parsePolicyOrThrow } from '../../src/policy/parser.ts';

const [policyFile, cover, command, shell = 'sh'] = process.argv.slice(2);
if (!policyFile || !cover || !command) {
  process.stderr.write('usage: enforce-run.ts POLICY_FILE COVER_DIR COMMAND [SHELL]\n');
  process.exit(2);
}
const backend = new BpfBackend({ failureMode: 'open', cover: [cover] });
await backend.start(parsePolicyOrThrow(readFileSync(policyFile)), { enforce: true, auditSuccess: false }, {
  audit: () => {},
  log: (l) => process.stderr.write(`${l}\n`),
  failed: (r) => process.stderr.write(`failed: ${r}\n`),
});
let out: { status: number | null; stdout: string; stderr: string };
try {
  const [file, ...args] = shell.split(' ');
  const r = spawnSync(file!, [...args, '-c', command], { encoding: 'utf8', timeout: 600_000 });
  out = { status: r.status, stdout: r.stdout, stderr: r.stderr };
} finally {
  await backend.stop();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
