import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const repoRoot = join(__dirname, '..', '..', '..');
export const outputDir = join(repoRoot, '.test-output');
const figuresDir = join(outputDir, 'reliability');

/**
 * Each reliability test file runs in its own process, so figures are handed to the summary
 * (zz-summary.test.ts, run last) through one JSON file per area.
 */
export interface AreaFigures {
  area: string;
  /** One line per figure: [label, value]. */
  rows: Array<[string, string]>;
  /** Whether every assertion of the area passed when the figures were written. */
  ok: boolean;
}

export async function recordFigures(figures: AreaFigures): Promise<void> {
  await mkdir(figuresDir, { recursive: true });
  await writeFile(join(figuresDir, `${figures.area.replace(/[^a-z0-9-]/gi, '_')}.json`), JSON.stringify(figures, null, 2) + '\n');
}

export async function readAllFigures(): Promise<AreaFigures[]> {
  let names: string[];
  try {
    names = (await readdir(figuresDir)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(figuresDir, n), 'utf8')) as AreaFigures));
}
