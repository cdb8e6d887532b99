// Edge cases of the reference page (shared/reference/ipe-policy.md), each checked against the
// kernel's parser as ported (policy_parser.c, digest.c, lib/kstrtox.c, lib/hexdump.c).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy, type Policy } from '../../src/policy/index.ts';

const H = 'policy_name=p policy_version=1.2.3';
const bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');

function accept(text: string): Policy {
  const r = parsePolicy(bytes(text));
  assert.ok(r.ok, r.ok ? '' : `unexpected ${r.error.code} at ${r.error.line}:${r.error.column}: ${r.error.message}`);
  return r.value;
}

function reject(text: string, errno: string, line?: number, column?: number, token?: string): void {
  const r = parsePolicy(bytes(text));
  assert.equal(r.ok, false, `expected ${errno}, the policy was accepted`);
  if (r.ok) return;
  assert.equal(r.error.code, errno, r.error.message);
  if (line !== undefined) assert.equal(r.error.line, line, 'line');
  if (column !== undefined) assert.equal(r.error.column, column, 'column');
  if (token !== undefined) assert.equal(r.error.token, token, 'token');
  assert.ok(r.error.message.length > 20, 'the message explains the problem');
}

test('lines end at \\n and at \\r, and \\r\\n counts as one line for positions', () => {
  const p = accept(`${H}\rDEFAULT action=ALLOW\r\nop=EXECUTE action=DENY\nop=KMODULE action=DENY`);
  assert.deepEqual(p.rules.map((r) => r.line), [3, 4]);
  reject(`${H}\r\n\r\nop=EXECUTE action=NOPE\n`, 'EBADMSG', 3, 12, 'action=NOPE');
});

test('# starts a comment anywhere, even inside a value', () => {
  // The comment cuts the line to "op=EXECUTE fsverity_digest=sha256:ab", whose last token is no action.
  reject(`${H}\nDEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=sha256:ab#cd action=DENY`, 'EBADMSG', 3, 12);
  // A '#' in a name ends the header: the version is then missing.
  reject(`policy_name=a#b policy_version=1.0.0\nDEFAULT action=ALLOW`, 'EBADMSG', 1, 14);
  const p = accept(`${H}\nDEFAULT action=ALLOW\nop=EXECUTE boot_verified=TRUE action=DENY#x`);
  assert.equal(p.rules[0]!.action, 'DENY');
  accept(`${H} # header comment\n   # indented comment\nDEFAULT action=ALLOW#tight`);
});

test('trailing kernel isspace bytes are stripped, including \\v \\f and 0xA0', () => {
  for (const tail of [' ', '\t', '\v', '\f', '\r', '\xA0', ' \xA0\v\t']) {
    accept(`${H}${tail}\nDEFAULT action=ALLOW${tail}`);
  }
  // 0x85 and other Latin-1 bytes are not kernel spaces: they stay part of the token.
  reject(`${H}\nDEFAULT action=ALLOW\x85`, 'EBADMSG', 2, 9, 'action=ALLOW\uFFFD'); // shown decoded
});

test('only space and tab separate tokens; \\v, \\f, 0xA0 inside a line belong to a token', () => {
  accept(`${H}\nDEFAULT \t  action=ALLOW`);
  reject(`${H}\nDEFAULT\vaction=ALLOW`, 'EBADMSG', 2, 1);
  reject(`${H}\nDEFAULT\xA0action=ALLOW`, 'EBADMSG', 2, 1);
  const p = accept(`policy_name=a\vb\xA0c policy_version=0.0.1\nDEFAULT action=ALLOW`);
  assert.equal(p.rawName, 'a\vb\xA0c');
});

test('NUL truncates the policy; the text is still kept whole', () => {
  const text = `${H}\nDEFAULT action=DENY\n\0op=EXECUTE garbage`;
  const p = accept(text);
  assert.equal(p.rules.length, 0);
  assert.equal(p.text.length, text.length);
  reject('\0policy_name=a policy_version=1.0.0\nDEFAULT action=ALLOW', 'EBADMSG');
});

test('tokens are case-sensitive', () => {
  reject(`Policy_name=p policy_version=1.0.0\nDEFAULT action=ALLOW`, 'EBADMSG', 1, 1);
  reject(`${H}\ndefault action=ALLOW`, 'EBADMSG', 2, 1, 'default');
  reject(`${H}\nDEFAULT action=allow`, 'EBADMSG', 2, 9, 'action=allow');
  reject(`${H}\nDEFAULT action=ALLOW\nop=execute action=DENY`, 'EBADMSG', 3, 1, 'op=execute');
  reject(`${H}\nDEFAULT action=ALLOW\nop=EXECUTE boot_verified=true action=DENY`, 'EBADMSG', 3, 12);
  reject(`${H}\nDEFAULT action=ALLOW\nop=EXECUTE Boot_verified=TRUE action=DENY`, 'EBADMSG', 3, 12);
});

