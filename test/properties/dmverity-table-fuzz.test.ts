// Fuzz of the verity table parser: any string gives a table or undefined, never a throw; and a
// table is only ever returned for a line that verity_status() could have printed — printing the
// parsed value back gives the input byte for byte. So no odd input (extra spaces, upper-case
// hex, a truncated option, a smuggled "root_hash_sig_key_desc" inside another value…) can make
// dmverity_roothash match or dmverity_signature TRUE.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVerityTable, type VerityTable } from '../../src/properties/dmverity.ts';
import { rng } from '../helpers/rng.ts';


/** verity_status()'s STATUSTYPE_TABLE line for a parsed table (options in their parsed order). */
function print(t: VerityTable): string {
  const opts = Object.entries(t.options).flatMap(([k, v]) => (v === '' ? [k] : [k, v]));
  return [t.version, t.dataDev, t.hashDev, t.dataBlockSize, t.hashBlockSize, t.dataBlocks, t.hashStart, t.algorithm, t.rootDigest, t.salt ?? '-', ...(opts.length ? [opts.length, ...opts] : [])].join(' ');
}

const D = 'ab'.repeat(32);
const SEEDS = [
  `1 7:0 7:1 4096 4096 2048 1 sha256 ${D} ${'0f'.repeat(32)}`,
  `0 253:0 253:1 512 4096 1 0 sha1 ${'cd'.repeat(20)} -`,
  `1 7:0 7:1 4096 4096 2048 1 sha256 ${D} - 2 root_hash_sig_key_desc cryptsetup:x`,
  `1 7:0 7:1 4096 4096 2048 1 sha256 ${D} - 5 ignore_zero_blocks use_fec_from_device 7:2 fec_roots 2`,
];
const PIECES = [' ', '  ', '\t', '\n', '\0', '0', '1', '-', ':', 'A', 'a', 'root_hash_sig_key_desc', 'fec_roots', '2', '99999999999999999999', '__proto__', 'constructor', 'é', 'sha256', '-1', '+1', '0x10', '1e3', '00'];

test('fuzz: the verity table parser never throws, and returns a table only for exactly what the kernel prints', () => {
  const r = rng(Number(process.env.WARD_FUZZ_SEED ?? 7));
  let parsed = 0;
  for (let k = 0; k < 20000; k++) {
    let s = SEEDS[Math.floor(r() * SEEDS.length)]!;
    const edits = 1 + Math.floor(r() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(r() * (s.length + 1));
      const roll = r();
      if (roll < 0.4) s = s.slice(0, at) + PIECES[Math.floor(r() * PIECES.length)]! + s.slice(at);
      else if (roll < 0.7) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(r() * 8));
      else {
        const toks = s.split(' ');
        const i = Math.floor(r() * toks.length);
        toks[i] = PIECES[Math.floor(r() * PIECES.length)]!;
        s = toks.join(' ');
      }
    }
    let t: VerityTable | undefined;
    assert.doesNotThrow(() => (t = parseVerityTable(s)), JSON.stringify(s));
    if (!t) continue;
    parsed++;
    assert.equal(print(t), s, `parsed but not as the kernel prints it: ${JSON.stringify(s)}`);
    // Signed only through the option itself (never, e.g., a value of another option spelled like it).
    assert.equal(t.signatureKeyDesc, Object.hasOwn(t.options, 'root_hash_sig_key_desc') ? t.options.root_hash_sig_key_desc : undefined, JSON.stringify(s));
  }
  for (const s of SEEDS) assert.equal(print(parseVerityTable(s)!), s);
  assert.ok(parsed > 100, `only ${parsed} mutated lines parsed: the fuzz reaches too little`);
});
