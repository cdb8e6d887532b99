// The CLI's shared input and output: reading a named input (or stdin), writing an output file
// atomically, JSON printing, exit statuses, and CliError (a WardError with an exit status), and
// how a failure is reported: `ward: CODE: message` on stderr, or with --json one JSON object on
// stdout (every command with --json goes through reportJsonError, so they all say it alike).

import { writeFileAtomic as writeAtomic } from '../util/atomic.ts';
import { WardError, describeError, errorCode, type ErrnoName } from '../errors.ts';
import { terminalSafe } from '../util/terminal.ts';

// node:fs through process.getBuiltinModule, not an ESM import: importing it builds its module
// namespace, whose fs.promises getter loads streams and readline (~4 ms of every `ward run`).
const { readFileSync } = process.getBuiltinModule('node:fs');

export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_USAGE = 2;
/** Launchers (ward exec, ward run) follow env(1)/chroot(1): their own failure, cannot execute, not found. */
export const EXIT_LAUNCH_FAILED = 125;
export const EXIT_CANNOT_EXECUTE = 126;
export const EXIT_NOT_FOUND = 127;

/** commander's collector for repeatable options. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function preserveCount(v: string | undefined): number {
  if (v === undefined) return 0;
  if (!/^\d+$/.test(v) || Number(v) > 1024) throw new CliError('EINVAL', `--preserve-fds takes a count 0-1024, got "${v}"`);
  return Number(v);
}

/**
 * Where a failure is, for --json: the file (as named on the command line, - for standard input)
 * and for a policy that does not parse its line, column and token. `message` replaces a
 * preformatted report's (several lines with a caret) by its one-line message.
 */
export interface ErrorDetail {
  path?: string;
  line?: number;
  column?: number;
  token?: string;
  message?: string;
}

/** A failure the CLI reports as "ward: CODE: message" with the given exit status. */
export class CliError extends WardError {
  readonly exitCode: number;
  /** The message is already a complete report (e.g. file:line:col with a caret). */
  readonly preformatted: boolean;
  readonly detail: ErrorDetail;
  constructor(code: ErrnoName, message: string, exitCode = EXIT_USAGE, preformatted = false, detail: ErrorDetail = {}) {
    super(code, message);
    this.exitCode = exitCode;
    this.preformatted = preformatted;
    this.detail = detail;
  }
}

/** The commands' signature for running an action: with json true, a failure is reported as JSON. */
export type Run = (fn: () => number | Promise<number>, json?: boolean) => void;

/**
 * How the CLI reports a failed command: a CliError with its own exit status, another WardError
 * as a negative answer (1); anything else is a bug and is rethrown (a stack trace). Messages
 * carry file names and policy text, so control characters are shown escaped (a preformatted
 * report keeps its line breaks and the tabs that align its caret).
 */
export function reportError(e: unknown): number {
  if (e instanceof CliError) {
    process.stderr.write(e.preformatted ? `${terminalSafe(e.message, '\n\t')}\n` : `ward: ${e.code}: ${terminalSafe(e.message)}\n`);
    return e.exitCode;
  }
  if (e instanceof WardError) {
    process.stderr.write(`ward: ${e.code}: ${terminalSafe(e.message)}\n`);
    return EXIT_FAIL;
  }
  throw e;
}

/**
 * reportError for --json: one object on stdout, `{"ok":false,"errno":…,"message":…}` plus the
 * ErrorDetail that applies (path; line, column, token), with the same exit status as without
 * --json. Anything not a WardError is still a bug and is rethrown.
 */
export function reportJsonError(e: unknown): number {
  if (!(e instanceof WardError)) throw e;
  const detail = e instanceof CliError ? e.detail : {};
  printJson({ ok: false, errno: e.code, message: e.message, ...detail });
  return e instanceof CliError ? e.exitCode : EXIT_FAIL;
}

export function displayName(file: string): string {
  return file === '-' ? '<stdin>' : file;
}

export function readInput(file: string): Uint8Array {
  try {
    return readFileSync(file === '-' ? 0 : file);
  } catch (e) {
    throw new CliError(errorCode(e), `cannot read ${displayName(file)}: ${describeError(e)}`, EXIT_USAGE, false, { path: file });
  }
}

/** Writes a file atomically (see util/atomic.ts), reporting failure as a CliError. */
export function writeFileAtomic(path: string, data: Uint8Array): void {
  try {
    writeAtomic(path, data);
  } catch (e) {
    throw new CliError(errorCode(e), `cannot write ${path}: ${describeError(e)}`, EXIT_FAIL, false, { path });
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}
