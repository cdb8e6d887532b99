// Node's command-line options as Node itself reads them: NODE_OPTIONS first (split as Node's
// ParseNodeOptionsEnvVar does: whitespace-separated, double quotes group, backslash escapes inside
// quotes), then the command line (process.execArgv), the later occurrence winning. Option names
// are normalised as Node's options parser does: `_` and `-` are the same character in a name
// (`--expose_internals` is `--expose-internals`), and `--no-X` negates a boolean `--X`. Matching
// whole, normalised names — never substrings — keeps `--inspect-port` from reading as `--inspect`.

/** Splits a NODE_OPTIONS value into arguments as Node does. */
export function splitNodeOptions(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  let has = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (inQuote && c === '\\' && i + 1 < value.length) {
      cur += value[++i];
    } else if (c === '"') {
      inQuote = !inQuote;
      has = true;
    } else if (!inQuote && /\s/.test(c)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

/** `--Foo_bar=1` → `--foo-bar` (the option's name only, as Node compares it). */
export function optionName(arg: string): string {
  const eq = arg.indexOf('=');
  const name = eq < 0 ? arg : arg.slice(0, eq);
  return name.startsWith('--') ? `--${name.slice(2).replace(/_/g, '-')}` : name;
}

export interface ParsedOptions {
  /** Every option given, normalised, in the order Node applies them. */
  names: string[];
  /** The effective value of a boolean option (`--x` / `--no-x`, last one wins), undefined if never given. */
  flag(name: string): boolean | undefined;
  /** Whether an option with this normalised name was given at all (any value). */
  has(name: string): boolean;
}

export function parseOptions(nodeOptions: string | undefined, execArgv: readonly string[]): ParsedOptions {
  const names = [...splitNodeOptions(nodeOptions ?? ''), ...execArgv].filter((a) => a.startsWith('-')).map(optionName);
  return {
    names,
    flag(name: string) {
      let v: boolean | undefined;
      const bare = name.replace(/^--/, '');
      for (const n of names) {
        if (n === `--${bare}`) v = true;
        else if (n === `--no-${bare}`) v = false;
      }
      return v;
    },
    has(name: string) {
      return names.includes(name);
    },
  };
}

/** The options of this process (main thread or worker: workers share the process's options). */
export function currentOptions(): ParsedOptions {
  return parseOptions(process.env.NODE_OPTIONS, process.execArgv);
}
