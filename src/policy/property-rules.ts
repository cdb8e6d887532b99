// Which rules of a policy name a property, read from its text without building its rules: ward
// daemon's store keeps large policies lazy (parsePolicyLazy), and the IPE backend only needs to
// know whether its kernel will ever match them (see ipe-backend.ts on fsverity_digest).

import { splitLine, splitLines, toBinaryString } from './lexer.ts';
import type { PropertyName } from './model.ts';

/**
 * How many ALLOW rules (any op) name `property`, in a text the parser has accepted. Tokens as the
 * kernel splits them (lexer.ts): comments, DEFAULT lines and the header never count.
 */
export function allowRulesNaming(text: Uint8Array | string, property: PropertyName): number {
  let binary = toBinaryString(text);
  const nul = binary.indexOf('\0');
  if (nul >= 0) binary = binary.slice(0, nul);
  const key = `${property}=`;
  let n = 0;
  for (const raw of splitLines(binary)) {
    // Cheap rejection first: most lines of a large policy are rules, but comments are as many.
    if (!raw.includes(key)) continue;
    const tokens = splitLine(raw, 0).tokens;
    if (!tokens[0]?.text.startsWith('op=')) continue;
    if (tokens.some((t) => t.text.startsWith(key)) && tokens.some((t) => t.text === 'action=ALLOW')) n++;
  }
  return n;
}
