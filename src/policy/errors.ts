import { WardError } from '../errors.ts';

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
