import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { SlotManifest } from '../core/manifest';
import { LineSplitter, parseItemizedLine, parseListedLine, type ListedEntry } from '../core/rsyncOutput';
import { ListOrderError, recordSlot, type SlotRecordCounts } from '../core/slotRecord';
import { SUMS_HEADER } from '../core/sums';
import { RingStore } from '../platform/ringStore';
import { log, run } from '../platform/runner';
import { hashSlotEntry, readLineBatches, readSumEntries, sortSumsToRsyncOrder, sumsOrderOf, writeSlotSums } from '../platform/treeSums';
import { exists, tempPathBeside } from '../platform/fsutil';
import { BatchedWriter } from '../platform/batchedWriter';
import { droppedSlotsOf, startPurge } from './purge';

/** What finalize needs to know about the copy that made the slot. */
export interface CopyRecord {
  /** rsync's `-ii` output of the copy (runRsync's listFile), when it was written in full. */
  listFile: string | null;
  /**
   * True when rsync wrote into a folder that already held files (a resumed copy): an entry it
   * kept as it was may then be one an interrupted run copied, and a file that vanished from the
   * source may still be there without being listed.
   */
  destinationHeldFiles: boolean;
}

/**
 * Work that needs the new slot but must not delay it: its checksum list (what `verify` compares
 * against), the change log relative to the previous slot, and the counts; then the dropped
 * slots' deletion is handed to a detached purge. Runs after slot 0 is already complete and listed.
 */
