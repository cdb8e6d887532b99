// Flags that weaken a door, normalised as Node and V8 read them: `_` and `-` are one character
// in a name, `--no-X` and `--noX` negate. At start-up they are refused (./entry.ts); at run time
// v8.setFlagsFromString may not change them (V8's flags are process-wide: a flag set now applies
// to every worker and context created later).

import { whenLoaded } from './builtins.ts';
import { refuse } from './errors.ts';

/** `--No_Disallow-code=1` → `disallow-code` (negation and value dropped: either way it is a change). */
export function v8FlagBase(flag: string): string {
  let n = flag.replace(/^-+/, '').replace(/=.*$/s, '').replace(/_/g, '-').toLowerCase();
  if (n.startsWith('no-')) n = n.slice(3);
  else if (n.startsWith('no') && WEAKENING.some((w) => n.slice(2).startsWith(w))) n = n.slice(2);
  return n;
}

// Prefixes of V8 flag names that open or close a door: code generation, natives syntax, wasm,
// exposed internals and extras, realms, the inspector. `expose-gc` is harmless and common.
const WEAKENING = ['disallow-code-generation', 'allow-', 'expose-', 'wasm', 'experimental-wasm', 'harmony', 'shadow-realm', 'js-shadow-realm', 'inspector', 'enable-'];
const HARMLESS = new Set(['expose-gc']);

export function weakeningFlag(flag: string): boolean {
  const n = v8FlagBase(flag);
  return !HARMLESS.has(n) && WEAKENING.some((w) => n.startsWith(w));
}

export function guardV8Flags(): void {
  whenLoaded('v8', guardSetFlags);
}

function guardSetFlags(v8: Record<string, unknown>): void {
  const set = v8.setFlagsFromString as (flags: string) => void;
  v8.setFlagsFromString = function (flags: string) {
    for (const f of String(flags).split(/\s+/).filter(Boolean)) {
      if (weakeningFlag(f)) refuse('ERR_WARD_EPERM', `EPERM: v8.setFlagsFromString('${f}') is refused: the exec securebits are set and this V8 flag changes which code may run`);
    }
    return Reflect.apply(set, v8, [flags]);
  };
}
