// ward's own version: one place reads it (package.json, shipped with the sources).

import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function wardVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
