// Writes ward's bash completion from the CLI's own --help (commander's layout), so it follows the
// commands as they are: every command, subcommand and option, nothing listed by hand.
// Usage: node scripts/package-deb-completion.ts <ward.js> > ward.bash

import { execFileSync } from 'node:child_process';

const arg = process.argv[2];
if (!arg) {
  process.stderr.write('usage: node scripts/package-deb-completion.ts <path/to/bin/ward.js>\n');
  process.exit(2);
}
const ward: string = arg;

interface Help {
  commands: string[];
  options: string[];
}

function help(path: string[]): Help {
  const text = execFileSync(process.execPath, [ward, ...path, '--help'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '200' } });
  const out: Help = { commands: [], options: [] };
  let section = '';
  for (const line of text.split('\n')) {
    const head = /^(\w[\w ]*):$/.exec(line);
    if (head) {
      section = head[1]!;
      continue;
    }
    const entry = /^ {2}(\S.*?)(?: {2,}|$)/.exec(line);
    if (!entry) continue;
    if (section === 'Commands') {
      const name = entry[1]!.split(/[ |]/)[0]!;
      if (name !== 'help') out.commands.push(name);
    } else if (section === 'Options') {
      for (const m of entry[1]!.matchAll(/(?:^|[ ,])(-{1,2}[\w-]+)/g)) out.options.push(m[1]!);
    }
  }
  return out;
}

const table = new Map<string, string[]>();
function walk(path: string[]): void {
  const h = help(path);
  table.set(['ward', ...path].join(' '), [...h.commands, ...h.options]); // bash keys cannot be empty
  for (const c of h.commands) walk([...path, c]);
}
walk([]);

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const rows = [...table].map(([k, words]) => `  [${q(k)}]=${q(words.join(' '))}`).join('\n');
process.stdout.write(`# bash completion for ward(1), generated from \`ward --help\` by scripts/package-deb-completion.ts.
# Completes commands, subcommands and options; anything else completes as file names.
declare -gA _ward_words=(
${rows}
)

_ward() {
  local cur=\${COMP_WORDS[COMP_CWORD]} key=ward next i
  for ((i = 1; i < COMP_CWORD; i++)); do
    [[ \${COMP_WORDS[i]} == -* ]] && continue
    next="$key \${COMP_WORDS[i]}"
    [[ -n \${_ward_words[$next]+set} ]] || break
    key=$next
  done
  COMPREPLY=($(compgen -W "\${_ward_words[$key]}" -- "$cur"))
}
complete -o default -F _ward ward
`);
