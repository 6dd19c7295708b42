import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { walkTree, type WalkEntry } from './treeWalk';
import { yieldWhenDue } from './eventLoopTurns';
import { BatchedWriter } from './batchedWriter';
import { isErrno, openIfExists, tempPathBeside } from './fsutil';
import { ShadowSlotsError } from '../core/errors';
import { compareRsyncOrder } from '../core/rsyncOrder';
import type { HashedEntry } from '../core/slotRecord';
import { formatSumLine, parseSumLine, SUMS_HEADER, sumEntryOf, type SumEntry, type SumLine, type SumsOrder } from '../core/sums';

export { formatSumLine, parseSumLine, type SumLine } from '../core/sums';

/**
 * One buffer for every hash: each chunk is fully consumed before the next await. 128 KB reads
 * hash as fast as 1 MB ones here, and the engine's peak memory is a target (≤ 64 MB).
 */
const hashChunk = Buffer.allocUnsafe(128 * 1024);
/**
 * A synchronous open must never block: a file swapped for a FIFO since rsync wrote it opens at
 * once with O_NONBLOCK (and hashes as empty, so verify reports it changed); O_NOFOLLOW refuses a
 * swapped-in symlink.
 */
const READ_FLAGS = process.platform === 'win32' ? 'r' : constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export async function hashEntry(root: string, entry: Pick<WalkEntry, 'path' | 'kind'>, signal?: AbortSignal): Promise<string> {
  const full = join(root, entry.path);
  if (entry.kind === 'symlink') return 'link:' + createHash('sha256').update(readlinkSync(full)).digest('hex');
  const fd = openSync(full, READ_FLAGS);
  try {
    return await hashOpenFile(fd, entry.path, signal);
  } finally {
    closeSync(fd);
  }
}

async function hashOpenFile(fd: number, path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for (;;) {
    const n = readSync(fd, hashChunk, 0, hashChunk.length, null);
    if (n === 0) break;
    hash.update(hashChunk.subarray(0, n));
    await yieldWhenDue();
    if (signal?.aborted) throw new ShadowSlotsError('cancelled', `Hashing ${path} was cancelled.`);
  }
  return hash.digest('hex');
}

/**
 * Hashes one entry of a slot folder, with what a checksum line records about it; null when the
 * entry is not there (or is not of that kind any more). The size, time and inode come from the
 * open file itself, so they describe exactly the content hashed.
 */
export async function hashSlotEntry(root: string, path: string, kind: 'file' | 'symlink', signal?: AbortSignal): Promise<HashedEntry | null> {
  const full = join(root, path);
  try {
    if (kind === 'symlink') {
      const s = lstatSync(full);
      if (!s.isSymbolicLink()) return null;
      return { hash: 'link:' + createHash('sha256').update(readlinkSync(full)).digest('hex'), size: s.size, mtimeMs: Math.trunc(s.mtimeMs), ino: s.ino };
    }
    const fd = openSync(full, READ_FLAGS);
    try {
      const s = fstatSync(fd);
      if (!s.isFile()) return null;
      return { hash: await hashOpenFile(fd, path, signal), size: s.size, mtimeMs: Math.trunc(s.mtimeMs), ino: s.ino };
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    // Gone (vanished from the source, or a name the file system cannot map back), or no longer a
    // file (ELOOP: a symlink now): not part of the slot as a file.
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR') || isErrno(error, 'ELOOP')) return null;
    throw error;
  }
}

const READ_BYTES = 64 * 1024;

/**
 * Reads a text file as batches of lines (without their `\n`), one batch per 64 KB read. The next
 * read happens only when the previous batch was used, so memory stays at one batch however long
 * the file is and however slow its consumer; a missing file reads as empty.
 */
export async function* readLineBatches(file: string): AsyncGenerator<string[]> {
  const handle = await openIfExists(file);
  if (!handle) return;
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      const text = rest + (bytesRead > 0 ? decoder.write(buffer.subarray(0, bytesRead)) : decoder.end());
      const lines = text.split('\n');
      rest = bytesRead > 0 ? lines.pop()! : '';
      if (bytesRead === 0 && lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
      if (lines.length > 0) yield lines;
      if (bytesRead === 0) return;
    }
  } finally {
    await handle.close();
  }
}

/** The order a checksum list was written in: format 2 says so in its first line. */
export async function sumsOrderOf(file: string): Promise<SumsOrder> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return 'rsync';
    throw error;
  }
  try {
    const buffer = Buffer.alloc(SUMS_HEADER.length);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8') === SUMS_HEADER ? 'rsync' : 'walk';
  } finally {
    await handle.close();
  }
}

/** A checksum list's entries, in the order it was written in (see sumsOrderOf); header skipped. */
export async function* readSums(file: string): AsyncGenerator<SumLine> {
  for await (const lines of readLineBatches(file)) {
    for (const line of lines) {
      const parsed = parseSumLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      if (parsed) yield parsed;
    }
  }
}

/** A checksum list as the batches of SumEntry the merge reads (header and damaged lines skipped). */
export async function* readSumEntries(file: string): AsyncGenerator<SumEntry[]> {
  for await (const lines of readLineBatches(file)) {
    const batch: SumEntry[] = [];
    for (const line of lines) {
      const entry = sumEntryOf(line);
      if (entry) batch.push(entry);
    }
    if (batch.length > 0) yield batch;
  }
}

