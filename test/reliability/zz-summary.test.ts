// Runs last (files run in name order, one at a time): collects the figures every reliability
// file recorded, prints them as one table and writes .test-output/reliability-summary.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { outputDir, readAllFigures, removeFigures } from './lib/figures';

/** Every area of the issue must have reported at least one figure (files name theirs 1-…, 2a-…, …). */
const AREAS = ['1', '2', '3', '4', '5', '6'];

test('reliability summary table', async () => {
  const figures = await readAllFigures();
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `Reliability suite, ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    '',
    '| area | figure | result |',
    '|---|---|---|',
  ];
  for (const f of figures) {
    for (const [label, value] of f.rows) lines.push(`| ${cell(label)} | ${cell(value)} | ${f.ok ? 'pass' : 'FAIL'} |`);
  }
  const missing = AREAS.filter((a) => !figures.some((f) => f.area.split('-')[0]!.replace(/[a-z]$/, '') === a));
  for (const a of missing) lines.push(`| area ${a} of the issue | not measured: its test file did not run or crashed | FAIL |`);
  const table = lines.join('\n') + '\n';
  await mkdir(outputDir, { recursive: true });
  await writeFile(join(outputDir, 'reliability-summary.md'), table);
  await removeFigures();
  console.log(`\n${table}`);
  assert.deepEqual(missing, [], 'every area recorded its figures');
});
