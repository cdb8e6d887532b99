// The kernel's own IPE parser cases (security/ipe/policy_tests.c, KUnit suite "ipe-parser"),
// with their expected errno (test/policy/kunit.test.ts runs them through ward's parser); and edge cases of the grammar
// (docs: /work/shared/reference/ipe-policy.md) the kernel decides for the differential.

export type Errno = 0 | 'EBADMSG' | 'EINVAL' | 'ERANGE';

export const KUNIT_CASES: Array<[string, Errno, string]> = [
  ['policy_name=allowall policy_version=0.0.0\nDEFAULT action=ALLOW', 0, 'basic'],
  ['policy_name=trailing_comment policy_version=152.0.0 #This is comment\nDEFAULT action=ALLOW', 0, 'trailing comment'],
  ['policy_name=allowallnewline policy_version=0.2.0\nDEFAULT action=ALLOW\n\n', 0, 'trailing newline'],
  ['policy_name=carriagereturnlinefeed policy_version=0.0.1\nDEFAULT action=ALLOW\n\r\n', 0, 'clrf newline'],
  [
    'policy_name=whitespace policy_version=0.0.0\n' +
      'DEFAULT\taction=ALLOW\n' +
      '     \t     DEFAULT \t    op=EXECUTE      action=DENY\n' +
      'op=EXECUTE boot_verified=TRUE action=ALLOW\n' +
      '# this is a\tcomment\t\t\t\t\n' +
      'DEFAULT \t op=KMODULE\t\t\t  action=DENY\r\n' +
      'op=KMODULE boot_verified=TRUE action=ALLOW\n',
    0,
    'various whitespaces and nested default',
  ],
  ['policy_name=boot_verified policy_version=-1236.0.0\nDEFAULT\taction=ALLOW\n', 'EINVAL', 'negative version'],
  ['policy_name=$@!*&^%%\\:;{}() policy_version=0.0.0\nDEFAULT action=ALLOW', 0, 'special characters'],
  ['policy_name=test policy_version=999999.0.0\nDEFAULT action=ALLOW', 'ERANGE', 'overflow version'],
  ['policy_name=test policy_version=255.0\nDEFAULT action=ALLOW', 'EBADMSG', 'incomplete version'],
  ['policy_name=test policy_version=111.0.0.0\nDEFAULT action=ALLOW', 'EBADMSG', 'extra version'],
  ['', 'EBADMSG', '0-length policy'],
  ['policy_name=test\0policy_version=0.0.0\nDEFAULT action=ALLOW', 'EBADMSG', 'random null in header'],
  ['policy_name=test policy_version=0.0.0\n\0DEFAULT action=ALLOW', 'EBADMSG', 'incomplete policy from NULL'],
  [
    'policy_name=test policy_version=0.0.0\nDEFAULT action=DENY\n\0op=EXECUTE dmverity_signature=TRUE action=ALLOW\n',
    0,
    'NULL truncates policy',
  ],
  [
    'policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_signature=abc action=ALLOW',
    'EBADMSG',
    'invalid property type',
  ],
  ['DEFAULT action=ALLOW', 'EBADMSG', 'missing policy header'],
  ['policy_name=test policy_version=0.0.0\n', 'EBADMSG', 'missing default definition'],
  [
    'policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\ndmverity_signature=TRUE op=EXECUTE action=ALLOW',
    'EBADMSG',
    'invalid rule ordering',
  ],
  [
    'policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\naction=ALLOW op=EXECUTE dmverity_signature=TRUE',
    'EBADMSG',
    'invalid rule ordering (2)',
  ],
  [
    'policy_name=test policy_version=0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_signature=TRUE action=ALLOW',
    'EBADMSG',
    'invalid version',
  ],
  [
    'policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nop=UNKNOWN dmverity_signature=TRUE action=ALLOW',
    'EBADMSG',
    'unknown operation',
  ],
  ['policy_name=asdvpolicy_version=0.0.0\nDEFAULT action=ALLOW\n', 'EBADMSG', 'missing space after policy name'],
  [
    'policy_name=test\xFF\xEF policy_version=0.0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_signature=TRUE action=ALLOW',
    0,
    'expanded ascii',
  ],
  [
    'policy_name=test\xFF\xEF policy_version=0.0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_roothash=GOOD_DOG action=ALLOW',
    'EBADMSG',
    'invalid property value (2)',
  ],
  [
    'policy_name=test policy_version=0.0.0\npolicy_name=test policy_version=0.1.0\nDEFAULT action=ALLOW',
    'EBADMSG',
    'double header',
  ],
  ['policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nDEFAULT action=ALLOW\n', 'EBADMSG', 'double default'],
  [
    'policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DENY\nDEFAULT op=EXECUTE action=ALLOW\n',
    'EBADMSG',
    'double operation default',
  ],
  ['policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action=DEN\n', 'EBADMSG', 'invalid action value'],
  ['policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nDEFAULT op=EXECUTE action\n', 'EBADMSG', 'invalid action value (2)'],
  ['policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nUNKNOWN value=true\n', 'EBADMSG', 'unrecognized statement'],
  [
    'policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nop=EXECUTE dmverity_roothash=1c0d7ee1f8343b7fbe418378e8eb22c061d7dec7 action=DENY\n',
    'EBADMSG',
    'old-style digest',
  ],
  [
    'policy_name=test policy_version=0.0.0\nDEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=1c0d7ee1f8343b7fbe418378e8eb22c061d7dec7 action=DENY\n',
    'EBADMSG',
    'old-style digest (fsverity)',
  ],
];

