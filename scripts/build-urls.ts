// After tsc (scripts/build.sh): tsc rewrites import specifiers from .ts to .js but not other
// strings, so a worker started as `new Worker(new URL('./worker.ts', import.meta.url))` would name
// a file the package does not ship. Rewrites exactly that form, `new URL('<relative>.ts',
// import.meta.url)`, when the compiled .js sibling exists in dist/; prints each rewrite.
// Usage: node scripts/build-urls.ts <dist>

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const dist = process.argv[2];
if (!dist) {
  process.stderr.write('usage: node scripts/build-urls.ts <dist directory>\n');
  process.exit(2);
}

const URL_TS = /new URL\((['"`])(\.{1,2}\/[^'"`$]*?)\.ts\1(\s*,\s*import\.meta\.url\s*\))/g;
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.js')) continue;
  const file = join(entry.parentPath, entry.name);
  const text = readFileSync(file, 'utf8');
  const out = text.replace(URL_TS, (whole: string, q: string, rel: string, rest: string) => {
    if (!existsSync(resolve(dirname(file), `${rel}.js`))) return whole; // left for the check to report
    process.stderr.write(`build: ${file}: new URL('${rel}.ts') → '${rel}.js'\n`);
    return `new URL(${q}${rel}.js${q}${rest}`;
  });
  if (out !== text) writeFileSync(file, out);
}
