import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repoRoot = join(__dirname, '..', '..', '..');
export const outputDir = join(repoRoot, '.test-output');

/**
 * Each reliability file runs in its own process under one `node --test` runner, so figures are
 * handed to the summary (zz-summary.test.ts, run last) through one JSON file per area, in a folder
 * keyed by the runner's pid. It lives in the temp folder, not .test-output, because another
 * `npm test` in the same checkout starts by deleting .test-output.
 */
const PREFIX = 'shadow-slots-reliability-figures-';
export const figuresDir = join(tmpdir(), `${PREFIX}${process.ppid}`);

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

/** Removes this run's figures and those of runs whose runner is gone (single-file runs leave theirs). */
export async function removeFigures(): Promise<void> {
  await rm(figuresDir, { recursive: true, force: true });
  for (const name of await readdir(tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const pid = Number(name.slice(PREFIX.length));
    try { process.kill(pid, 0); } catch { await rm(join(tmpdir(), name), { recursive: true, force: true }); }
  }
}

/**
 * Runs one test body and records its figures as one area, marked pass only when the body
 * finished without an assertion failing. A body that fails before reporting anything still
 * leaves a row, so the summary never silently drops an area.
 */
export async function measured(area: string, body: (rows: Array<[string, string]>) => Promise<void>): Promise<void> {
  const rows: Array<[string, string]> = [];
  let ok = false;
  try {
    await body(rows);
    ok = true;
  } finally {
    await recordFigures({ area, ok, rows: rows.length > 0 ? rows : [[area, 'FAILED before it measured anything (see the test output)']] });
  }
}
