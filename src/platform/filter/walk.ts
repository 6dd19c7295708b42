import { lstatSync, readdirSync, readFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { ShadowSlotsError } from '../../core/errors';
import type { RuleEntry } from '../../core/filter/match';
import { perDirEntries } from '../../core/filter/dirMerge';
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
  /** Called for every path rsync itself would look at (not those inside excluded folders). */
  onDecision?: ((rel: string, isDir: boolean, included: boolean) => void) | undefined;
}

/** A folder still to read, with the rule lists its `:` dir-merge entries had in its parent. */
interface PendingDir { rel: string; excludedBy: number; dirLists: Array<RuleEntry[] | undefined> }

function readText(file: string): string | undefined {
  try { return readFileSync(file, 'utf8'); } catch { return undefined; }
}

/**
 * Walks `source` once, deciding every entry with the sender's rule list and counting per rule the
 * files and bytes it excludes or includes. Memory holds only the pending folders of the walk (a
 * stack), never the list of paths. Cancelling the signal ends the walk with a `cancelled` error.
 */
export async function countFilterMatches(source: string, entries: readonly RuleEntry[], options: CountOptions = {}): Promise<FilterCounts> {
  // Dir-merge entries get their per-folder lists swapped in as the walk moves (see RuleEntry.sub),
  // so a rule list must not be walked by two walks at once.
  const started = performance.now();
  const counter = new FilterCounter(entries, { maxExamples: options.maxExamples, absRoot: source });
  const sliceMs = options.sliceMs ?? 8;
  const rootDev = options.oneFileSystem ? lstatSync(source).dev : undefined;
  const stack: PendingDir[] = [{ rel: '', excludedBy: -1, dirLists: entries.map((e) => (e.dirMerge ? [] : undefined)) }];
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
    // rsync reads a folder's per-folder merge files before deciding the folder's entries; it never
    // reads them inside an excluded folder, where the parent's lists stay in force.
    const dirLists = dir.dirLists.map((inherited, k) => {
      const e = entries[k]!;
      if (!e.dirMerge || inherited === undefined) return undefined;
      if (dir.excludedBy >= 0) return inherited;
      const file = join(absDir, e.dirMerge.name);
      const { list, errors } = perDirEntries(readText(file), file, absDir, e.dirMerge, inherited);
      for (const err of errors) counter.counts.dirMergeErrors.push({ entry: k, file, line: err.line, message: err.message });
      return list;
    });
    dirLists.forEach((list, k) => { if (list) entries[k]!.sub = list; });
    for (const d of names) {
      seen++;
      const rel = dir.rel === '' ? d.name : `${dir.rel}/${d.name}`;
      const isDir = d.isDirectory();
      let size = 0;
      if (!isDir) {
        try { size = lstatSync(join(absDir, d.name)).size; } catch { /* vanished while walking: rsync reports it as such */ }
      }
      const decision = counter.visit(rel, isDir, size, dir.excludedBy);
      if (dir.excludedBy < 0) options.onDecision?.(rel, isDir, decision.include);
      if (!isDir) continue;
      if (rootDev !== undefined) {
        try { if (lstatSync(join(absDir, d.name)).dev !== rootDev) continue; } catch { continue; }
      }
      stack.push({ rel, excludedBy: dir.excludedBy >= 0 ? dir.excludedBy : decision.include ? -1 : decision.entry, dirLists });
    }
  }
  options.onProgress?.(seen);
  return counter.finish(true, Math.round(performance.now() - started));
}
