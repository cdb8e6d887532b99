// The verity target's table line, parsed as drivers/md/dm-verity-target.c verity_status() prints
// it. The guest test (dmverity.vm.test.ts) checks the same parser on the kernel's own output and
// against `veritysetup status`; here the edge cases: anything that does not fit exactly is
// refused (the properties are then unknown, never a match).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVerityTable } from '../../src/properties/dmverity.ts';

const D = 'a'.repeat(64);
const SALT = '0f'.repeat(32);
const base = `1 7:0 7:1 4096 4096 2048 1 sha256 ${D} ${SALT}`;

test('a plain table: every field, no options, no signature', () => {
  const t = parseVerityTable(base);
  assert.ok(t);
  assert.deepEqual(
    { ...t, dataBlocks: String(t.dataBlocks), hashStart: String(t.hashStart) },
    {
      version: 1, dataDev: '7:0', hashDev: '7:1', dataBlockSize: 4096, hashBlockSize: 4096, dataBlocks: '2048', hashStart: '1',
      algorithm: 'sha256', rootDigest: D, salt: SALT, options: {}, signatureKeyDesc: undefined,
    },
  );
  assert.equal(parseVerityTable(`0 7:0 7:1 4096 4096 2048 1 sha256 ${D} -`)?.salt, undefined);
});

test('optional arguments: counted values, the signature key description, FEC', () => {
  const signed = parseVerityTable(`${base} 2 root_hash_sig_key_desc cryptsetup:abc-def`);
  assert.equal(signed?.signatureKeyDesc, 'cryptsetup:abc-def');
  const many = parseVerityTable(`${base} 13 restart_on_corruption ignore_zero_blocks check_at_most_once use_fec_from_device 7:2 fec_roots 2 fec_blocks 100 fec_start 100 root_hash_sig_key_desc k`);
  assert.equal(many?.options.fec_roots, '2');
  assert.equal(many?.signatureKeyDesc, 'k');
  assert.equal(parseVerityTable(`${base} 1 panic_on_corruption`)?.signatureKeyDesc, undefined);
});

test('a table that does not fit exactly is refused, never guessed', () => {
  const bad: Record<string, string> = {
    'too few fields': `1 7:0 7:1 4096 4096 2048 1 sha256 ${D}`,
    'version 2': `2 7:0 7:1 4096 4096 2048 1 sha256 ${D} -`,
    'a device path, not a number': `1 /dev/loop0 7:1 4096 4096 2048 1 sha256 ${D} -`,
    'block size not a power of two': `1 7:0 7:1 4095 4096 2048 1 sha256 ${D} -`,
    'digest one byte short': `1 7:0 7:1 4096 4096 2048 1 sha256 ${D.slice(2)} -`,
    'digest upper case (the kernel prints %02x)': `1 7:0 7:1 4096 4096 2048 1 sha256 ${D.toUpperCase()} -`,
    'a driver name, not the crypto API name IPE compares': `1 7:0 7:1 4096 4096 2048 1 sha256-generic ${D} -`,
    'an inherited property name as algorithm': `1 7:0 7:1 4096 4096 2048 1 constructor ${D} -`,
    'odd salt': `1 7:0 7:1 4096 4096 2048 1 sha256 ${D} abc`,
    'count does not match': `${base} 3 root_hash_sig_key_desc k`,
    'count zero with nothing after it': `${base} 0`,
    'option value missing': `${base} 1 root_hash_sig_key_desc`,
    'unknown option': `${base} 1 verify_everything_twice`,
    'option twice': `${base} 4 root_hash_sig_key_desc a root_hash_sig_key_desc b`,
    'double space': `1 7:0 7:1 4096 4096 2048 1 sha256  ${D} -`,
  };
  for (const [why, line] of Object.entries(bad)) assert.equal(parseVerityTable(line), undefined, why);
});
