// A stand-in for ward's daemon in the kill -9 tests: starts the BPF backend with a policy file,
// prints "ready", then keeps running until killed (or, with "stop", stops at once).
//   node test/bpf/hold.ts open|closed POLICY_FILE COVER_DIR [stop]

import { readFileSync } from 'node:fs';
import { BpfBackend } from '../../src/enforcer/bpf-backend.ts';
import { parsePolicyOrThrow } from '../../src/policy/parser.ts';

const [mode, policyFile, cover, then] = process.argv.slice(2);
if ((mode !== 'open' && mode !== 'closed') || !policyFile || !cover) {
  process.stderr.write('usage: hold.ts open|closed POLICY_FILE COVER_DIR [stop]\n');
  process.exit(2);
}
const backend = new BpfBackend({ failureMode: mode, cover: [cover] });
await backend.start(parsePolicyOrThrow(readFileSync(policyFile)), { enforce: true, auditSuccess: false }, {
  audit: () => {},
  log: (l) => process.stderr.write(`${l}\n`),
  failed: (r) => process.stderr.write(`failed: ${r}\n`),
});
if (then === 'stop') {
  await backend.stop();
  process.stdout.write('stopped\n');
} else {
  process.stdout.write('ready\n');
  setInterval(() => {}, 1 << 30);
}
