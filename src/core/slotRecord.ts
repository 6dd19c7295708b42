import { compareRsyncOrder } from './rsyncOrder';
import { ownCopy, type ListedEntry } from './rsyncOutput';
import { formatSumLine, kindOfHash, parseSumLine, sumEntryOf, type SumEntry } from './sums';

/**
 * A new slot's checksum list and change log, from rsync's `-ii` list of the slot (every entry, in
 * rsync's order) merged with the previous slot's checksum list (format 2, the same order), without
 * walking the slot. Entries rsync took over from the previous slot keep its checksum, only new and
 * changed entries are hashed, and the previous entries the list does not name are the deletions.
 *
 * Two phases, so that the part that grows with the tree runs while rsync copies:
 * 1. SlotRecorder merges the list, line by line as rsync prints it, with the previous list and
 *    writes a small draft: runs of previous lines to copy or skip, and one line per entry to hash,
 *    per deletion and per other change;
 * 2. after the copy, the draft is played (platform/slotDraft.ts): previous lines are copied as
 *    bytes, new entries hashed (settleEntry decides their line and mark).
 * Nothing here knows where or how a slot is stored.
 *
 * Changes are relative to the previous slot: `+` for a path it did not have, `~` for a path whose
 * entry is a new one (written by this run, or of another type), `-` for a file or symlink it had
 * and this slot has not. Folders are listed when rsync created them. Without a previous list the
 * marks are rsync's own and deletions are not known.
 *
 * Draft lines:
 * - `c N` copy the next N previous lines; `s N` skip them (a header, a damaged line);
 * - `- "path"` the next previous line is gone from the new slot;
 * - `? FLAGS "path"` hash this entry; FLAGS = how (h linked, k kept, w written), kind (f file,
 *   L symlink), `+` created or `.`, then `p` when the next previous line is its previous version;
 * - `= LINE` a change-log line as it is (folders, devices, names that are not UTF-8).
 */

/** What hashing one entry of the new slot found. */
export interface HashedEntry {
  hash: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

/** rsync's output was not in the order the merge needs (an rsync option changed it, or a bug). */
export class ListOrderError extends Error {
  constructor(readonly what: 'listed' | 'previous', readonly before: string, readonly after: string) {
    super(`The ${what === 'listed' ? 'itemized rsync output' : 'previous checksum list'} is not in rsync's order: ${JSON.stringify(before)} came before ${JSON.stringify(after)}.`);
  }
}

const HOW = { linked: 'h', kept: 'k', written: 'w' } as const;

/** Phase 1: merges rsync's list, one entry at a time, with the previous list; writes the draft. */
export class SlotRecorder {
  private prev: SumEntry | undefined;
  private lastPrev: string | null = null;
  private last: string | null = null;
  private lastMatched = false;
  private copy = 0;
  private skip = 0;

  /**
   * @param previous the previous slot's checksum list (format 2) as raw lines, read on demand;
   *   null when this run's rsync did not compare against that slot.
   * @param keptIsPrevious true when the destination held exactly the previous slot before rsync
   *   ran, so an entry rsync kept as it was (`.`) is the previous slot's. False for a fresh folder
   *   with --link-dest (only `h` means "the previous slot's file") and for a folder a failed run
   *   left half-updated: rsync compares with what the folder holds, so `.` can be a file the
   *   failed run copied.
   * @param out receives the draft, line by line (with newline).
   */
  constructor(private readonly previous: { next(): string | undefined } | null, private readonly keptIsPrevious: boolean, private readonly out: (line: string) => void) {
    this.advance();
  }

  /** One entry of rsync's list, in the order rsync printed it. Throws ListOrderError. */
  add(item: ListedEntry): void {
    if (item.kind === 'dir') {
      // Folders have no line in a checksum list: listed when rsync created them, never deleted.
      if (item.created) this.emit(`= + ${JSON.stringify(item.path)}\n`);
      return;
    }
    if (item.undecodable) {
      // Cannot be opened by this name, so not checksummed (a walk skips it too); logged as rsync saw it.
      const mark = rsyncMark(item);
      if (mark) this.emit(`= ${mark} ${JSON.stringify(item.path)}\n`);
      return;
    }
    // Most entries are the previous slot's next one: equality first, the order only otherwise.
    // When this entry and the one before are both the previous list's, their order is that list's,
    // which advance() checked: one comparison per entry instead of two.
    const matches = this.prev !== undefined && this.prev.path === item.path;
    if (!(matches && this.lastMatched) && this.last !== null && compareRsyncOrder(this.last, item.path) >= 0) throw new ListOrderError('listed', this.last, item.path);
    if (!matches) {
      while (this.prev !== undefined && compareRsyncOrder(this.prev.path, item.path) < 0) {
        this.emit(`- ${JSON.stringify(this.prev.path)}\n`);
        this.advance();
      }
    }
    const before = this.prev !== undefined && this.prev.path === item.path ? this.prev : undefined;
    this.lastMatched = before !== undefined;
    // The previous list's copy of the path, when there is one, is a slice of a small read; rsync's
    // is a slice of a 64 KB chunk of its output (see ownCopy).
    this.last = before ? before.path : ownCopy(item.path);
    if (item.kind !== 'file' && item.kind !== 'symlink') {
      // Devices and specials have no content to checksum and are in no list: rsync's mark, unless
      // the previous slot had a file or symlink by that name.
      if (before) {
        // Replaced by the device: its line is dropped, the change logged once, as `~`.
        this.flushCopy();
        this.skip++;
        this.advance();
      }
      const mark = before ? '~' : rsyncMark(item);
      if (mark) this.emit(`= ${mark} ${JSON.stringify(item.path)}\n`);
      return;
    }
    if (before && kindOfHash(before.hash) === item.kind && (item.how === 'linked' || (item.how === 'kept' && this.keptIsPrevious))) {
      this.flushSkip();
      this.copy++;
      this.advance();
      return;
    }
    this.emit(`? ${HOW[item.how]}${item.kind === 'file' ? 'f' : 'L'}${item.created ? '+' : '.'}${before ? 'p' : ''} ${JSON.stringify(item.path)}\n`);
    if (before) this.advance();
  }

