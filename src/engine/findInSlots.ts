import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { invalid } from '../core/errors';
import { findPaths, patternWords } from '../core/findPaths';
import type { FindResult, FoundPath } from '../core/slotHistory';
import { ringIndex } from './ringIndex';

export interface FindOptions {
  /** Most results returned (default 200); the best ranked come first. */
  limit?: number;
  /** The backed-up folder here, to say which files are no longer in it; undefined: the newest slot's source. */
  source?: string | null;
  signal?: AbortSignal;
}

/**
 * Paths in any slot of the ring matching `pattern` (every word, any case), including files the
 * workspace no longer has, from the ring index: no slot is walked once the index is built.
 */
export async function findInSlots(target: string, pattern: string, options: FindOptions = {}): Promise<FindResult> {
  if (typeof pattern !== 'string' || pattern.includes('\0')) throw invalid('The pattern must be text.');
  const limit = options.limit ?? 200;
  if (!Number.isInteger(limit) || limit < 1) throw invalid(`The limit must be a whole number of 1 or more, got ${JSON.stringify(limit)}.`);
  const view = await ringIndex(target, options.signal ? { signal: options.signal } : {});
  const { paths, total } = patternWords(pattern).length === 0 ? { paths: [], total: 0 } : findPaths(view.index, pattern, limit);
  const source = options.source === undefined ? view.source : options.source;
  const results: FoundPath[] = [];
  for (const path of paths) {
    const entries = view.index.entriesOf(path);
    const runs: Array<[number, number]> = [];
    let newest = -1;
    entries.forEach((e, p) => {
      if (e === null) return;
      if (newest < 0) newest = p;
      const n = view.refs[p]!.number;
      const last = runs.at(-1);
      if (last && last[1] === n - 1 && entries[p - 1] !== null) last[1] = n; else runs.push([n, n]);
    });
    results.push({ path, kind: entries[newest]!.kind, slots: runs, newest: view.refs[newest]!, inSource: source ? await exists(join(source, ...path.split('/'))) : null });
  }
  return { target, pattern, total, results, slots: view.refs.length, paths: view.index.pathCount };
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(() => true, () => false);
}
