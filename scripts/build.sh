#!/usr/bin/env bash
# npm run build (and prepack): src/**/*.ts → dist/**/*.js + .d.ts, for the npm package and the
# Debian package. Generic over src/: tsc compiles whatever is there (tsconfig.build.json).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
tsc -p tsconfig.build.json
# tsc rewrites import specifiers, not other strings: `new URL('./x.ts', import.meta.url)` (how
# workers are started) is rewritten here; any other string still naming a .ts file would name a
# file the package does not ship: refuse such a build, by file:line.
node scripts/build-urls.ts dist
if bad=$(grep -rnE "['\"\`]\.{1,2}/[^'\"\`]*\.ts['\"\`]" dist --include='*.js'); then
  echo "build: dist/ still names TypeScript sources (use new URL('./x.ts', import.meta.url), which the build rewrites, or pick the extension from import.meta.url):" >&2
  echo "$bad" >&2
  exit 1
fi
# The enlightened-Node preload and `ward run`'s fast entry, each as one CommonJS file (see the
# script for why), checked to parse.
node scripts/bundle-preload.ts dist
node --check dist/node/preload.bundle.cjs
node --check dist/cli/run.bundle.cjs
