// The #! line exactly as the kernel reads it (fs/binfmt_script.c, load_script, Linux 6.18), so
// --add-libs grants the interpreter the kernel will actually run — nothing else.
//
// The kernel looks at the first BINPRM_BUF_SIZE (256) bytes, zero-padded. The line ends at the
// first '\n'; with none, the interpreter path must be followed by a space, tab or NUL within the
// buffer, or the kernel refuses (ENOEXEC: it will not run a truncated path). Trailing spaces and
// tabs are trimmed — and nothing else: a '\r' (a DOS line ending) stays part of the name or
// argument. Leading spaces/tabs are skipped; the name runs to the first space, tab or NUL; the
// optional argument is the rest of the line (inner blanks kept), after skipping blanks.

export const BINPRM_BUF_SIZE = 256;

export type Shebang =
  | { readonly kind: 'none' }
  | { readonly kind: 'enoexec'; readonly why: string }
  | { readonly kind: 'script'; readonly interpreter: Uint8Array; readonly arg?: Uint8Array };

const spacetab = (c: number | undefined): boolean => c === 0x20 || c === 0x09;

/** Parses the first bytes of a file (any length; only the first 256 count, as in the kernel). */
export function parseShebang(head: Uint8Array): Shebang {
  const buf = new Uint8Array(BINPRM_BUF_SIZE);
  buf.set(head.subarray(0, BINPRM_BUF_SIZE));
  if (buf[0] !== 0x23 || buf[1] !== 0x21) return { kind: 'none' };
  const bufEnd = BINPRM_BUF_SIZE - 1; // index of the last byte
  const nextNonSpacetab = (first: number, last: number): number => {
    for (; first <= last; first++) if (!spacetab(buf[first])) return first;
    return -1;
  };
  const nextTerminator = (first: number, last: number): number => {
    for (; first <= last; first++) if (spacetab(buf[first]) || buf[first] === 0) return first;
    return -1;
  };
  let iEnd = buf.indexOf(0x0a);
  if (iEnd < 0) {
    iEnd = nextNonSpacetab(2, bufEnd);
    if (iEnd < 0) return { kind: 'enoexec', why: 'the #! line is only blanks' };
    if (nextTerminator(iEnd, bufEnd) < 0) return { kind: 'enoexec', why: 'the #! line is longer than 256 bytes: the kernel refuses a truncated interpreter path' };
    iEnd = bufEnd;
  }
  while (spacetab(buf[iEnd - 1])) iEnd--;
  const iName = nextNonSpacetab(2, iEnd);
  if (iName < 0 || iName === iEnd) return { kind: 'enoexec', why: 'the #! line names no interpreter' };
  // The kernel writes NUL at i_end, then (with an argument) at i_sep; the name is a C string.
  const line = buf.slice(0, iEnd);
  const iSep = nextTerminator(iName, iEnd);
  let iArg = -1;
  if (iSep >= 0 && iSep < iEnd && line[iSep] !== 0) iArg = nextNonSpacetab(iSep, iEnd);
  const cstr = (from: number, to: number): Uint8Array => {
    const s = line.subarray(from, to);
    const nul = s.indexOf(0);
    return nul < 0 ? s : s.subarray(0, nul);
  };
  const interpreter = cstr(iName, iArg >= 0 ? iSep : iEnd);
  if (iArg >= 0) return { kind: 'script', interpreter, arg: cstr(iArg, iEnd) };
  return { kind: 'script', interpreter };
}