test('header: exactly two tokens in order, non-empty values, names may hold = and punctuation', () => {
  assert.equal(accept(`policy_name=a=b,c;"' policy_version=0.0.0\nDEFAULT action=ALLOW`).rawName, `a=b,c;"'`);
  reject(`policy_version=1.0.0 policy_name=p\nDEFAULT action=ALLOW`, 'EBADMSG', 1, 1);
  reject(`policy_name= policy_version=1.0.0\nDEFAULT action=ALLOW`, 'EBADMSG', 1, 1);
  reject(`policy_name=p policy_version=\nDEFAULT action=ALLOW`, 'EBADMSG', 1, 15);
  reject(`policy_name=p\nDEFAULT action=ALLOW`, 'EBADMSG', 1);
  reject(`${H} extra\nDEFAULT action=ALLOW`, 'EBADMSG', 1, 36, 'extra');
  // The version is parsed before the extra token is seen: its error wins.
  reject(`policy_name=p policy_version=1.2.x extra\nDEFAULT action=ALLOW`, 'EINVAL', 1, 34);
  // Blank and comment lines may precede the header.
  accept(`\n\n# c\n   \n${H}\nDEFAULT action=ALLOW`);
});

test('version parts follow kstrtou16(s, 10) exactly', () => {
  const v = (s: string) => `policy_name=p policy_version=${s}\nDEFAULT action=ALLOW`;
  assert.deepEqual(accept(v('+1.007.65535')).version, { major: 1, minor: 7, rev: 65535 });
  assert.deepEqual(accept(v('0.0.0')).version, { major: 0, minor: 0, rev: 0 });
  reject(v('65536.0.0'), 'ERANGE', 1, 30);
  reject(v('1.-1.0'), 'EINVAL', 1, 32);
  reject(v('1..0'), 'EINVAL', 1, 32);
  reject(v('0x1.0.0'), 'EINVAL', 1, 31);
  reject(v('1.0.0x'), 'EINVAL', 1, 35);
  reject(v('++1.0.0'), 'EINVAL');
  reject(v('+.0.0'), 'EINVAL');
  reject(v('1.0.0.'), 'EBADMSG'); // a 4th (empty) part is EBADMSG before it is parsed
  reject(v('1.0.0.x'), 'EBADMSG');
  reject(v('1.0'), 'EBADMSG');
  reject(v('1'), 'EBADMSG');
  // u64 overflow is ERANGE even with trailing junk; a mere u16 overflow with junk is EINVAL.
  reject(v('99999999999999999999999x.0.0'), 'ERANGE');
  reject(v('70000x.0.0'), 'EINVAL');
  reject(v('18446744073709551615.0.0'), 'ERANGE');
  // Leading zeros never overflow (the value stays 0 while they are read).
  assert.equal(accept(v('00000000000000000000000000001.0.0')).version.major, 1);
});

test('digests: ALG:HEX decoded like hex2bin over (len+1)/2 bytes', () => {
  const r = (d: string) => `${H}\nDEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=${d} action=DENY`;
  const digest = (d: string) => {
    const p = accept(r(d)).rules[0]!.properties[0]!;
    assert.equal(p.kind, 'digest');
    return p.kind === 'digest' ? p.digest : undefined;
  };
  assert.deepEqual(digest('sha256:ABcd'), { algorithm: 'sha256', hex: 'abcd', key: 'sha256:abcd' });
  assert.deepEqual(digest('sha256:'), { algorithm: 'sha256', hex: '', key: 'sha256:' });
  assert.deepEqual(digest(':ab'), { algorithm: '', hex: 'ab', key: ':ab' });
  assert.equal(digest('SHA256:ab')!.algorithm, 'SHA256'); // parses; never matches "sha256"
  assert.equal(digest('made-up:00')!.algorithm, 'made-up');
  reject(r('sha256:abc'), 'EINVAL', 3, 38); // odd count: the NUL is read as the last nibble
  reject(r('sha256:zz'), 'EINVAL', 3, 35);
  reject(r('sha256:ab:cd'), 'EINVAL', 3, 37);
  reject(r('abcd'), 'EBADMSG', 3, 28); // no ':'
  reject(`${H}\nDEFAULT action=ALLOW\nop=EXECUTE fsverity_digest= action=DENY`, 'EBADMSG', 3, 12);
  reject(`${H}\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_roothash= action=DENY`, 'EBADMSG', 3, 12);
});