const SORT_RUN_LINES = 20_000;

/**
 * Writes a format-1 list (walk order) as a format-2 list (rsync order) to `outFile`, with memory
 * bounded by SORT_RUN_LINES: sorted runs go to temporary files beside `outFile`, then are merged.
 * Needed once per ring, when the first run after an upgrade merges against its previous list.
 */
export async function sortSumsToRsyncOrder(inFile: string, outFile: string): Promise<void> {
  const runs: string[] = [];
  try {
    let lines: SumEntry[] = [];
    const flush = async (): Promise<void> => {
      if (lines.length === 0) return;
      lines.sort((a, b) => compareRsyncOrder(a.path, b.path));
      const run = tempPathBeside(outFile);
      runs.push(run);
      const writer = await BatchedWriter.open(run, 'write');
      for (const e of lines) writer.append(`${e.text}\n`);
      await writer.close();
      lines = [];
    };
    for await (const batch of readSumEntries(inFile)) {
      for (const e of batch) {
        lines.push(e);
        if (lines.length >= SORT_RUN_LINES) await flush();
      }
    }
    await flush();
    const out = await BatchedWriter.open(outFile, 'write');
    let closed = false;
    try {
      out.append(`${SUMS_HEADER}\n`);
      const heads = runs.map((run) => ({ it: readSumEntries(run), batch: [] as SumEntry[], i: 0, done: false }));
      const pull = async (h: (typeof heads)[number]): Promise<SumEntry | undefined> => {
        if (h.i < h.batch.length) return h.batch[h.i];
        if (h.done) return undefined;
        const next = await h.it.next();
        if (next.done) { h.done = true; return undefined; }
        h.batch = next.value;
        h.i = 0;
        return h.batch[0];
      };
      // A handful of runs per 100,000 lines: a linear scan for the smallest head is enough.
      for (;;) {
        let best: (typeof heads)[number] | null = null;
        let bestEntry: SumEntry | undefined;
        for (const h of heads) {
          const e = await pull(h);
          if (e && (!bestEntry || compareRsyncOrder(e.path, bestEntry.path) < 0)) { best = h; bestEntry = e; }
        }
        if (!best || !bestEntry) break;
        best.i++;
        const wait = out.write(`${bestEntry.text}\n`);
        if (wait) await wait;
      }
      closed = true;
      await out.close();
    } finally {
      if (!closed) await out.close().catch(() => undefined);
    }
  } finally {
    for (const run of runs) await rm(run, { force: true });
  }
}

/**
 * Writes the sums of `slotRoot` to `outFile` by walking the slot (format 2, rsync's order): the
 * fallback when rsync's itemized output cannot be used (see finalize.ts), and for slots a crash
 * left without a list. Entries of `previousSums` (format 2) with the same inode and size are the
 * same file (hard links made by --link-dest) and keep their hash; the ones the slot no longer has
 * are passed to `onGone`. Returns how many files were hashed.
 */
/**
 * Whether an entry may take the previous list's checksum of the same path. By default: the same
 * inode and size (a hard link made by --link-dest is the same file).
 */
export type ReuseRule = (previous: SumLine, entry: WalkEntry) => boolean;
const sameInode: ReuseRule = (previous, entry) => previous.ino === entry.ino && previous.size === entry.size;

export async function writeSlotSums(slotRoot: string, outFile: string, previousSums: string | null, signal?: AbortSignal, onGone?: (path: string) => Promise<void> | undefined, reuse: ReuseRule = sameInode): Promise<{ files: number; hashed: number }> {
  const out = await BatchedWriter.open(outFile, 'write');
  const previous = previousSums ? readSums(previousSums) : undefined;
  let files = 0;
  let hashed = 0;
  let closed = false;
  try {
    out.append(`${SUMS_HEADER}\n`);
    let prev = previous ? (await previous.next()).value as SumLine | undefined : undefined;
    for await (const entry of walkTree(slotRoot, signal, 'rsync')) {
      if (entry.kind === 'other') continue;
      while (prev && previous && compareRsyncOrder(prev.path, entry.path) < 0) {
        await onGone?.(prev.path);
        prev = (await previous.next()).value as SumLine | undefined;
      }
      let hash: string | undefined;
      if (prev && previous && prev.path === entry.path) {
        if (reuse(prev, entry)) hash = prev.hash;
        prev = (await previous.next()).value as SumLine | undefined;
      }
      if (hash === undefined) {
        hash = await hashEntry(slotRoot, entry, signal);
        hashed++;
      }
      files++;
      await out.write(formatSumLine({ hash, size: entry.size, mtimeMs: entry.mtimeMs, ino: entry.ino, path: entry.path }));
    }
    for (; prev && previous; prev = (await previous.next()).value as SumLine | undefined) await onGone?.(prev.path);
    // Durable before any manifest names it: a sums file cut short by a power loss would make
    // verify report files as missing, and the next run's merge miss deletions.
    closed = true;
    await out.close({ sync: true });
  } finally {
    if (!closed) await out.close().catch(() => undefined);
    await previous?.return(undefined);
  }
  return { files, hashed };
}
