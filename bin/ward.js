#!/usr/bin/env node
// ward's entry point. Sources are TypeScript run by Node's type stripping (Node >= 22.18, or
// 22.15+ with --experimental-strip-types).
import module from 'node:module';
import { fileURLToPath } from 'node:url';

// Cache compiled, type-stripped sources next to ward's own files (only the owner of the checkout
// can write there, and they can change the sources anyway): start-up drops from ~120 ms to
// ~40 ms, which every `ward run` and `ward exec` pays. Unwritable → no cache, same behaviour.
try {
  module.enableCompileCache?.(fileURLToPath(new URL('../.cache/compile', import.meta.url)));
} catch {
  /* no cache */
}

const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
