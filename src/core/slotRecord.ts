import { compareRsyncOrder } from './rsyncOrder';
import type { ListedEntry } from './rsyncOutput';
import { formatSumLine, kindOfHash, parseSumLine, type SumEntry } from './sums';

/** What hashing one entry of the new slot found. */
export interface HashedEntry {
  hash: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

/**
 * The inputs of recordSlot. Nothing here knows where or how a slot is stored: the caller reads
 * rsync's output and the previous list, and hashes entries, however its target does that.
 */
export interface SlotRecordInput {
  /**
   * Every entry of the new slot, as rsync's `-ii` output of this run lists them, in its order, in
   * batches (the merge handles hundreds of thousands of entries; a promise per entry was most of
   * its time).
   */
  listed: AsyncIterable<readonly ListedEntry[]>;
  /**
   * The previous slot's checksum list in rsync's order (format 2), when this run's rsync compared
   * against that slot (--link-dest, or a working copy that held it); null otherwise.
   */
  previous: AsyncIterable<readonly SumEntry[]> | null;
  /**
   * True when the destination held exactly the previous slot before rsync ran, so an entry rsync
   * kept as it was (`.`) is the previous slot's. False for a fresh folder with --link-dest (where
   * only `h` means "the previous slot's file") and for a folder a failed run left half-updated:
   * rsync compares with what the folder holds, so there `.` can be a file the failed run copied.
   */
  keptIsPrevious: boolean;
  /** Hashes one entry of the new slot; null when it is not there (it vanished from the source). */
  hashEntry(path: string, kind: 'file' | 'symlink'): Promise<HashedEntry | null>;
  /**
   * Receives the new checksum list (format 2 body, line by line). Returns a promise only when the
   * merge should wait (a writer's back-pressure), so the common case costs no turn of the loop.
   */
  writeSum(line: string): Promise<void> | undefined;
  /** Receives the change log (`+ "path"`, `~ "path"`, `- "path"`), in rsync's order; as writeSum. */
  writeChange(line: string): Promise<void> | undefined;
}

export interface SlotRecordCounts {
  /** Regular files in the new list. */
  files: number;
  /** Files and symlinks in the new list. */
  entries: number;
  created: number;
  changed: number;
  /** Files and symlinks of the previous slot the new one no longer has; null without a previous list. */
  deleted: number | null;
  hashed: number;
  carried: number;
}

/** rsync's output was not in the order the merge needs (an rsync option changed it, or a bug). */
export class ListOrderError extends Error {
  constructor(readonly what: 'listed' | 'previous', readonly before: string, readonly after: string) {
    super(`The ${what === 'listed' ? 'itemized rsync output' : 'previous checksum list'} is not in rsync's order: ${JSON.stringify(before)} came before ${JSON.stringify(after)}.`);
  }
}

/**
 * Builds the new slot's checksum list and change log from rsync's itemized output, without
 * walking the slot: entries rsync took over from the previous slot keep its checksum (copied
 * line by line from its list), only new and changed entries are hashed, and the previous slot's
 * entries the output does not name are the deletions. One pass over two sorted streams: memory
 * does not grow with the slot. Changes are relative to the previous slot: `+` for a path it did not
 * have, `~` for a path whose entry is a new one (written by this run, or a different type), `-`
 * for a path it had and this slot has not. Folders are listed only when rsync created them.
 * Without a previous list the marks are rsync's own and deletions are not known (deleted: null).
 *
 * Throws ListOrderError when either stream is out of order; nothing written so far may be used.
 */
export async function recordSlot(input: SlotRecordInput): Promise<SlotRecordCounts> {
  const counts: SlotRecordCounts = { files: 0, entries: 0, created: 0, changed: 0, deleted: input.previous ? 0 : null, hashed: 0, carried: 0 };
  const previous = input.previous ? new Cursor(input.previous) : null;
  let prev: SumEntry | undefined;
  let lastPrev: string | null = null;
  /** Moves to the previous list's next entry; synchronous while its batch lasts. */
  const advance = (): Promise<void> | undefined => {
    if (!previous) return undefined;
    const next = previous.take();
    if (next === Cursor.EMPTY) return previous.refill().then(() => { prev = undefined; return advance(); });
    prev = next as SumEntry | undefined;
    if (prev) {
      if (lastPrev !== null && compareRsyncOrder(lastPrev, prev.path) >= 0) throw new ListOrderError('previous', lastPrev, prev.path);
      lastPrev = prev.path;
    }
    return undefined;
  };
  const log = (mark: '+' | '~' | '-', path: string): Promise<void> | undefined => {
    if (mark === '+') counts.created++;
    else if (mark === '~') counts.changed++;
    else counts.deleted = (counts.deleted ?? 0) + 1;
    return input.writeChange(`${mark} ${JSON.stringify(path)}\n`);
  };
  /** rsync's own mark, for entries there is no previous list to compare with. */
  const rsyncMark = (item: ListedEntry): '+' | '~' | null => (item.created ? '+' : item.how === 'written' ? '~' : null);
  let wait = advance();
  if (wait) await wait;
  let last: string | null = null;
  for await (const batch of input.listed) {
    for (const item of batch) {
      if (item.kind === 'dir') {
        // Folders have no line in a checksum list: listed when rsync created them, never deleted.
        if (item.created) { wait = input.writeChange(`+ ${JSON.stringify(item.path)}\n`); if (wait) await wait; }
        continue;
      }
      if (item.undecodable) {
        // Cannot be opened by this name, so not checksummed (a walk skips it too); logged as rsync saw it.
        const mark = rsyncMark(item);
        if (mark) { wait = log(mark, item.path); if (wait) await wait; }
        continue;
      }
      if (last !== null && compareRsyncOrder(last, item.path) >= 0) throw new ListOrderError('listed', last, item.path);
      last = item.path;
      while (prev && compareRsyncOrder(prev.path, item.path) < 0) {
        wait = log('-', prev.path);
        if (wait) await wait;
        wait = advance();
        if (wait) await wait;
      }
      let before: SumEntry | null = null;
      if (prev && prev.path === item.path) {
        before = prev;
        wait = advance();
        if (wait) await wait;
      }
      if (item.kind !== 'file' && item.kind !== 'symlink') {
        // Devices and specials have no content to checksum and are in no list: rsync's mark,
        // unless the previous slot had a file or symlink by that name.
        const mark = before ? '~' : rsyncMark(item);
        if (mark) { wait = log(mark, item.path); if (wait) await wait; }
        continue;
      }
      const sameKind = before !== null && kindOfHash(before.hash) === item.kind;
      if (before && sameKind && (item.how === 'linked' || (item.how === 'kept' && input.keptIsPrevious))) {
        counts.carried++;
        counts.entries++;
        if (item.kind === 'file') counts.files++;
        wait = input.writeSum(`${before.text}\n`);
        if (wait) await wait;
        continue;
      }
      const hashed = await input.hashEntry(item.path, item.kind);
      if (hashed === null) {
        if (before) { wait = log('-', before.path); if (wait) await wait; }
        continue;
      }
      counts.hashed++;
      counts.entries++;
      if (item.kind === 'file') counts.files++;
      wait = input.writeSum(formatSumLine({ ...hashed, path: item.path }));
      if (wait) await wait;
      const mark = !input.previous ? rsyncMark(item)
        : !before ? '+'
        : item.how !== 'kept' || !sameKind || !sameContent(before, hashed) ? '~'
        : null;
      if (mark) { wait = log(mark, item.path); if (wait) await wait; }
    }
  }
  while (prev) {
    wait = log('-', prev.path);
    if (wait) await wait;
    wait = advance();
    if (wait) await wait;
  }
  return counts;
}

/** Reads a batched stream one item at a time, synchronously within a batch. */
class Cursor<T> {
  static readonly EMPTY = Symbol('refill');
  private batch: readonly T[] = [];
  private index = 0;
  private done = false;
  private readonly iterator: AsyncIterator<readonly T[]>;
  constructor(source: AsyncIterable<readonly T[]>) { this.iterator = source[Symbol.asyncIterator](); }
  /** The next item, undefined at the end, or EMPTY when refill() must be awaited first. */
  take(): T | undefined | typeof Cursor.EMPTY {
    if (this.index < this.batch.length) return this.batch[this.index++];
    return this.done ? undefined : Cursor.EMPTY;
  }
  async refill(): Promise<void> {
    const next = await this.iterator.next();
    if (next.done) this.done = true;
    else { this.batch = next.value; this.index = 0; }
  }
}

/** A kept entry the merge could not trust is unchanged only if nothing recorded about it differs. */
function sameContent(before: SumEntry, now: HashedEntry): boolean {
  if (before.hash !== now.hash) return false;
  const line = parseSumLine(before.text);
  return line !== undefined && line.size === now.size && line.mtimeMs === now.mtimeMs;
}
