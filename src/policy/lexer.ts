// Splits policy bytes into lines and tokens exactly as security/ipe/policy_parser.c does:
// - everything after the first NUL is ignored (kmemdup_nul + C string handling);
// - lines end at '\n' and at '\r' (IPE_LINE_DELIM); "\r\n" is treated as one break here,
//   which only removes the empty line the kernel would skip anyway, and keeps line numbers
//   equal to what an editor shows;
// - the first '#' in a line starts a comment (remove_comment: strchr, even inside a value);
// - trailing bytes for which the kernel's isspace() holds are stripped: 0x09-0x0D, 0x20, 0xA0;
// - tokens are separated by runs of ' ' and '\t' only (IPE_POLICY_DELIM).
// Text is handled as a binary string (latin1) so every byte maps to one char.

export interface Token {
  /** Binary string of the token's bytes. */
  readonly text: string;
  /** 1-based byte column. */
  readonly column: number;
}

export interface Line {
  /** 1-based line number. */
  readonly number: number;
  /** The whole line (binary string, without its line break). */
  readonly raw: string;
  readonly tokens: readonly Token[];
  /** Text after the first '#' with trailing spaces stripped, or undefined if no comment. */
  readonly comment: string | undefined;
}

export interface Lexed {
  readonly lines: readonly Line[];
  /** Position of the first NUL byte, if the input had one (all after it is ignored). */
  readonly nulAt: { line: number; column: number; ignoredBytes: number } | undefined;
  readonly lineCount: number;
}

/** The kernel's isspace() (lib/ctype.c: _S class), on a byte. */
export function isKernelSpace(b: number): boolean {
  return (b >= 0x09 && b <= 0x0d) || b === 0x20 || b === 0xa0;
}

function stripTrailingSpace(s: string): string {
  let end = s.length;
  while (end > 0 && isKernelSpace(s.charCodeAt(end - 1))) end--;
  return end === s.length ? s : s.slice(0, end);
}

export function toBinaryString(input: Uint8Array | string): string {
  if (typeof input === 'string') return Buffer.from(input, 'utf8').toString('latin1');
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
}

export function lex(binary: string): Lexed {
  let text = binary;
  let nulAt: Lexed['nulAt'];
  const nul = text.indexOf('\0');
  if (nul >= 0) text = text.slice(0, nul);

  const raws = splitLines(text);
  const lines: Line[] = raws.map((raw, i) => splitLine(raw, i + 1));
  const number = raws.length;
  if (nul >= 0) {
    const last = lines[lines.length - 1];
    nulAt = { line: number, column: (last?.raw.length ?? 0) + 1, ignoredBytes: binary.length - nul };
  }
  return { lines, nulAt, lineCount: number };
}

/**
 * The lines of a text: each ends at '\n' or '\r', and "\r\n" is one break. A text ending in a
 * break has an empty last line (so line numbers match an editor's).
 */
export function splitLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/** One line's tokens and comment (see the file header for the kernel's rules). */
export function splitLine(raw: string, number: number): Line {
  const hash = raw.indexOf('#');
  const body = stripTrailingSpace(hash >= 0 ? raw.slice(0, hash) : raw);
  const comment = hash >= 0 ? stripTrailingSpace(raw.slice(hash + 1)) : undefined;
  const tokens: Token[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body.charCodeAt(i);
    if (c === 0x20 || c === 0x09) {
      i++;
      continue;
    }
    const from = i;
    while (i < body.length) {
      const d = body.charCodeAt(i);
      if (d === 0x20 || d === 0x09) break;
      i++;
    }
    tokens.push({ text: body.slice(from, i), column: from + 1 });
  }
  return { number, raw, tokens, comment };
}
