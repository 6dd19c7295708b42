import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { SlotManifest } from '../core/manifest';
import { LineSplitter, parseItemizedLine, parseListedLine } from '../core/rsyncOutput';
import { ListOrderError, SlotRecorder } from '../core/slotRecord';
import { RingStore } from '../platform/ringStore';
import { log, run } from '../platform/runner';
import { hashSlotEntry, sortSumsToRsyncOrder, sumsOrderOf, writeSlotSums } from '../platform/treeSums';
import { playDraft, SyncLineReader } from '../platform/slotDraft';
import { exists, tempPathBeside } from '../platform/fsutil';
import { BatchedWriter } from '../platform/batchedWriter';
import { droppedSlotsOf, startPurge } from './purge';
import type { ListSink } from './rsyncRun';

/**
 * Records, while rsync copies, what finalize needs to build the new slot's checksum list and change
 * log without walking the slot: rsync's list of the slot (`-ii`) merged, line by line as rsync
 * prints it, with the previous slot's list (core/slotRecord.ts), into a small draft beside the
 * change log. The merge costs as many lines as the slot has; run during the copy, it does not
 * delay the slot. A draft a failed run leaves is removed by the next repair (a temp-file name).
 */
export class SlotRecording implements ListSink {
  /** Why the draft cannot be used (rsync's output out of order, a write failed); null while usable. */
  failure: Error | null = null;
  private ended = false;

  private constructor(
    readonly draft: string,
    /** The previous list the draft is merged with (sorted into a temp file if it was format 1). */
    readonly previousSums: string | null,
    /**
     * True when rsync writes into a folder that already held files (a resumed copy): an entry it
     * keeps as it was may then be one an interrupted run copied, and a file that vanished from
     * the source may still be there without being listed.
     */
    readonly destinationHeldFiles: boolean,
    /** Deletes the sorted copy of a format-1 previous list, if one was made. */
    private readonly cleanupSorted: (() => Promise<void>) | null,
    private readonly writer: BatchedWriter,
    private readonly reader: SyncLineReader | null,
    private readonly recorder: SlotRecorder,
  ) {}

  /**
   * @param previous the manifest of the slot rsync compares against (--link-dest), if any. Its
   *   list, when it is format 1 (rings from before format 2), is sorted first: once per ring.
   * @returns null when the recording cannot be set up (logged): finalize then walks the slot;
   *   the backup itself never fails for its record.
   */
  static async tryStart(ring: RingStore, id: string, previous: SlotManifest | null, destinationHeldFiles: boolean): Promise<SlotRecording | null> {
    try {
      return await SlotRecording.start(ring, id, previous, destinationHeldFiles);
    } catch (error) {
      log('warn', `Could not prepare the checksum list's record (${(error as Error).message}); the slot will be walked instead.`);
      return null;
    }
  }

  private static async start(ring: RingStore, id: string, previous: SlotManifest | null, destinationHeldFiles: boolean): Promise<SlotRecording> {
    const changeLog = ring.changeLogPath(id);
    const listed = previous?.checksums && (await exists(ring.sumsPath(previous.id))) ? ring.sumsPath(previous.id) : null;
    const ordered = listed ? await inRsyncOrder(listed, () => tempPathBeside(changeLog)) : null;
    const draft = tempPathBeside(`${changeLog}.draft`);
    let writer: BatchedWriter | null = null;
    try {
      writer = await BatchedWriter.open(draft, 'write');
      const reader = ordered ? new SyncLineReader(ordered.file) : null;
      const out = writer;
      // A fresh folder with --link-dest, or a resumed one: `.` never means "the previous slot's".
      const recorder = new SlotRecorder(reader, false, (line) => out.append(line));
      return new SlotRecording(draft, ordered?.file ?? null, destinationHeldFiles, ordered?.cleanup ?? null, writer, reader, recorder);
    } catch (error) {
      await writer?.close().catch(() => undefined);
      await rm(draft, { force: true });
      await ordered?.cleanup();
      throw error;
    }
  }

