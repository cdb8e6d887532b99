// Start-up checks of the main thread: how was code given to this process, and which flags would
// open a door? Options are read as Node reads them (./options.ts: whole, normalised names, the
// last occurrence winning), and where Node exposes the effect itself it is tested directly — an
// inspector listening, internals exposed — so no spelling of a flag slips past.

const { fstatSync } = process.getBuiltinModule('node:fs');
import { trustedForFd } from '../trust/trusted-for.ts';
import { denyCode, denyCodegen, refuse } from './errors.ts';
import { inspectorActive } from './inspector.ts';
import { FLAG_NO_SIGUSR1 } from './launch.ts';
import { currentOptions } from './options.ts';
import type { NodeEnforcement } from './state.ts';

let stdinWrapperAllowed = false;

/** Node runs a script read from stdin through one "[stdin]-wrapper" compile: allowed once, only after stdin passed the check. */
export function takeStdinWrapper(): boolean {
  const ok = stdinWrapperAllowed;
  stdinWrapperAllowed = false;
  return ok;
}

function codeGenerationAllowed(): boolean {
  try {
    (0, eval)('0');
    return true;
  } catch {
    return false;
  }
}

function refuseFlag(flag: string): never {
  refuse('ERR_WARD_CODE_DENIED', `the flag ${flag} is refused: the exec securebits are set and it opens a way to run code that is not checked; remove it`);
}

/** Any enforcement: flags that give the app Node's internals or V8's. */
export function checkFlags(e: NodeEnforcement): void {
  const opts = currentOptions();
  if (opts.flag('--expose-internals') || process.getBuiltinModule('internal/options') !== undefined) refuseFlag('--expose-internals');
  if (opts.flag('--allow-natives-syntax')) refuseFlag('--allow-natives-syntax');
  if (e.denyCodegen) {
    if (codeGenerationAllowed()) denyCodegen('eval / new Function (V8 allows code generation from strings: start Node through `ward node --deny-codegen`, which passes --disallow-code-generation-from-strings)');
    for (const f of ['--experimental-vm-modules', '--experimental-shadow-realm']) if (opts.flag(f)) denyCodegen(`the flag ${f}`);
  }
}

/** DENY_INTERACTIVE: no code from the command line, stdin, the REPL, the inspector. */
export function checkEntry(inspector: Record<string, unknown>): void {
  const opts = currentOptions();
  if (inspectorActive(inspector)) denyCode('an inspector listening (--inspect and its variants)', 'remove the --inspect flag');
  if (opts.flag(FLAG_NO_SIGUSR1) !== true) denyCode('starting the inspector with SIGUSR1', `start Node through \`ward node\`, which passes ${FLAG_NO_SIGUSR1}`);
  const p = process as unknown as { _eval?: string };
  if (p._eval !== undefined) denyCode('code given on the command line (-e, --eval, -p, --print)');
  const entry = process.argv[1];
  // `node --test` without files runs the test runner, which finds files and starts a checked
  // child for each; it reads nothing from stdin.
  if ((entry === undefined || entry === '-') && opts.flag('--test') !== true) {
    const st = fstatSync(0);
    if (!st.isFile()) denyCode(st.isFIFO() || st.isSocket() ? 'code piped on standard input' : 'the interactive REPL');
    const r = trustedForFd(0);
    if (!r.trusted) denyCode(`code from standard input (${r.errno}: ${r.reason})`);
    stdinWrapperAllowed = true;
  }
}