test('rules: op first, action last, properties may repeat or contradict', () => {
  const p = accept(`${H}\nDEFAULT action=ALLOW\nop=EXECUTE boot_verified=TRUE boot_verified=FALSE boot_verified=TRUE action=DENY\nop=EXECUTE action=DENY`);
  assert.equal(p.rules[0]!.properties.length, 3);
  assert.equal(p.rules[1]!.properties.length, 0);
  reject(`${H}\nDEFAULT action=ALLOW\nop=EXECUTE`, 'EBADMSG', 3, 1);
  reject(`${H}\nDEFAULT action=ALLOW\naction=DENY`, 'EBADMSG', 3, 1, 'action=DENY');
  reject(`${H}\nDEFAULT action=ALLOW\nop=EXECUTE action=DENY action=DENY`, 'EBADMSG', 3, 12);
  reject(`${H}\nDEFAULT action=ALLOW\nop=EXECUTE op=KMODULE action=DENY`, 'EBADMSG', 3, 12);
  reject(`${H}\nDEFAULT action=ALLOW\nop=EXECUTE boot_verified=TRUE`, 'EBADMSG', 3, 12);
});

test('defaults: no properties, one global, one per op, any order, all ops or a global', () => {
  const allOps = ['EXECUTE', 'FIRMWARE', 'KMODULE', 'KEXEC_IMAGE', 'KEXEC_INITRAMFS', 'POLICY', 'X509_CERT'];
  const perOp = allOps.map((o) => `DEFAULT op=${o} action=DENY`).join('\n');
  const p = accept(`${H}\nop=EXECUTE boot_verified=TRUE action=ALLOW\n${perOp}`);
  assert.equal(p.globalDefault, undefined);
  assert.equal(p.opDefaults.X509_CERT?.action, 'DENY');
  reject(`${H}\n${allOps.slice(1).map((o) => `DEFAULT op=${o} action=DENY`).join('\n')}`, 'EBADMSG', 7);
  accept(`${H}\nop=EXECUTE action=DENY\nDEFAULT op=EXECUTE action=ALLOW\nDEFAULT action=DENY`);
  reject(`${H}\nDEFAULT boot_verified=TRUE action=ALLOW`, 'EBADMSG', 2, 9);
  reject(`${H}\nDEFAULT op=EXECUTE boot_verified=TRUE action=ALLOW`, 'EBADMSG', 2, 20);
  reject(`${H}\nDEFAULT DEFAULT action=ALLOW`, 'EBADMSG', 2, 9);
  reject(`${H}\nDEFAULT`, 'EBADMSG', 2, 1);
  reject(`${H}\nDEFAULT action=ALLOW\nDEFAULT action=DENY`, 'EBADMSG', 3, 1);
});

test('the first error in token order wins', () => {
  // A bad digest (EINVAL) before a property on a DEFAULT line (EBADMSG, found after the loop).
  reject(`${H}\nDEFAULT op=EXECUTE fsverity_digest=sha256:x action=ALLOW`, 'EINVAL');
  // Within a line, an earlier EBADMSG token wins over a later EINVAL digest.
  reject(`${H}\nDEFAULT action=ALLOW\nop=EXECUTE nope=1 fsverity_digest=sha256:x action=DENY`, 'EBADMSG', 3, 12);
  // An earlier line's error wins over a later line's.
  reject(`${H}\nDEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=sha256:x action=DENY\nbogus`, 'EINVAL', 3);
  // The missing-default check runs last.
  reject(`${H}\nop=EXECUTE fsverity_digest=sha256:x action=DENY`, 'EINVAL', 2);
});

test('rejections carry line, column, token and a how-to-fix message', () => {
  const r = parsePolicy(`${H}\nDEFAULT action=ALLOW\nop=EXECTUE action=DENY`);
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.deepEqual(r.error.toJSON(), {
    errno: 'EBADMSG',
    line: 3,
    column: 1,
    token: 'op=EXECTUE',
    message: 'unknown operation "EXECTUE"; use one of EXECUTE, FIRMWARE, KMODULE, KEXEC_IMAGE, KEXEC_INITRAMFS, POLICY, X509_CERT',
  });
});

test('the model keeps name, version, per-op rules, defaults and source lines', () => {
  const text = `# comment\n${H}\nop=KMODULE action=DENY\nDEFAULT op=EXECUTE action=DENY\nop=EXECUTE boot_verified=TRUE action=ALLOW\nDEFAULT action=ALLOW\n`;
  const p = accept(text);
  assert.equal(p.name, 'p');
  assert.equal(p.headerLine, 2);
  assert.deepEqual(p.rules.map((r) => [r.op, r.line]), [['KMODULE', 3], ['EXECUTE', 5]]);
  assert.deepEqual(p.rulesByOp.EXECUTE.map((r) => r.line), [5]);
  assert.equal(p.opDefaults.EXECUTE?.line, 4);
  assert.equal(p.globalDefault?.line, 6);
  assert.equal(Buffer.from(p.text).toString(), text);
});
