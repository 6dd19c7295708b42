import { createHash } from 'node:crypto';
import { closeSync, constants, openSync, readlinkSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { comparePaths, walkTree, type WalkEntry } from './treeWalk';
import { yieldWhenDue } from './eventLoopTurns';
import { BatchedWriter } from './batchedWriter';
import { isErrno } from './fsutil';
import { ShadowSlotsError } from '../core/errors';

/**
 * A slot's content checksums: one line per file, `sha256 \t size \t mtimeMs \t inode \t JSON(path)`,
 * in walk order. Files hard-linked to the previous slot (same inode) reuse its checksum, so a
 * nightly run hashes only what changed.
 */
export interface SumLine {
  hash: string;
  size: number;
  mtimeMs: number;
  ino: number;
  path: string;
}

export function formatSumLine(s: SumLine): string {
  return `${s.hash}\t${s.size}\t${s.mtimeMs}\t${s.ino}\t${JSON.stringify(s.path)}\n`;
}

export function parseSumLine(line: string): SumLine | undefined {
  const parts = line.split('\t');
  if (parts.length !== 5) return undefined;
  try {
    return { hash: parts[0]!, size: Number(parts[1]), mtimeMs: Number(parts[2]), ino: Number(parts[3]), path: JSON.parse(parts[4]!) as string };
  } catch {
    return undefined;
  }
}

/** One buffer for every hash: each chunk is fully consumed before the next await. */
const hashChunk = Buffer.allocUnsafe(1024 * 1024);
/**
 * A synchronous open must never block: a file swapped for a FIFO since the walk saw it opens at
 * once with O_NONBLOCK (and hashes as empty, so verify reports it changed); O_NOFOLLOW refuses a
 * swapped-in symlink.
 */
const READ_FLAGS = process.platform === 'win32' ? 'r' : constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export async function hashEntry(root: string, entry: WalkEntry, signal?: AbortSignal): Promise<string> {
  const full = join(root, entry.path);
  if (entry.kind === 'symlink') return 'link:' + createHash('sha256').update(readlinkSync(full)).digest('hex');
  const hash = createHash('sha256');
  const fd = openSync(full, READ_FLAGS);
  try {
    for (;;) {
      const n = readSync(fd, hashChunk, 0, hashChunk.length, null);
      if (n === 0) break;
      hash.update(hashChunk.subarray(0, n));
      await yieldWhenDue();
      if (signal?.aborted) throw new ShadowSlotsError('cancelled', `Hashing ${entry.path} was cancelled.`);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * Reads a sums file as an async stream of lines in walk order. The next 64 KB is read only when the
 * previous one is used up: readline reads ahead as fast as the disk allows and queued a large part
 * of a 200,000-line file in memory while the walk it is merged with was still slow.
 */
export async function* readSums(file: string): AsyncGenerator<SumLine> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    throw error;
  }
  const buffer = Buffer.allocUnsafe(65536);
  const decoder = new StringDecoder('utf8');
  let rest = '';
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      const text = rest + (bytesRead > 0 ? decoder.write(buffer.subarray(0, bytesRead)) : decoder.end());
      const lines = text.split('\n');
      rest = bytesRead > 0 ? lines.pop()! : '';
      for (const line of lines) {
        const parsed = parseSumLine(line.endsWith('\r') ? line.slice(0, -1) : line);
        if (parsed) yield parsed;
      }
      if (bytesRead === 0) return;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Writes the sums of `slotRoot` to `outFile`, reusing hashes from `previousSums` for entries that
 * are the same inode (hard links made by --link-dest). Entries of `previousSums` the slot no longer
 * has are passed to `onGone`, in walk order: that is the slot's list of deleted files, for free.
 * Returns how many files were hashed.
 */
export async function writeSlotSums(slotRoot: string, outFile: string, previousSums: string | null, signal?: AbortSignal, onGone?: (path: string) => Promise<void> | undefined): Promise<{ files: number; hashed: number }> {
  const out = await BatchedWriter.open(outFile, 'write');
  const previous = previousSums ? readSums(previousSums) : undefined;
  let files = 0;
  let hashed = 0;
  let closed = false;
  try {
    let prev = previous ? (await previous.next()).value as SumLine | undefined : undefined;
    for await (const entry of walkTree(slotRoot, signal)) {
      if (entry.kind === 'other') continue;
      while (prev && previous && comparePaths(prev.path, entry.path) < 0) {
        await onGone?.(prev.path);
        prev = (await previous.next()).value as SumLine | undefined;
      }
      let hash: string | undefined;
      if (prev && previous && prev.path === entry.path) {
        if (prev.ino === entry.ino && prev.size === entry.size) hash = prev.hash;
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
