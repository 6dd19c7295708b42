/**
 * Scenario 8 (issue 17): the ring index behind file history, change marks and find, on a ring of
 * 16 real slots made by the engine's own backups (1 % of the files changed between them). Measured
 * in this process through the engine's functions, as the engine process answers requests:
 *   - index build per slot: the whole ring read from its checksum lists with no cache, divided by
 *     the slots; and one new slot added to a warm index (what every later backup costs);
 *   - history of one file with the index in memory (the request compares the index with the
 *     ring first, as every request does);
 *   - the first "find" keystroke with a warm index (a one- and a two-letter pattern).
 * Targets: history ≤ 100 ms, first keystroke ≤ 300 ms, build ≤ 1 s per slot of 200,000 files.
 */
import { rm } from 'node:fs/promises';
import { fileHistory } from '../../src/engine/history';
import { findInSlots } from '../../src/engine/findInSlots';
import { forgetIndexes, ringIndex } from '../../src/engine/ringIndex';
import { indexCacheDir } from '../../src/platform/indexCache';
import { median, formatMs } from './stats';

export interface RingIndexResult {
  files: number;
  slots: number;
  buildMs: number;
  buildPerSlotMs: number;
  addSlotMs: number;
  historyMedianMs: number;
  historyVersions: number;
  findFirstKeyMs: number;
  findTwoKeysMs: number;
  findMatches: number;
}

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await f();
  return { ms: performance.now() - t, value };
}

/**
 * `ring` already holds `slots - 1` slots; `backupOnce` changes the source and backs up (the
 * 16th slot is added while measured). `file` is a path that changed in some slots.
 */
export async function measureRingIndex(target: string, files: number, slots: number, file: string, backupOnce: () => Promise<void>): Promise<RingIndexResult> {
  // The index cache lives beside the ring for this run (SHADOW_SLOTS_CACHE_DIR, set by the caller).
  await rm(indexCacheDir(), { recursive: true, force: true });
  forgetIndexes();
  const build = await timed(() => ringIndex(target));
  const built = build.value.index.slots.length;
  await backupOnce();
  const add = await timed(() => ringIndex(target));
  if (add.value.index.slots.length !== Math.min(slots, built + 1)) throw new Error(`the index holds ${add.value.index.slots.length} slots after a backup, expected ${Math.min(slots, built + 1)}`);
  const history: number[] = [];
  let versions = 0;
  for (let i = 0; i < 15; i++) {
    const h = await timed(() => fileHistory(target, file, { current: null }));
    history.push(h.ms);
    versions = h.value.versions.length;
  }
  const first = await timed(() => findInSlots(target, 's'));
  const two = await timed(() => findInSlots(target, 'sr'));
  return {
    files, slots: add.value.index.slots.length, buildMs: build.ms, buildPerSlotMs: build.ms / Math.max(1, built), addSlotMs: add.ms,
    historyMedianMs: median(history), historyVersions: versions, findFirstKeyMs: first.ms, findTwoKeysMs: two.ms, findMatches: first.value.total,
  };
}

export function ringIndexLines(r: RingIndexResult): string[] {
  const mark = (ms: number, limit: number) => `${formatMs(ms).padStart(8)}  (target ≤ ${formatMs(limit)}: ${ms <= limit ? 'PASS' : 'MISS'})`;
  return [
    `Ring index (issue 17): ${r.slots} slots × ${r.files.toLocaleString('en')} files`,
    `  index build, per slot        ${mark(r.buildPerSlotMs, 1000 * r.files / 200_000)}  [whole ring ${formatMs(r.buildMs)}]`,
    `  one new slot added           ${formatMs(r.addSlotMs).padStart(8)}`,
    `  history of one file (median) ${mark(r.historyMedianMs, 100)}  [${r.historyVersions} versions]`,
    `  first find keystroke ("s")   ${mark(r.findFirstKeyMs, 300)}  [${r.findMatches.toLocaleString('en')} matches]`,
    `  second keystroke ("sr")      ${formatMs(r.findTwoKeysMs).padStart(8)}`,
  ];
}
