import { WardError } from '../errors.ts';
import { lex, toBinaryString } from './lexer.ts';
import { displayText } from './model.ts';
import { terminalSafe } from '../util/terminal.ts';

/** The kernel's error classes for a rejected policy (security/ipe/policy_parser.c). */
export type PolicyErrno = 'EBADMSG' | 'EINVAL' | 'ERANGE';

export class PolicyParseError extends WardError {
  declare readonly code: PolicyErrno;
  /** 1-based line (editor lines: \r\n, \r and \n each end one line). */
  readonly line: number;
  /** 1-based byte column of the offending spot in that line. */
  readonly column: number;
  /** The offending token, decoded for display ('' at end of input). */
  readonly token: string;
  constructor(code: PolicyErrno, line: number, column: number, token: string, message: string) {
    super(code, message);
    this.name = 'PolicyParseError';
    this.line = line;
    this.column = column;
    this.token = token;
  }
  toJSON(): { errno: PolicyErrno; line: number; column: number; token: string; message: string } {
    return { errno: this.code, line: this.line, column: this.column, token: this.token, message: this.message };
  }
}

/** One line: "SOURCE:line:col: CODE: message" (SOURCE is a file name or what the text was). */
export function parseErrorLine(source: string, err: PolicyParseError): string {
  return `${source}:${err.line}:${err.column}: ${err.code}: ${err.message}`;
}

/**
 * `parseErrorLine`, then the offending line and a caret under the column (tabs kept aligned),
 * for a terminal: control characters in the source name, the token and the line (a comment or
 * a policy name can hold ESC) are shown as \xHH, and the caret is placed under the line as shown.
 */
export function renderParseError(source: string, text: Uint8Array, err: PolicyParseError): string {
  const head = terminalSafe(parseErrorLine(source, err));
  const line = lex(toBinaryString(text)).lines.find((l) => l.number === err.line);
  if (!line || line.raw.length === 0) return head;
  const shown = terminalSafe(displayText(line.raw), '\t');
  const pad = terminalSafe(displayText(line.raw.slice(0, Math.max(0, err.column - 1))), '\t').replace(/[^\t]/g, ' ');
  return `${head}\n  ${shown}\n  ${pad}^`;
}