  /** After rsync's last line: the previous slot's remaining entries are deletions. */
  end(): void {
    while (this.prev !== undefined) {
      this.emit(`- ${JSON.stringify(this.prev.path)}\n`);
      this.advance();
    }
    this.flushCopy();
    this.flushSkip();
  }

  /** Moves past the current previous entry (its line is accounted for by the caller). */
  private advance(): void {
    this.prev = undefined;
    if (!this.previous) return;
    for (let line = this.previous.next(); line !== undefined; line = this.previous.next()) {
      const entry = sumEntryOf(line.endsWith('\r') ? line.slice(0, -1) : line);
      if (!entry) {
        this.flushCopy();
        this.skip++;
        continue;
      }
      if (this.lastPrev !== null && compareRsyncOrder(this.lastPrev, entry.path) >= 0) throw new ListOrderError('previous', this.lastPrev, entry.path);
      this.lastPrev = entry.path;
      this.prev = entry;
      return;
    }
  }

  private emit(line: string): void {
    this.flushCopy();
    this.flushSkip();
    this.out(line);
  }

  private flushCopy(): void {
    if (this.copy > 0) this.out(`c ${this.copy}\n`);
    this.copy = 0;
  }

  private flushSkip(): void {
    if (this.skip > 0) this.out(`s ${this.skip}\n`);
    this.skip = 0;
  }
}

/** rsync's own mark, for entries there is no previous list to compare with. */
function rsyncMark(item: ListedEntry): '+' | '~' | null {
  return item.created ? '+' : item.how === 'written' ? '~' : null;
}

/** A `?` draft line, parsed. */
export interface PendingEntry {
  how: 'h' | 'k' | 'w';
  kind: 'file' | 'symlink';
  created: boolean;
  /** The next previous line is this entry's previous version. */
  hasPrevious: boolean;
  path: string;
}

export function parsePending(line: string): PendingEntry {
  const flags = line.slice(2, line.indexOf(' ', 2));
  return {
    how: flags[0] as PendingEntry['how'],
    kind: flags[1] === 'L' ? 'symlink' : 'file',
    created: flags[2] === '+',
    hasPrevious: flags[3] === 'p',
    path: JSON.parse(line.slice(3 + flags.length)) as string,
  };
}

/**
 * Phase 2's decision for one hashed entry: its checksum line (null when it is gone: it vanished
 * from the source) and its change-log line. `previousLine` is its line in the previous list.
 */
export function settleEntry(pending: PendingEntry, previousLine: string | null, hashed: HashedEntry | null, previousListExists: boolean): { sum: string | null; change: string | null } {
  const quoted = JSON.stringify(pending.path);
  if (hashed === null) return { sum: null, change: previousLine !== null ? `- ${quoted}\n` : null };
  const sum = formatSumLine({ ...hashed, path: pending.path });
  let mark: '+' | '~' | null;
  if (!previousListExists) mark = pending.created ? '+' : pending.how === 'w' ? '~' : null;
  else if (previousLine === null) mark = '+';
  else mark = pending.how !== 'k' || !unchanged(previousLine, pending.kind, hashed) ? '~' : null;
  return { sum, change: mark ? `${mark} ${quoted}\n` : null };
}

/** A kept entry the merge could not trust is unchanged only if nothing recorded about it differs. */
function unchanged(previousLine: string, kind: 'file' | 'symlink', now: HashedEntry): boolean {
  const before = parseSumLine(previousLine);
  return before !== undefined && kindOfHash(before.hash) === kind && before.hash === now.hash && before.size === now.size && before.mtimeMs === now.mtimeMs;
}