const H = 'policy_name=edge policy_version=1.2.3\n';
const D = 'DEFAULT action=ALLOW\n';

/** Edge cases of the grammar: [policy text (latin1 bytes), label]. The kernel is the oracle. */
export const EDGE_CASES: Array<[string, string]> = [
  ['policy_name=v policy_version=+1.0.0\n' + D, 'version with +'],
  ['policy_name=v policy_version=007.0.0\n' + D, 'version with leading zeros'],
  ['policy_name=v policy_version=65535.65535.65535\n' + D, 'version max'],
  ['policy_name=v policy_version=65536.0.0\n' + D, 'version overflow by one'],
  ['policy_name=v policy_version=99999999999999999999.0.0\n' + D, 'version huge'],
  ['policy_name=v policy_version=1.-0.0\n' + D, 'version -0'],
  ['policy_name=v policy_version=0x1.0.0\n' + D, 'version hex'],
  ['policy_name=v policy_version=1..0\n' + D, 'version empty part'],
  ['policy_name=v policy_version=1.0.0a\n' + D, 'version trailing junk'],
  ['policy_name=v policy_version=70000x.0.0\n' + D, 'version overflow with junk'],
  ['policy_name=v policy_version= 1.0.0\n' + D, 'version after two spaces'],
  ['policy_name= policy_version=1.0.0\n' + D, 'empty name'],
  ['policy_name=a=b policy_version=1.0.0\n' + D, 'name with ='],
  ['policy_name=a/b policy_version=1.0.0\n' + D, 'name with /'],
  ['policy_name=. policy_version=1.0.0\n' + D, 'name .'],
  ['policy_name=.. policy_version=1.0.0\n' + D, 'name ..'],
  ['policy_name=a\vb policy_version=1.0.0\n' + D, 'name with \\v'],
  ['policy_name=..a policy_version=1.0.0\n' + D, 'name ..a'],
  [`policy_name=${'n'.repeat(255)} policy_version=1.0.0\n` + D, 'name of 255 bytes'],
  [`policy_name=${'n'.repeat(256)} policy_version=1.0.0\n` + D, 'name of 256 bytes'],
  [`policy_name=${'n'.repeat(5000)} policy_version=1.0.0\n` + D, 'name of 5000 bytes'],
  ['policy_name=a\xA0 policy_version=1.0.0\n' + D, 'name ending in 0xA0'],
  ['policy_version=1.0.0 policy_name=x\n' + D, 'header swapped'],
  ['policy_name=x policy_version=1.0.0 extra\n' + D, 'header with a third token'],
  ['\n\n# comment\n   \n' + H + D, 'blank and comment lines before the header'],
  [H + 'DEFAULT action=ALLOW\xA0\xA0\n', 'trailing 0xA0'],
  [H + 'DEFAULT action=ALLOW\v\f\r\n', 'trailing \\v \\f \\r'],
  [H + 'DEFAULT\vaction=ALLOW\n', '\\v as a separator'],
  [H + 'DEFAULT action=ALLOW#comment\n', 'comment glued to a token'],
  [H + 'DEFAULT action=ALLOW\nop=EXECUTE fsverity_digest=sha256:ab#cd action=DENY\n', 'comment inside a digest'],
  [H + D + 'op=EXECUTE action=DENY\n', 'rule without properties'],
  [H + D + 'op=EXECUTE boot_verified=TRUE boot_verified=FALSE action=DENY\n', 'contradictory properties'],
  [H + D + 'op=EXECUTE fsverity_digest=sha256: action=DENY\n', 'empty hex'],
  [H + D + 'op=EXECUTE fsverity_digest=:ab action=DENY\n', 'empty algorithm'],
  [H + D + 'op=EXECUTE fsverity_digest=foo:ab action=DENY\n', 'unknown algorithm'],
  [H + D + 'op=EXECUTE fsverity_digest=sha256:abc action=DENY\n', 'odd hex'],
  [H + D + 'op=EXECUTE fsverity_digest=sha256:zz action=DENY\n', 'non-hex'],
  [H + D + 'op=EXECUTE fsverity_digest=sha256:ab:cd action=DENY\n', 'second colon'],
  [H + D + 'op=EXECUTE fsverity_digest=SHA256:AB action=DENY\n', 'upper case'],
  [H + D + 'op=EXECUTE fsverity_digest= action=DENY\n', 'empty digest'],
  [H + D + 'op=EXECUTE dmverity_roothash=sha256:' + '0'.repeat(130) + ' action=DENY\n', 'long digest'],
  [H + D + 'op=EXECUTE boot_verified=true action=DENY\n', 'lower-case boolean'],
  [H + D + 'op=execute action=DENY\n', 'lower-case op'],
  [H + D + 'op=EXECUTE action=DENY action=ALLOW\n', 'two actions'],
  [H + D + 'op=EXECUTE op=KMODULE action=DENY\n', 'two ops'],
  [H + D + 'op=EXECUTE\n', 'rule without action'],
  [H + D + 'DEFAULT op=EXECUTE boot_verified=TRUE action=DENY\n', 'DEFAULT with a property'],
  [H + 'DEFAULT op=EXECUTE action=ALLOW\n', 'one op default only'],
  [
    H + ['EXECUTE', 'FIRMWARE', 'KMODULE', 'KEXEC_IMAGE', 'KEXEC_INITRAMFS', 'POLICY', 'X509_CERT'].map((o) => `DEFAULT op=${o} action=DENY\n`).join(''),
    'all seven op defaults, no global',
  ],
  [H + 'op=EXECUTE boot_verified=TRUE action=ALLOW\n' + D, 'default after rules'],
  [H + D + 'op=EXECUTE boot_verified=TRUE action=ALLOW\0garbage', 'NUL ends the text'],
  [H + D + '\r\r\r', 'only carriage returns'],
  [H.replace('\n', '\r') + D, 'header ended by \\r'],
  [H + D + 'op=EXECUTE\tboot_verified=TRUE\t\taction=ALLOW\n', 'tabs'],
  [H + D + ' op=EXECUTE action=ALLOW\n', 'leading space'],
  [H + D + 'op= action=ALLOW\n', 'empty op'],
  [H + D + 'op=EXECUTE boot_verified action=ALLOW\n', 'property without value'],
  [H + D + 'op=EXECUTE =TRUE action=ALLOW\n', 'value without property'],
  [H + D + 'op=EXECUTE ipe_op=EXECUTE action=ALLOW\n', 'unknown property'],
  [H + D + 'DEFAULT action=DENY\n', 'second global default'],
  [H + D + 'DEFAULT op=KMODULE action=DENY\nDEFAULT op=KMODULE action=DENY\n', 'duplicate op default'],
  [H + 'DEFAULT action=ALLOW', 'no final newline'],
  ['policy_name=x\tpolicy_version=0.0.0\n' + D, 'tab in the header'],
  ['policy_name=x policy_version=0.0.0\n\n\n\n' + D + '\n\n', 'many blank lines'],
];
