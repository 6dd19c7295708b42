import { entryMatches, includeOf, MatchPath, type RuleEntry } from './match';

/** What one rule does to the current source tree. */
export interface RuleStats {
  /** Non-directory entries the rule decides, including everything below folders it excludes. */
  files: number;
  bytes: number;
  /** Folders the rule decides, including those below folders it excludes. */
  dirs: number;
  /** A few paths it decides (folders end in `/`). */
  examples: string[];
  /** Distinct depths (1 = top level) of the paths it decides itself, at most 4 kept. */
  depths: number[];
  /** Paths its pattern matches that an earlier rule decided first, or that lie inside a folder an earlier rule excluded. */
  shadowed: number;
  /** Entry index of the rule that took most of those paths. */
  shadowedBy: number | undefined;
  /** How many of the shadowed paths lie inside a folder an earlier rule excluded. */
  shadowedInside: number;
  shadowExamples: string[];
}

/** The result of one walk of the source with a rule list. */
export interface FilterCounts {
  stats: RuleStats[];
  totalFiles: number;
  totalBytes: number;
  totalDirs: number;
  includedFiles: number;
  includedBytes: number;
  excludedFiles: number;
  excludedBytes: number;
  /** Top-level entries of the source and how many of them are excluded. */
  topLevel: number;
  topLevelExcluded: number;
  /** Errors in per-folder (`:` dir-merge) files: rsync stops on them. `entry` is the `:` rule's entry. */
  dirMergeErrors: Array<{ entry: number; file: string; line: number; message: string }>;
  /** Folders that could not be read (rsync would report them as errors, exit 23). */
  unreadable: string[];
  /** False when the walk was cut short (cancelled or a limit hit); counts are then a lower bound. */
  complete: boolean;
  durationMs: number;
}

function emptyStats(): RuleStats {
  return { files: 0, bytes: 0, dirs: 0, examples: [], depths: [], shadowed: 0, shadowedBy: undefined, shadowedInside: 0, shadowExamples: [] };
}

/** A decision for one visited path: the deciding entry (-1: no rule, included) and the outcome. */
export interface Decision { entry: number; include: boolean }

/**
 * Accumulates per-rule counts while a walker visits paths (pure; the walker owns the file system).
 * Paths are decided as the sending rsync decides them; the contents of excluded folders are still
 * visited (rsync never looks at them) so the excluding rule gets their files and bytes, and later
 * rules that would have matched in there are reported as shadowed by it.
 */
export class FilterCounter {
  readonly counts: FilterCounts;
  private readonly entries: readonly RuleEntry[];
  private readonly maxExamples: number;
  private readonly absRoot: Uint8Array | undefined;
  private readonly shadowTally: Array<Map<number, number>>;

  constructor(entries: readonly RuleEntry[], options: { maxExamples?: number; absRoot?: string } = {}) {
    this.entries = entries;
    this.maxExamples = options.maxExamples ?? 5;
    this.absRoot = options.absRoot === undefined ? undefined : Buffer.from(options.absRoot.replace(/^\/+/, ''), 'utf8');
    this.shadowTally = entries.map(() => new Map());
    this.counts = {
      stats: entries.map(emptyStats), totalFiles: 0, totalBytes: 0, totalDirs: 0, includedFiles: 0, includedBytes: 0,
      excludedFiles: 0, excludedBytes: 0, topLevel: 0, topLevelExcluded: 0, dirMergeErrors: [], unreadable: [], complete: false, durationMs: 0,
    };
  }

  /**
   * Visits one path. `excludedBy` is the entry that excluded an ancestor folder (or -1). Returns the
   * decision; for an excluded folder the walker passes the returned entry down to its contents.
   */
  visit(rel: string, isDir: boolean, size: number, excludedBy: number): Decision {
    const path = new MatchPath(rel, isDir, this.absRoot);
    const c = this.counts;
    if (isDir) c.totalDirs++; else { c.totalFiles++; c.totalBytes += size; }
    const depth = path.depth;
    let decision: Decision;
    if (excludedBy >= 0) {
      for (let i = 0; i < this.entries.length; i++) {
        if (i !== excludedBy && entryMatches(this.entries[i]!, path)) this.shadow(i, excludedBy, path, true);
      }
      decision = { entry: excludedBy, include: false };
      const s = c.stats[excludedBy]!;
      if (isDir) s.dirs++; else { s.files++; s.bytes += size; }
    } else {
      let first = -1;
      for (let i = 0; i < this.entries.length; i++) {
        if (!entryMatches(this.entries[i]!, path)) continue;
        if (first < 0) first = i; else this.shadow(i, first, path, false);
      }
      decision = { entry: first, include: first < 0 ? true : includeOf(this.entries[first]!, path) };
      if (first >= 0) {
        const s = c.stats[first]!;
        if (isDir) s.dirs++; else { s.files++; s.bytes += size; }
        if (s.examples.length < this.maxExamples) s.examples.push(isDir ? `${rel}/` : rel);
        if (!s.depths.includes(depth) && s.depths.length < 4) s.depths.push(depth);
      }
      if (depth === 1) { c.topLevel++; if (!decision.include) c.topLevelExcluded++; }
    }
    if (!isDir) {
      if (decision.include) { c.includedFiles++; c.includedBytes += size; } else { c.excludedFiles++; c.excludedBytes += size; }
    }
    return decision;
  }

  /** Marks the walk as finished and settles which rule shadows each rule most. */
  finish(complete: boolean, durationMs: number): FilterCounts {
    this.counts.complete = complete;
    this.counts.durationMs = durationMs;
    this.shadowTally.forEach((tally, i) => {
      let best: number | undefined;
      let bestN = 0;
      for (const [by, n] of tally) if (n > bestN) { best = by; bestN = n; }
      this.counts.stats[i]!.shadowedBy = best;
    });
    return this.counts;
  }

  private shadow(i: number, by: number, path: MatchPath, inside: boolean): void {
    const s = this.counts.stats[i]!;
    s.shadowed++;
    if (inside) s.shadowedInside++;
    if (s.shadowExamples.length < this.maxExamples) s.shadowExamples.push(path.isDir ? `${path.rel}/` : path.rel);
    const t = this.shadowTally[i]!;
    t.set(by, (t.get(by) ?? 0) + 1);
  }
}
