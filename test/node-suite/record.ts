// Proposes expected.ts entries from the last run's failures (/var/cache/ward-node-suite/<mode>.json,
// written by node-suite.test.ts): each failing test under the first class whose pattern its output
// matches, or UNCLASSIFIED (a ward bug to fix, or a class to add). Every proposal is then checked by
// hand against the test's source before it goes into expected.ts.
//
//   node test/node-suite/record.ts

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LIMITS, REFUSALS, type FailureClass } from './expected.ts';
import { SOURCE_DIR } from './source.ts';

const refusals = Object.entries(REFUSALS) as [string, FailureClass][];
const limits = Object.entries(LIMITS) as [string, FailureClass][];
const read = (mode: string): Record<string, { out: string }> => {
  try {
    return JSON.parse(readFileSync(join(SOURCE_DIR, '..', `${mode}.json`), 'utf8'));
  } catch {
    return {};
  }
};
const plain = read('plain');
const ward = read('ward');
const classify = (out: string, order: [string, FailureClass][]) => order.find(([, c]) => c.match.test(out))?.[0] ?? 'UNCLASSIFIED';
for (const mode of ['ward', 'enforced']) {
  console.log(`// ${mode}`);
  for (const [test, o] of Object.entries(read(mode))) {
    if (test in plain) continue;
    // Under enforcement a test that already fails without it keeps its limit when the output still shows it.
    const order = mode === 'ward' ? limits : test in ward ? [...limits, ...refusals] : refusals;
    console.log(`  '${test}': '${classify(o.out, order)}',`);
  }
}
