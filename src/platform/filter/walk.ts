import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { ShadowSlotsError } from '../../core/errors';
import type { RuleEntry } from '../../core/filter/match';
import { FilterCounter, type FilterCounts } from '../../core/filter/stats';

export interface CountOptions {
  signal?: AbortSignal | undefined;
  /** rsync's -x: do not descend into folders on another file system (the engine passes -x). */
  oneFileSystem?: boolean | undefined;
  maxExamples?: number | undefined;
  /**
   * Longest stretch of synchronous file-system work before yielding to the event loop. Sync calls
   * are several times faster than promise-based ones for many small stats; slicing them keeps the
   * language server answering keystrokes while a walk runs.
   */
  sliceMs?: number | undefined;
  /** Called after each slice with the number of entries seen so far. */
  onProgress?: ((entries: number) => void) | undefined;
}

interface PendingDir { rel: string; excludedBy: number }

/**
 * Walks `source` once, deciding every entry with the sender's rule list and counting per rule the
 * files and bytes it excludes or includes. Memory holds only the pending folders of the walk (a
 * stack), never the list of paths. Cancelling the signal ends the walk with a `cancelled` error.
 */
export async function countFilterMatches(source: string, entries: readonly RuleEntry[], options: CountOptions = {}): Promise<FilterCounts> {
  const started = performance.now();
  const counter = new FilterCounter(entries, { maxExamples: options.maxExamples, absRoot: source });
  const sliceMs = options.sliceMs ?? 8;
  const rootDev = options.oneFileSystem ? lstatSync(source).dev : undefined;
  const stack: PendingDir[] = [{ rel: '', excludedBy: -1 }];
  let seen = 0;
  let sliceStart = performance.now();
  while (stack.length > 0) {
    if (performance.now() - sliceStart > sliceMs) {
      options.onProgress?.(seen);
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
    if (options.signal?.aborted) throw new ShadowSlotsError('cancelled', 'Counting filter matches was cancelled.');
    const dir = stack.pop()!;
    const absDir = dir.rel === '' ? source : join(source, dir.rel);
    let names: Dirent[];
    try {
      names = readdirSync(absDir, { withFileTypes: true });
    } catch {
      if (dir.rel === '') throw new ShadowSlotsError('not-found', `The source folder ${source} cannot be read.`, { hint: 'Check the profile\'s source path and its permissions.' });
      counter.counts.unreadable.push(dir.rel);
      continue;
    }
    for (const d of names) {
      seen++;
      const rel = dir.rel === '' ? d.name : `${dir.rel}/${d.name}`;
      const isDir = d.isDirectory();
      let size = 0;
      if (!isDir) {
        try { size = lstatSync(join(absDir, d.name)).size; } catch { /* vanished while walking: rsync reports it as such */ }
      }
      const decision = counter.visit(rel, isDir, size, dir.excludedBy);
      if (!isDir) continue;
      if (rootDev !== undefined) {
        try { if (lstatSync(join(absDir, d.name)).dev !== rootDev) continue; } catch { continue; }
      }
      stack.push({ rel, excludedBy: decision.include ? -1 : decision.entry });
    }
  }
  options.onProgress?.(seen);
  return counter.finish(true, Math.round(performance.now() - started));
}