export async function finalizeSlot(ring: RingStore, rsyncPath: string, manifest: SlotManifest, previous: SlotManifest | null, copy: CopyRecord, signal?: AbortSignal): Promise<string[]> {
  const warnings: string[] = [];
  try {
    await recordSlotDetails(ring, rsyncPath, manifest, previous, copy, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    warnings.push(`The slot is complete, but recording its deleted-file list or checksums failed: ${(error as Error).message}`);
  } finally {
    if (copy.listFile) await rm(copy.listFile, { force: true });
  }
  try {
    const filled = await backfillChecksums(ring, signal);
    if (filled > 0) warnings.push(`Recorded checksums for ${filled} older slot(s) that an interrupted run had left without them.`);
  } catch (error) {
    warnings.push(`Could not record checksums of older slots: ${(error as Error).message}`);
  }
  // Dropped slots are deleted whatever happened above: otherwise every night would leave one
  // more full slot in the trash until the target is full.
  try {
    warnings.push(...(await startPurge(droppedSlotsOf(ring))));
  } catch (error) {
    warnings.push(`Could not start deleting the dropped slots in ${ring.paths.trash}: ${(error as Error).message}. The next run tries again.`);
  }
  return warnings;
}

async function recordSlotDetails(ring: RingStore, rsyncPath: string, manifest: SlotManifest, previous: SlotManifest | null, copy: CopyRecord, signal?: AbortSignal): Promise<void> {
  const { state } = await ring.readState();
  const current = state.entries.find((e) => e.id === manifest.id);
  if (!current) {
    await ring.writeManifest(manifest);
    return;
  }
  const prior = state.entries.find((e) => e.number === current.number + 1);
  const comparable = prior !== undefined && previous !== null && prior.id === previous.id;
  const previousSums = comparable && previous.checksums && (await exists(ring.sumsPath(previous.id))) ? ring.sumsPath(previous.id) : null;
  const changeLog = ring.changeLogPath(manifest.id);
  // Temporary files go beside the change log, where the next run's repair removes any a crash left.
  const scratch = (): string => tempPathBeside(changeLog);
  const ordered = previousSums ? await inRsyncOrder(previousSums, scratch) : null;
  try {
    // A file that vanished from the source after an interrupted run had copied it is still in a
    // resumed folder, yet rsync does not list it: only a walk finds everything there.
    const listUsable = copy.listFile !== null && !(copy.destinationHeldFiles && manifest.rsync.exitCode === 24);
    let counts: SlotRecordCounts | null = null;
    if (listUsable) {
      try {
        counts = await recordFromList(ring, manifest.id, ring.slotPath(current.number), copy.listFile!, ordered?.file ?? null, changeLog, scratch, signal);
      } catch (error) {
        if (!(error instanceof ListOrderError)) throw error;
        log('warn', `${error.message} Recording the checksums by walking the slot instead.`);
      }
    }
    let deleted: number | null;
    if (counts) {
      deleted = counts.deleted;
      if (manifest.counts) {
        manifest.counts.created = counts.created;
        manifest.counts.changed = counts.changed;
      }
    } else {
      deleted = await recordByWalking(ring, manifest.id, ring.slotPath(current.number), ordered?.file ?? null, changeLog, scratch, signal);
    }
    manifest.checksums = `sums/${manifest.id}.tsv`;
    if (deleted === null && comparable && !signal?.aborted) {
      // No list to compare with (an adopted slot): rsync itself lists what the new slot lacks.
      deleted = await listDeletions(rsyncPath, ring.slotPath(current.number), ring.slotPath(prior.number), changeLog, signal);
    }
    if (manifest.counts && deleted !== null) manifest.counts.deleted = deleted;
  } finally {
    await ordered?.cleanup();
    await ring.writeManifest(manifest);
  }
}

/**
 * The checksum list and change log from rsync's list of the slot, merged with the previous list
 * (recordSlot): no walk of the slot, only new and changed files are read. Both files are replaced
 * only when the whole merge succeeded.
 */
async function recordFromList(ring: RingStore, id: string, slotRoot: string, listFile: string, previousSums: string | null, changeLog: string, scratch: () => string, signal?: AbortSignal): Promise<SlotRecordCounts> {
  const sums = await BatchedWriter.open(ring.sumsPath(id), 'write');
  const newLog = scratch();
  const changes = await BatchedWriter.open(newLog, 'write');
  let closed = false;
  try {
    sums.append(`${SUMS_HEADER}\n`);
    const counts = await recordSlot({
      listed: listedBatches(listFile),
      previous: previousSums ? readSumEntries(previousSums) : null,
      // A fresh folder with --link-dest, or a resumed one: `.` never means "the previous slot's".
      keptIsPrevious: false,
      hashEntry: (path, kind) => hashSlotEntry(slotRoot, path, kind, signal),
      writeSum: (line) => sums.write(line),
      writeChange: (line) => changes.write(line),
    });
    closed = true;
    // Durable before the manifest names it: a list cut short by a power loss would make verify
    // report files as missing, and the next run's merge miss deletions.
    await sums.close({ sync: true });
    await changes.close();
    await rename(newLog, changeLog);
    return counts;
  } finally {
    if (!closed) {
      await sums.close().catch(() => undefined);
      await changes.close().catch(() => undefined);
    }
    await rm(newLog, { force: true });
  }
}

/** rsync's list of the slot, parsed in batches (see recordSlot). */
async function* listedBatches(listFile: string): AsyncGenerator<ListedEntry[]> {
  for await (const lines of readLineBatches(listFile)) {
    const batch: ListedEntry[] = [];
    for (const line of lines) {
      const entry = parseListedLine(line);
      if (entry) batch.push(entry);
    }
    yield batch;
  }
}

/**
 * The fallback: walks the slot, reusing the previous list's hashes for files with the same inode
 * (hard links made by --link-dest), and appends the previous slot's files the walk did not meet to
 * the change log as deletions. Returns how many, or null without a previous list.
 */
async function recordByWalking(ring: RingStore, id: string, slotRoot: string, previousSums: string | null, changeLog: string, scratch: () => string, signal?: AbortSignal): Promise<number | null> {
  // Collected aside and appended only when the whole walk succeeded; otherwise rsync lists them.
  const aside = previousSums ? scratch() : null;
  try {
    const gone = aside ? await BatchedWriter.open(aside, 'write') : null;
    let count = 0;
    try {
      await writeSlotSums(slotRoot, ring.sumsPath(id), previousSums, signal, gone ? (path) => { count++; return gone.write(`- ${JSON.stringify(path)}\n`); } : undefined);
    } finally {
      await gone?.close();
    }
    if (!aside) return null;
    await pipeline(createReadStream(aside), createWriteStream(changeLog, { flags: 'a' }));
    return count;
  } finally {
    if (aside) await rm(aside, { force: true });
  }
}

/**
 * A list in rsync's order: a format-1 list (walk order, written before format 2) is sorted into a
 * temporary file first.
 */
async function inRsyncOrder(file: string, scratch: () => string): Promise<{ file: string; cleanup(): Promise<void> }> {
  if ((await sumsOrderOf(file)) === 'rsync') return { file, cleanup: async () => undefined };
  const sorted = scratch();
  try {
    await sortSumsToRsyncOrder(file, sorted);
  } catch (error) {
    await rm(sorted, { force: true });
    throw error;
  }
  return { file: sorted, cleanup: () => rm(sorted, { force: true }) };
}

/**
 * `rsync --existing --ignore-existing --delete --dry-run new/ old/` transfers nothing and lists
 * exactly the entries of the old slot that the new one no longer has. Only needed when the previous
 * slot has no checksum list (adopted, or made by a run that was interrupted before recording it).
 */
async function listDeletions(rsyncPath: string, newSlot: string, oldSlot: string, changeLog: string, signal?: AbortSignal): Promise<number> {
  const splitter = new LineSplitter();
  let deleted = 0;
  const out = await BatchedWriter.open(changeLog, 'append');
  try {
    await run(rsyncPath, ['-r', '--dry-run', '--delete', '--existing', '--ignore-existing', '--out-format=%i %n', '--', `${newSlot}/`, `${oldSlot}/`], {
      onStdout: (chunk) => splitter.push(chunk, (line) => {
        const item = parseItemizedLine(line);
        if (item?.change === 'deleted') {
          if (!item.path.endsWith('/')) deleted++;
          out.append(`- ${JSON.stringify(item.path)}\n`);
        }
      }),
      ...(signal ? { signal } : {}),
    });
    splitter.end(() => undefined);
  } finally {
    await out.close();
  }
  return deleted;
}

/**
 * A run killed between its rotation and its finalize leaves a complete slot without checksums;
 * record them now by walking it (reusing the hashes of the slot it was linked against), so verify
 * can check it.
 */
async function backfillChecksums(ring: RingStore, signal?: AbortSignal): Promise<number> {
  const { state } = await ring.readState();
  let filled = 0;
  for (const entry of state.entries) {
    const manifest = await ring.readManifest(entry.id);
    if (!manifest || manifest.adopted || manifest.state !== 'complete' || manifest.checksums) continue;
    const base = manifest.linkDest ? await ring.readManifest(manifest.linkDest) : null;
    const baseSums = base?.checksums && (await exists(ring.sumsPath(base.id))) ? ring.sumsPath(base.id) : null;
    const ordered = baseSums ? await inRsyncOrder(baseSums, () => tempPathBeside(ring.changeLogPath(entry.id))) : null;
    try {
      await writeSlotSums(ring.slotPath(entry.number), ring.sumsPath(entry.id), ordered?.file ?? null, signal);
    } finally {
      await ordered?.cleanup();
    }
    await ring.writeManifest({ ...manifest, checksums: `sums/${entry.id}.tsv`, warnings: [...manifest.warnings, 'Checksums were recorded by a later run, after this run was interrupted.'] });
    filled++;
  }
  return filled;
}