  line(text: string): void {
    if (this.failure !== null || this.ended) return;
    const entry = parseListedLine(text);
    if (!entry) return;
    try {
      this.recorder.add(entry);
    } catch (error) {
      this.fail(error);
    }
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.failure === null) {
      try {
        this.recorder.end();
      } catch (error) {
        this.fail(error);
      }
    }
    this.reader?.close();
    await this.writer.close().catch((error: unknown) => { this.failure ??= error as Error; });
  }

  /** Deletes the draft and any sorted copy (after finalize, or when the run failed). */
  async discard(): Promise<void> {
    await this.end();
    await rm(this.draft, { force: true });
    await this.cleanupSorted?.();
  }

  private fail(error: unknown): void {
    this.failure = error as Error;
    this.reader?.close();
    if (error instanceof ListOrderError) log('warn', `${error.message} The checksums will be recorded by walking the slot instead.`);
  }
}

/**
 * Work that needs the new slot but must not delay it: its checksum list (what `verify` compares
 * against), the change log relative to the previous slot, and the counts; then the dropped
 * slots' deletion is handed to a detached purge. Runs after slot 0 is already complete and listed.
 * Without a usable recording (none, rsync's output out of order, a resumed copy that lost files
 * to the source) the slot is walked instead.
 */
export async function finalizeSlot(ring: RingStore, rsyncPath: string, manifest: SlotManifest, previous: SlotManifest | null, recording: SlotRecording | null, signal?: AbortSignal): Promise<string[]> {
  const warnings: string[] = [];
  try {
    await recordSlotDetails(ring, rsyncPath, manifest, previous, recording, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    warnings.push(`The slot is complete, but recording its deleted-file list or checksums failed: ${(error as Error).message}`);
  } finally {
    await recording?.discard();
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

async function recordSlotDetails(ring: RingStore, rsyncPath: string, manifest: SlotManifest, previous: SlotManifest | null, recording: SlotRecording | null, signal?: AbortSignal): Promise<void> {
  const { state } = await ring.readState();
  const current = state.entries.find((e) => e.id === manifest.id);
  if (!current) {
    await ring.writeManifest(manifest);
    return;
  }
  const prior = state.entries.find((e) => e.number === current.number + 1);
  const comparable = prior !== undefined && previous !== null && prior.id === previous.id;
  const changeLog = ring.changeLogPath(manifest.id);
  const slotRoot = ring.slotPath(current.number);
  try {
    // A file that vanished from the source after an interrupted run had copied it is still in a
    // resumed folder, yet rsync does not list it: only a walk finds everything there.
    const usable = recording !== null && recording.failure === null && !(recording.destinationHeldFiles && manifest.rsync.exitCode === 24);
    let deleted: number | null;
    if (usable) {
      const newLog = tempPathBeside(changeLog);
      try {
        const counts = await playDraft({
          draft: recording.draft,
          previousSums: recording.previousSums,
          sumsFile: ring.sumsPath(manifest.id),
          changeLog: newLog,
          hashEntry: (path, kind) => hashSlotEntry(slotRoot, path, kind, signal),
        });
        await rename(newLog, changeLog);
        deleted = counts.deleted;
        if (manifest.counts) {
          manifest.counts.created = counts.created;
          manifest.counts.changed = counts.changed;
        }
      } finally {
        await rm(newLog, { force: true });
      }
    } else {
      const previousSums = comparable && previous.checksums && (await exists(ring.sumsPath(previous.id))) ? ring.sumsPath(previous.id) : null;
      const ordered = previousSums ? await inRsyncOrder(previousSums, () => tempPathBeside(changeLog)) : null;
      try {
        deleted = await recordByWalking(ring, manifest.id, slotRoot, ordered?.file ?? null, changeLog, signal);
      } finally {
        await ordered?.cleanup();
      }
    }
    manifest.checksums = `sums/${manifest.id}.tsv`;
    if (deleted === null && comparable && !signal?.aborted) {
      // No list to compare with (an adopted slot): rsync itself lists what the new slot lacks.
      deleted = await listDeletions(rsyncPath, slotRoot, ring.slotPath(prior.number), changeLog, signal);
    }
    if (manifest.counts && deleted !== null) manifest.counts.deleted = deleted;
  } finally {
    await ring.writeManifest(manifest);
  }
}

/**
 * The fallback: walks the slot, reusing the previous list's hashes for files with the same inode
 * (hard links made by --link-dest), and appends the previous slot's files the walk did not meet to
 * the change log as deletions. Returns how many, or null without a previous list.
 */
async function recordByWalking(ring: RingStore, id: string, slotRoot: string, previousSums: string | null, changeLog: string, signal?: AbortSignal): Promise<number | null> {
  // Collected aside and appended only when the whole walk succeeded; otherwise rsync lists them.
  const aside = previousSums ? tempPathBeside(changeLog) : null;
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
