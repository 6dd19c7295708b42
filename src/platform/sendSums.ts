import { lstatSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { ShadowSlotsError } from '../core/errors';
import { compareRsyncOrder } from '../core/rsyncOrder';
import { folderKey, FolderRuns, outermost, UntrustedChangesError, type SendChangeSet } from '../core/sendSums';
import { formatSumLine, SUMS_HEADER, sumEntryOf, type SumEntry } from '../core/sums';
import { BatchedWriter } from './batchedWriter';
import { exists, isErrno } from './fsutil';
import { hashSlotEntry, readLineBatches, sumsOrderOf } from './treeSums';
import { walkTree } from './treeWalk';

/** What the merged list holds, counted while it was written. */
export interface SendSumsCounts {
  /** Regular files in the list. */
  files: number;
  /** Their bytes. */
  totalSize: number;
  /** Files and symlinks read and hashed. */
  hashed: number;
  /** Lines carried over from the previous list as they were. */
  carried: number;
  /** Entries whose checksum was kept but whose times (or other names) changed: stat'ed again. */
  restated: number;
}

/** One entry (or a whole folder) the stream made, changed or retimed: merged in at its place. */
interface Item {
  /** Where it sorts (a folder's content: folderKey). */
  key: string;
  path: string;
  what: 'folder' | 'file' | 'symlink' | 'other';
  /** Written by the stream (content), or only its times set. */
  rewritten: boolean;
  stat: Stats;
  /** The previous list's line for the same path, met during the merge. */
  previous: SumEntry | null;
}

/**
 * Writes a received slot's checksum list (format 2) from the previous slot's list and what the
 * send stream changed, without walking the slot: in one pass in rsync's order, lines of paths
 * the stream did not touch are copied as they are, gone paths (and all below a gone folder) are
 * dropped, what the stream wrote is hashed, a folder it made or moved is walked (only that
 * subtree), a path whose times alone it set is stat'ed again. A file with other names (hard
 * links) changes under every name while the stream names one: every line with such an inode is
 * stat'ed (and hashed when the content changed). Memory: the change set, not the tree.
 *
 * Throws UntrustedChangesError when the inputs contradict each other or the slot (a format-1 or
 * damaged previous list, a named path the slot lacks, a gone path it still has): the caller
 * then walks the slot. Durable (fsync) before returning: a manifest will name the list.
 */
export async function writeSumsFromSend(options: {
  slotRoot: string;
  /** The previous slot's list, which the received slot was built on. */
  previousSums: string;
  changes: SendChangeSet;
  /** SendChangeTracker.retimed(): paths whose times alone the stream set. */
  retimed: readonly string[];
  outFile: string;
  signal?: AbortSignal;
}): Promise<SendSumsCounts> {
  const { slotRoot, changes, signal } = options;
  // A missing list reads as an empty one elsewhere: here that would drop every carried file.
  if (!(await exists(options.previousSums))) throw new UntrustedChangesError('the previous checksum list is missing');
  if ((await sumsOrderOf(options.previousSums)) !== 'rsync') throw new UntrustedChangesError('the previous checksum list is format 1 (not in rsync\'s order)');
  const lstat = (path: string): Stats | null => {
    try {
      return lstatSync(join(slotRoot, path), { throwIfNoEntry: false }) ?? null;
    } catch (error) {
      if (isErrno(error, 'ENOTDIR')) return null;
      throw error;
    }
  };
  // Every path the log names is checked against the slot: a log that disagrees with it is not
  // trusted for what it does not name either.
  const items = new Map<string, Item>();
  const add = (path: string, rewritten: boolean): void => {
    const stat = lstat(path);
    if (!stat) throw new UntrustedChangesError(`the change log names ${JSON.stringify(path)}, which the received slot does not have`);
    const what = stat.isDirectory() ? 'folder' : stat.isFile() ? 'file' : stat.isSymbolicLink() ? 'symlink' : 'other';
    items.set(path, { key: what === 'folder' && rewritten ? folderKey(path) : path, path, what, rewritten, stat, previous: null });
  };
  for (const path of changes.made) add(path, true);
  for (const path of options.retimed) if (path !== '' && !changes.made.has(path)) add(path, false);
  for (const path of changes.gone) {
    if (items.has(path) || [...ancestors(path)].some((a) => changes.made.has(a))) continue;
    if (lstat(path)) throw new UntrustedChangesError(`the change log says ${JSON.stringify(path)} is gone, but the received slot has it`);
  }
  // Made or moved folders are walked as a whole; a folder whose times alone were set is not (it
  // stays in the queue only to catch a previous line by its name that nothing says is gone).
  const walked = outermost([...items.values()].filter((i) => i.what === 'folder' && i.rewritten).map((i) => i.path));
  const isWalkedFolder = new Set(walked);
  const walkedRuns = new FolderRuns(walked);
  const queue = [...items.values()]
    .filter((i) => ![...ancestors(i.path)].some((a) => isWalkedFolder.has(a)))
    .sort((a, b) => compareRsyncOrder(a.key, b.key));
  // Inodes with other names: their other names changed too (content, or times); a name inside a
  // walked folder counts as well (its other names may be outside it).
  const linked = new Map<number, boolean>();
  for (const i of items.values()) if (i.what === 'file' && i.stat.nlink > 1) linked.set(i.stat.ino, (linked.get(i.stat.ino) ?? false) || i.rewritten);
  const goneRuns = new FolderRuns(changes.gone);

  const counts: SendSumsCounts = { files: 0, totalSize: 0, hashed: 0, carried: 0, restated: 0 };
  const out = await BatchedWriter.open(options.outFile, 'write');
  let closed = false;
  const write = async (text: string): Promise<void> => { const wait = out.write(text); if (wait) await wait; };
  const hashed = async (path: string, kind: 'file' | 'symlink'): Promise<void> => {
    const entry = await hashSlotEntry(slotRoot, path, kind, signal);
    if (!entry) throw new UntrustedChangesError(`${JSON.stringify(path)} changed while its checksum was taken`);
    counts.hashed++;
    if (kind === 'file') { counts.files++; counts.totalSize += entry.size; }
    await write(formatSumLine({ ...entry, path }));
  };
  /** A path whose content may be the previous line's: its hash is kept when the inode and size are. */
  const restated = async (path: string, stat: Stats, previous: SumEntry | null, rewritten: boolean): Promise<void> => {
    const kind = stat.isFile() ? 'file' : stat.isSymbolicLink() ? 'symlink' : null;
    if (kind === null) return;
    const before = previous ? fieldsOf(previous.text) : null;
    if (rewritten || !before || before.ino !== stat.ino || before.size !== stat.size || (previous!.hash.startsWith('link:') !== (kind === 'symlink'))) {
      await hashed(path, kind);
      return;
    }
    counts.restated++;
    if (kind === 'file') { counts.files++; counts.totalSize += stat.size; }
    await write(formatSumLine({ hash: previous!.hash, size: stat.size, mtimeMs: Math.trunc(stat.mtimeMs), ino: stat.ino, path }));
  };
  const emit = async (item: Item): Promise<void> => {
    if (item.what === 'folder' && !item.rewritten) {
      if (item.previous && !changes.gone.has(item.path)) throw new UntrustedChangesError(`${JSON.stringify(item.path)} is a folder now, but the change log does not say its file is gone`);
    } else if (item.what === 'folder') {
      const base = join(slotRoot, item.path);
      for await (const entry of walkTree(base, signal, 'rsync')) {
        if (entry.kind !== 'other') await hashed(`${item.path}/${entry.path}`, entry.kind);
      }
    } else if (item.what !== 'other') {
      await restated(item.path, item.stat, item.previous, item.rewritten || (linked.get(item.stat.ino) ?? false));
    }
  };

  try {
    out.append(`${SUMS_HEADER}\n`);
    let next = 0;
    let last: string | null = null;
    let first = true;
    for await (const lines of readLineBatches(options.previousSums)) {
      if (signal?.aborted) throw new ShadowSlotsError('cancelled', 'Recording the checksums was cancelled.');
      for (const line of lines) {
        if (first) { first = false; if (line === SUMS_HEADER) continue; }
        const entry = sumEntryOf(line);
        if (!entry) throw new UntrustedChangesError(`the previous checksum list has a damaged line (${JSON.stringify(line.slice(0, 80))})`);
        if (last !== null && compareRsyncOrder(last, entry.path) >= 0) throw new UntrustedChangesError(`the previous checksum list is not in rsync's order (${JSON.stringify(entry.path)} after ${JSON.stringify(last)})`);
        last = entry.path;
        while (next < queue.length && compareRsyncOrder(queue[next]!.key, entry.path) < 0) await emit(queue[next++]!);
        const item = next < queue.length ? queue[next]! : null;
        if (item !== null && item.key === entry.path) { item.previous = entry; continue; }
        if (changes.gone.has(entry.path) || isWalkedFolder.has(entry.path) || goneRuns.covers(entry.path) || walkedRuns.covers(entry.path)) continue;
        if (linked.size > 0 && linked.has(fieldsOf(line).ino)) {
          const stat = lstat(entry.path);
          if (!stat) throw new UntrustedChangesError(`${JSON.stringify(entry.path)} is in the previous list, not gone, and not in the received slot`);
          await restated(entry.path, stat, entry, linked.get(stat.ino) ?? false);
          continue;
        }
        counts.carried++;
        if (!entry.hash.startsWith('link:')) { counts.files++; counts.totalSize += fieldsOf(line).size; }
        const wait = out.write(`${line}\n`);
        if (wait) await wait;
      }
    }
    while (next < queue.length) await emit(queue[next++]!);
    closed = true;
    await out.close({ sync: true });
  } finally {
    if (!closed) await out.close().catch(() => undefined);
  }
  return counts;
}

/** The size and inode fields of a checksum line (`hash \t size \t mtimeMs \t inode \t path`). */
function fieldsOf(line: string): { size: number; ino: number } {
  const a = line.indexOf('\t');
  const b = line.indexOf('\t', a + 1);
  const c = line.indexOf('\t', b + 1);
  const d = line.indexOf('\t', c + 1);
  return { size: Number(line.slice(a + 1, b)), ino: Number(line.slice(c + 1, d)) };
}

function* ancestors(path: string): Generator<string> {
  for (let cut = path.indexOf('/'); cut > 0; cut = path.indexOf('/', cut + 1)) yield path.slice(0, cut);
}
