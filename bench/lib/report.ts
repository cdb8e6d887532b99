// Shared benchmark plumbing: timing, medians, and writing a section of docs/benchmarks.md.

import { existsSync, readFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../src/util/atomic.ts';

const DOC = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs fn repeatedly for at least minMs (and at least minIterations), returns ops/s. */
export function rate(fn: (i: number) => void, minMs = 500, minIterations = 1): { perSecond: number; iterations: number } {
  let iterations = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  let batch = 1;
  while (elapsed < minMs || iterations < minIterations) {
    for (let i = 0; i < batch; i++) fn(iterations + i);
    iterations += batch;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (elapsed < minMs / 10) batch *= 2;
  }
  return { perSecond: (iterations / elapsed) * 1000, iterations };
}

export function machine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Linux ${release()}, Node ${process.version}`;
}

export function table(header: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The body of the section `## title` in docs/benchmarks.md, or undefined. */
export function readSection(title: string): string | undefined {
  const heading = `## ${title}\n`;
  const doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
  const start = doc.indexOf(heading);
  if (start < 0) return undefined;
  const next = doc.indexOf('\n## ', start + heading.length);
  return doc.slice(start + heading.length, next >= 0 ? next : undefined).trim();
}

/** Replaces (or appends) the section `## title` in docs/benchmarks.md. */
export function writeSection(title: string, body: string): void {
  const heading = `## ${title}`;
  let doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Benchmarks\n\nMeasured by `npm run bench:*`; each section is rewritten by its benchmark.\n';
  const section = `${heading}\n\n${body.trim()}\n`;
  const start = doc.indexOf(`${heading}\n`);
  if (start >= 0) {
    const next = doc.indexOf('\n## ', start + heading.length);
    doc = doc.slice(0, start) + section + (next >= 0 ? doc.slice(next + 1) : '');
  } else {
    doc = doc.trimEnd() + '\n\n' + section;
  }
  // One blank line before every section heading, whatever order the sections were written in.
  doc = doc.replace(/\n+(## )/g, '\n\n$1').trimEnd() + '\n';
  writeFileAtomic(DOC, Buffer.from(doc));
  console.log(`wrote "${title}" to docs/benchmarks.md`);
}
