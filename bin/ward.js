#!/usr/bin/env node
// ward's entry point. Sources are TypeScript run by Node's type stripping (Node >= 22.18, or
// 22.15+ with --experimental-strip-types).
import { main } from '../src/cli/main.ts';

process.exitCode = main(process.argv.slice(2));
