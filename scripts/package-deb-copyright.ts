// Writes the Debian package's machine-readable copyright file (DEP-5): ward itself, the bundled
// Node runtime and every bundled npm package with its license, from the files that ship (no list
// by hand, so a new dependency is covered when it is added).
// Usage: node scripts/package-deb-copyright.ts <usr/lib/ward>

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [lib] = process.argv.slice(2);
if (!lib) {
  process.stderr.write('usage: node scripts/package-deb-copyright.ts <usr/lib/ward>\n');
  process.exit(2);
}
const repoLicense = new URL('../LICENSE', import.meta.url);

interface Bundled {
  dir: string;
  name: string;
  license: string;
  text: string;
}

/** A license text as a DEP-5 continuation: one space before each line, " ." for empty ones. */
function indent(text: string): string {
  return text
    .trim()
    .split('\n')
    .map((l) => (l.trim() === '' ? ' .' : ` ${l.trimEnd()}`))
    .join('\n');
}

function licenseText(dir: string): string {
  const f = readdirSync(dir).find((n) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(n));
  return f ? readFileSync(join(dir, f), 'utf8') : '';
}

function packages(nm: string): Bundled[] {
  const out: Bundled[] = [];
  for (const entry of readdirSync(nm, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    if (entry.name.startsWith('@')) {
      for (const sub of readdirSync(join(nm, entry.name))) out.push(...one(join(nm, entry.name, sub), `${entry.name}/${sub}`));
    } else out.push(...one(join(nm, entry.name), entry.name));
  }
  return out;
}

function one(dir: string, rel: string): Bundled[] {
  const pkgFile = join(dir, 'package.json');
  if (!existsSync(pkgFile)) return [];
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { name: string; license?: string };
  if (!pkg.license) throw new Error(`${rel}: package.json names no license`);
  const nested = join(dir, 'node_modules');
  return [{ dir: `node_modules/${rel}`, name: pkg.name, license: pkg.license, text: licenseText(dir) }, ...(existsSync(nested) ? packages(nested).map((b) => ({ ...b, dir: `node_modules/${rel}/${b.dir}` })) : [])];
}

const bundled = packages(join(lib, 'node_modules'));
const texts = new Map<string, string>([['MIT', readFileSync(repoLicense, 'utf8').replace(/^MIT License\s*/, '')]]);
const paragraphs: string[] = [
  'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: ward\nSource: https://www.npmjs.com/package/@ward-sh/ward',
  'Files: *\nCopyright: 2026 the ward authors\nLicense: MIT',
  // Node's LICENSE holds full Apache-2.0 and GPL texts of what it bundles: referred to, not copied
  // (Debian keeps those texts in /usr/share/common-licenses).
  `Files: usr/lib/ward/runtime/*\nCopyright: Node.js contributors and others\nLicense: Node.js\n${indent(`Node.js is licensed under the MIT license; it bundles components under their own licenses. The complete text, as Node.js ships it, is in /usr/lib/ward/runtime/LICENSE.`)}`,
];
for (const b of bundled) {
  const holder = /^\s*Copyright\s*(?:\(c\)|©)?\s*(.+)$/im.exec(b.text)?.[1]?.trim() ?? `the ${b.name} authors`;
  paragraphs.push(`Files: usr/lib/ward/${b.dir}/*\nCopyright: ${holder}\nLicense: ${b.license}`);
  if (!texts.has(b.license)) {
    if (!b.text) throw new Error(`${b.dir}: no license file for ${b.license}`);
    texts.set(b.license, b.text);
  }
}
for (const [name, text] of texts) paragraphs.push(`License: ${name}\n${indent(text)}`);
process.stdout.write(paragraphs.join('\n\n') + '\n');
