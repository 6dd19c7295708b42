import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ringPaths } from '../../core/layout';
import { parseManifest, type SlotState } from '../../core/manifest';

/** The newest run recorded in a ring's manifests: the one source of "last run" every platform shares. */
export interface RingRuns {
  lastRun?: { startedAt: string; endedAt: string | null; state: SlotState };
  lastComplete?: { startedAt: string; endedAt: string | null };
}

export async function readRingRuns(target: string): Promise<RingRuns> {
  const dir = ringPaths(target, path.join).manifests;
  const names = await readdir(dir).catch(() => [] as string[]);
  const manifests = [];
  for (const n of names.filter((x) => x.endsWith('.json'))) {
    try {
      manifests.push(parseManifest(await readFile(path.join(dir, n), 'utf8')));
    } catch {
      // An unreadable manifest is the engine's to repair; it just does not count as a run here.
    }
  }
  manifests.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  const result: RingRuns = {};
  const last = manifests[0];
  if (last) result.lastRun = { startedAt: last.startedAt, endedAt: last.endedAt, state: last.state };
  const complete = manifests.find((m) => m.state === 'complete');
  if (complete) result.lastComplete = { startedAt: complete.startedAt, endedAt: complete.endedAt };
  return result;
}
