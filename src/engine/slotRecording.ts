import { rm } from 'node:fs/promises';
import type { SlotManifest } from '../core/manifest';
import { parseListedLine } from '../core/rsyncOutput';
import { ListOrderError, SlotRecorder } from '../core/slotRecord';
import type { RingStore } from '../platform/ringStore';
import { log } from '../platform/runner';
import { sortSumsToRsyncOrder, sumsOrderOf } from '../platform/treeSums';
import { SyncLineReader } from '../platform/slotDraft';
import { exists, tempPathBeside } from '../platform/fsutil';
import { BatchedWriter } from '../platform/batchedWriter';
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
   * @param previous the manifest of the slot rsync compares against (--link-dest, or the snapshot
   *   rsync writes into), if any. Its list, when it is format 1 (rings from before format 2), is
   *   sorted first: once per ring.
   * @param destination what the folder rsync writes into held before: files (a resumed copy, a
   *   copy-on-write snapshot), and exactly the previous slot (a fresh snapshot of it), in which
   *   case what rsync keeps as it was is the previous slot's entry.
   * @returns null when the recording cannot be set up (logged): finalize then walks the slot;
   *   the backup itself never fails for its record.
   */
  static async tryStart(ring: RingStore, id: string, previous: SlotManifest | null, destination: { destinationHeldFiles: boolean; keptIsPrevious: boolean }): Promise<SlotRecording | null> {
    try {
      return await SlotRecording.start(ring, id, previous, destination);
    } catch (error) {
      log('warn', `Could not prepare the checksum list's record (${(error as Error).message}); the slot will be walked instead.`);
      return null;
    }
  }

  private static async start(ring: RingStore, id: string, previous: SlotManifest | null, { destinationHeldFiles, keptIsPrevious }: { destinationHeldFiles: boolean; keptIsPrevious: boolean }): Promise<SlotRecording> {
    const changeLog = ring.changeLogPath(id);
    const listed = previous?.checksums && (await exists(ring.sumsPath(previous.id))) ? ring.sumsPath(previous.id) : null;
    const ordered = listed ? await inRsyncOrder(listed, () => tempPathBeside(changeLog)) : null;
    const draft = tempPathBeside(`${changeLog}.draft`);
    let writer: BatchedWriter | null = null;
    try {
      writer = await BatchedWriter.open(draft, 'write');
      const reader = ordered ? new SyncLineReader(ordered.file) : null;
      const out = writer;
      // In a fresh folder with --link-dest, or a resumed one, `.` never means "the previous slot's".
      const recorder = new SlotRecorder(reader, keptIsPrevious, (line) => out.append(line));
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
 * A list in rsync's order: a format-1 list (walk order, written before format 2) is sorted into a
 * temporary file first.
 */
export async function inRsyncOrder(file: string, scratch: () => string): Promise<{ file: string; cleanup(): Promise<void> }> {
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
