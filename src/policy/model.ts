// The IPE policy model (security/ipe/policy.h): ops, actions, properties, rules, defaults.
// Token text is kept as "binary strings" (latin1: one char per byte) so that names and digest
// algorithms with bytes >= 0x80 compare exactly as the kernel's strcmp does.

export const OPS = [
  'EXECUTE',
  'FIRMWARE',
  'KMODULE',
  'KEXEC_IMAGE',
  'KEXEC_INITRAMFS',
  'POLICY',
  'X509_CERT',
] as const;
export type Op = (typeof OPS)[number];

export const ACTIONS = ['ALLOW', 'DENY'] as const;
export type Action = (typeof ACTIONS)[number];

export const BOOL_PROPERTIES = ['boot_verified', 'dmverity_signature', 'fsverity_signature'] as const;
export type BoolPropertyName = (typeof BOOL_PROPERTIES)[number];

export const DIGEST_PROPERTIES = ['dmverity_roothash', 'fsverity_digest'] as const;
export type DigestPropertyName = (typeof DIGEST_PROPERTIES)[number];

export type PropertyName = BoolPropertyName | DigestPropertyName;

export interface Digest {
  /** Algorithm name exactly as written (binary string); compared case-sensitively. */
  readonly algorithm: string;
  /** Decoded bytes as lower-case hex (may be empty: `sha256:` is a zero-length digest). */
  readonly hex: string;
  /** `algorithm:hex`, the form a file context reports; equal keys = equal digests. */
  readonly key: string;
}

export type Property =
  | { readonly kind: 'bool'; readonly name: BoolPropertyName; readonly value: boolean }
  | { readonly kind: 'digest'; readonly name: DigestPropertyName; readonly digest: Digest };

export interface Version {
  readonly major: number;
  readonly minor: number;
  readonly rev: number;
}

export interface Rule {
  readonly op: Op;
  readonly properties: readonly Property[];
  readonly action: Action;
  /** 1-based source line. */
  readonly line: number;
}

export interface DefaultRule {
  /** undefined for the global DEFAULT. */
  readonly op: Op | undefined;
  readonly action: Action;
  readonly line: number;
}

export interface Policy {
  /** The name decoded as UTF-8 for display (lossy if the bytes are not UTF-8). */
  readonly name: string;
  /** The name's exact bytes as a binary string: what the kernel compares. */
  readonly rawName: string;
  readonly version: Version;
  /** The policy exactly as given (comments, NUL tail and all), like securityfs `policy`. */
  readonly text: Uint8Array;
  /** All rules in file order. */
  readonly rules: readonly Rule[];
  /** Rules of each op in file order: the list the kernel walks. */
  readonly rulesByOp: Readonly<Record<Op, readonly Rule[]>>;
  readonly opDefaults: Readonly<Partial<Record<Op, DefaultRule>>>;
  readonly globalDefault: DefaultRule | undefined;
  readonly headerLine: number;
}

export function isOp(value: string): value is Op {
  return (OPS as readonly string[]).includes(value);
}

/** "major.minor.rev", as policy_version= is written and as the kernel prints it. */
export function versionString(v: Version): string {
  return `${v.major}.${v.minor}.${v.rev}`;
}

/**
 * The inverse of versionString for text ward wrote itself (a stored version floor, a CLI flag):
 * exactly three decimal parts 0-65535. Policy text goes through the parser, which mirrors the
 * kernel's more lenient parse_version().
 */
export function parseVersionString(s: string): Version | undefined {
  const m = /^(\d{1,5})\.(\d{1,5})\.(\d{1,5})$/.exec(s);
  if (!m) return undefined;
  const [major, minor, rev] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (major > 0xffff || minor > 0xffff || rev > 0xffff) return undefined;
  return { major, minor, rev };
}

/** The next version in the kernel's order (revision + 1, carrying), or undefined after 65535.65535.65535. */
export function nextVersion(v: Version): Version | undefined {
  if (v.rev < 0xffff) return { ...v, rev: v.rev + 1 };
  if (v.minor < 0xffff) return { major: v.major, minor: v.minor + 1, rev: 0 };
  if (v.major < 0xffff) return { major: v.major + 1, minor: 0, rev: 0 };
  return undefined;
}

/** The version as the kernel's ver_to_u64 orders it (fits a double exactly: 48 bits). */
export function versionOrdinal(v: Version): number {
  return v.major * 2 ** 32 + v.minor * 2 ** 16 + v.rev;
}

export function compareVersions(a: Version, b: Version): -1 | 0 | 1 {
  const d = versionOrdinal(a) - versionOrdinal(b);
  return d < 0 ? -1 : d > 0 ? 1 : 0;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Binary string (one char per byte) → display text, decoding UTF-8 where it is valid. */
export function displayText(binary: string): string {
  return utf8.decode(Buffer.from(binary, 'latin1'));
}

/** Text (a name typed on a command line) → the binary string of its UTF-8 bytes, as policies hold names. */
export function rawText(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

export function propertyText(p: Property, upperHex = false): string {
  if (p.kind === 'bool') return `${p.name}=${p.value ? 'TRUE' : 'FALSE'}`;
  return `${p.name}=${p.digest.algorithm}:${upperHex ? p.digest.hex.toUpperCase() : p.digest.hex}`;
}

/**
 * A rule as the kernel's audit_rule() prints it (properties in order), except that digests are
 * lower-case hex, as `ward digest`, `fsverity digest` and policies write them, so grepping ward's
 * output or audit log for a digest finds it (the kernel's own audit prints upper case).
 */
export function kernelRuleText(rule: Rule): string {
  const props = rule.properties.map((p) => propertyText(p) + ' ').join('');
  return `op=${rule.op} ${props}action=${rule.action}`;
}

export function defaultRuleText(d: DefaultRule): string {
  return d.op === undefined ? `DEFAULT action=${d.action}` : `DEFAULT op=${d.op} action=${d.action}`;
}

/** The semantic content of a policy (no text, no line numbers), for equality checks. */
export function policySemantics(p: Policy): unknown {
  return {
    rawName: p.rawName,
    version: versionString(p.version),
    globalDefault: p.globalDefault?.action,
    opDefaults: Object.fromEntries(OPS.map((op) => [op, p.opDefaults[op]?.action])),
    rules: OPS.map((op) =>
      p.rulesByOp[op].map((r) => `op=${r.op} ${r.properties.map((x) => propertyText(x)).join(' ')} action=${r.action}`),
    ),
  };
}
