// The layer rules of the project, checked on the import graph (TypeScript's own pre-processor
// finds static, type-only, re-export and dynamic imports):
// - src/cli only parses arguments and prints: it imports nothing from src/kernel;
// - the policy engine never calls the kernel: nothing src/policy reaches imports src/kernel.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../helpers/cli.ts';

const SRC = join(REPO_ROOT, 'src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts'))
    .map((d) => join(d.parentPath, d.name))
    .sort();
}

/** The repository files a source file imports (relative specifiers only; packages are not ours). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName).filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s));
}

const under = (file: string, folder: string) => !relative(join(SRC, folder), file).startsWith('..');
const rel = (f: string) => relative(REPO_ROOT, f);

test('the import scanner sees static, type-only, re-export and dynamic imports', () => {
  const src = "import a from './a.ts';\nimport type { B } from '../kernel/b.ts';\nexport * from './c.ts';\nconst d = await import('./d.ts');\n";
  const found = ts.preProcessFile(src, true, true).importedFiles.map((f) => f.fileName);
  assert.deepEqual(found.sort(), ['../kernel/b.ts', './a.ts', './c.ts', './d.ts']);
});

test('src/cli imports nothing from src/kernel', () => {
  const files = tsFiles(join(SRC, 'cli'));
  assert.ok(files.length >= 5, `found the CLI files (${files.length})`);
  const violations = files.flatMap((f) => importsOf(f).filter((t) => under(t, 'kernel')).map((t) => `${rel(f)} imports ${rel(t)}`));
  assert.deepEqual(violations, [], 'the CLI calls a library module (src/trust, src/sandbox, src/node, src/enforcer…), never a kernel binding');
});

test('nothing src/policy reaches imports src/kernel (the policy engine never calls the kernel)', () => {
  const seen = new Set<string>();
  const stack = tsFiles(join(SRC, 'policy'));
  const violations: string[] = [];
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const t of importsOf(f)) {
      if (under(t, 'kernel')) violations.push(`${rel(f)} imports ${rel(t)}`);
      else stack.push(t);
    }
  }
  assert.ok(seen.size >= 5);
  assert.deepEqual(violations, []);
});
