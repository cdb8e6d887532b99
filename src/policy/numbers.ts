// Exact ports of the kernel's number and hex parsing used by the IPE parser.

export type NumberError = { errno: 'EINVAL' | 'ERANGE'; offset: number; reason: string };

const U64_MAX = '18446744073709551615';

/**
 * kstrtou16(s, 10) (lib/kstrtox.c): optional leading '+', decimal digits only, leading zeros
 * allowed, one trailing '\n' tolerated, nothing else trailing. A u64 overflow while reading
 * digits is ERANGE even with junk after it; junk is EINVAL; a value over 65535 is ERANGE.
 */
export function kstrtou16(s: string): { value: number } | NumberError {
  let i = 0;
  if (s.charCodeAt(0) === 0x2b) i = 1;
  const digitsFrom = i;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    i++;
  }
  const digits = s.slice(digitsFrom, i);
  if (digits.length === 0) {
    return { errno: 'EINVAL', offset: digitsFrom, reason: 'expected a decimal number' };
  }
  const significant = digits.replace(/^0+/, '');
  if (significant.length > U64_MAX.length || (significant.length === U64_MAX.length && significant > U64_MAX)) {
    return { errno: 'ERANGE', offset: digitsFrom, reason: 'number is larger than 65535' };
  }
  if (i < s.length && s.charCodeAt(i) === 0x0a) i++;
  if (i < s.length) return { errno: 'EINVAL', offset: i, reason: 'unexpected character after the number' };
  const value = significant.length > 6 ? Infinity : Number(significant || '0');
  if (value > 0xffff) return { errno: 'ERANGE', offset: digitsFrom, reason: 'number is larger than 65535' };
  return { value };
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * hex2bin(dst, src, (len+1)/2) as ipe_digest_parse calls it: decodes pairs of hex digits
 * (either case); an odd count reads the terminating NUL as the last low nibble and fails.
 * Returns lower-case hex or the offset of the first bad character.
 */
export function hex2bin(s: string): { hex: string } | { offset: number } {
  const count = (s.length + 1) >> 1;
  for (let i = 0; i < count * 2; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0;
    if (hexValue(c) < 0) return { offset: i };
  }
  return { hex: s.toLowerCase() };
}
