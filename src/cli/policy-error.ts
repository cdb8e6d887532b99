// A policy that does not parse, as a CliError: the report a person reads (file:line:col, the
// line, a caret) and, for --json, the same fields `ward policy check --json` gives.

import { renderParseError, type PolicyParseError } from '../policy/errors.ts';
import { CliError } from './io.ts';

/** `source` names the policy in the report; `path` is the file as given (absent for the daemon's active policy). */
export function policyParseFailure(source: string, path: string | undefined, text: Uint8Array, err: PolicyParseError, exitCode: number): CliError {
  return new CliError(err.code, renderParseError(source, text, err), exitCode, true, {
    ...(path === undefined ? {} : { path }),
    line: err.line,
    column: err.column,
    token: err.token,
    message: err.message,
  });
}
