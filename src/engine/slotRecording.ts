import { rm } from 'node:fs/promises';
import type { SlotManifest } from '../core/manifest';
import { ownCopy, parseListedLine } from '../core/rsyncOutput';
import { ListOrderError, SlotRecorder } from '../core/slotRecord';
import type { RingStore } from '../platform/ringStore';
import { log } from '../platform/runner';
import { sortSumsToRsyncOrder, sumsOrderOf } from '../platform/treeSums';
import { SyncLineReader } from '../platform/slotDraft';
import { exists, tempPathBeside } from '../platform/fsutil';
import { BatchedWriter } from '../platform/batchedWriter';
import { localScratch } from '../platform/target/sshTempFolders';
import { SshHost } from '../platform/target/sshHost';
import type { ListSink } from './rsyncRun';

/**
 * Records, while rsync copies, what finalize needs to build the new slot's checksum list and change
 * log without walking the slot: rsync's list of the slot (`-ii`) merged, line by line as rsync
 * prints it, with the previous slot's list (core/slotRecord.ts), into a small draft beside the
 * change log (for a ring on a server: on this machine, with a local copy of the previous list).
 * The merge costs as many lines as the slot has; run during the copy, it does not delay the slot.
 * A draft a failed run leaves is removed by the next repair (a temp-file name), or on this machine
 * with the staged files of a killed run (sshConnection.ts).
 */
export class SlotRecording implements ListSink {
  /** Why the draft cannot be used (rsync's output out of order, a write failed); null while usable. */
  failure: Error | null = null;
  private ended = false;
  private recorder: SlotRecorder | null = null;
  private reader: SyncLineReader | null = null;
  /** The previous list in rsync's order, once it is here. */
  private previous: OrderedList | null = null;
  /** rsync's lines printed before a server's previous list arrived (see fetch). */
  private waiting: string[] = [];
  private fetching: Promise<void> | null = null;

  private constructor(
    /** The draft, a file on this machine. */
    readonly draft: string,
    /**
     * True when rsync writes into a folder that already held files (a resumed copy): an entry it
     * keeps as it was may then be one an interrupted run copied, and a file that vanished from
     * the source may still be there without being listed.
     */
    readonly destinationHeldFiles: boolean,
    private readonly keptIsPrevious: boolean,
    private readonly writer: BatchedWriter,
    /**
     * For a ring on a server: fetches the previous list into a local file. It starts with rsync's
     * first line (the server's session is then free: the copy runs on a channel of its own) and
     * lines wait for it, so the download overlaps the copy instead of delaying its start.
     */
    private readonly fetch: (() => Promise<OrderedList | null>) | null,
  ) {}

  /** The previous list the draft is merged with (a local file; sorted if it was format 1). */
  get previousSums(): string | null {
    return this.previous?.file ?? null;
  }

  /** For a ring on a server: the server's path of `previousSums` when that is a byte-for-byte copy of it. */
  get previousOnServer(): string | null {
    return this.previous?.server ?? null;
  }

  /**
   * @param previous the manifest of the slot rsync compares against (--link-dest, or the snapshot
   *   rsync writes into), if any. Its list, when it is format 1 (rings from before format 2, and
   *   lists a server's walk wrote), is sorted first.
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
    const remote = ring.host.name !== null;
    const changeLog = ring.changeLogPath(id);
    // A server's files are read and written here, through local copies: the draft is local too.
    const draft = remote ? localScratch() : tempPathBeside(`${changeLog}.draft`);
    const ordered = remote ? null : await localPrevious(ring, previous, () => tempPathBeside(changeLog));
    let writer: BatchedWriter | null = null;
    try {
      writer = await BatchedWriter.open(draft, 'write');
      const recording = new SlotRecording(draft, destinationHeldFiles, keptIsPrevious, writer, remote ? () => fetchPrevious(ring, previous) : null);
      if (!remote) recording.begin(ordered);
      return recording;
    } catch (error) {
      await writer?.close().catch(() => undefined);
      await rm(draft, { force: true });
      await ordered?.cleanup();
      throw error;
    }
  }

  line(text: string): void {
    if (this.failure !== null || this.ended) return;
    if (this.recorder === null) {
      // Kept until the previous list is here; a copy, not a slice of rsync's 64 KB chunk.
      this.waiting.push(ownCopy(text));
      this.fetching ??= this.startFetch();
      return;
    }
    this.add(text);
  }

  async end(): Promise<void> {
    if (this.ended) return;
    if (this.recorder === null && this.failure === null) {
      this.fetching ??= this.startFetch();
      await this.fetching;
    }
    this.ended = true;
    if (this.failure === null) {
      try {
        this.recorder!.end();
      } catch (error) {
        this.fail(error);
      }
    }
    this.reader?.close();
    await this.writer.close().catch((error: unknown) => { this.failure ??= error as Error; });
  }

  /** Deletes the draft and any local or sorted copy of the previous list (after finalize, or when the run failed). */
  async discard(): Promise<void> {
    await this.end();
    await rm(this.draft, { force: true });
    await this.previous?.cleanup();
  }

  private add(text: string): void {
    const entry = parseListedLine(text);
    if (!entry) return;
    try {
      this.recorder!.add(entry);
    } catch (error) {
      this.fail(error);
    }
  }

  /** Starts the merge with the previous list (null: there is none). */
  private begin(ordered: OrderedList | null): void {
    this.previous = ordered;
    this.reader = ordered ? new SyncLineReader(ordered.file) : null;
    const out = this.writer;
    // In a fresh folder with --link-dest, or a resumed one, `.` never means "the previous slot's".
    this.recorder = new SlotRecorder(this.reader, this.keptIsPrevious, (line) => out.append(line));
  }

  private async startFetch(): Promise<void> {
    try {
      this.begin(await this.fetch!());
    } catch (error) {
      log('warn', `Could not fetch the previous slot's checksum list (${(error as Error).message}); the slot will be walked instead.`);
      this.fail(error);
      this.waiting = [];
      return;
    }
    const waiting = this.waiting;
    this.waiting = [];
    for (const text of waiting) {
      if (this.failure !== null) break;
      this.add(text);
    }
  }

  private fail(error: unknown): void {
    this.failure = error as Error;
    this.reader?.close();
    if (error instanceof ListOrderError) log('warn', `${error.message} The checksums will be recorded by walking the slot instead.`);
  }
}

/** A checksum list in rsync's order on this machine, and how to delete what was made for it. */
interface OrderedList {
  file: string;
  /** The server file `file` is an unchanged copy of (not a sorted one). */
  server?: string;
  cleanup(): Promise<void>;
}

/** The previous slot's list on this machine, in rsync's order; null when it has none. */
async function localPrevious(ring: RingStore, previous: SlotManifest | null, scratch: () => string): Promise<OrderedList | null> {
  const listed = previous?.checksums && (await exists(ring.sumsPath(previous.id))) ? ring.sumsPath(previous.id) : null;
  return listed ? inRsyncOrder(listed, scratch) : null;
}

/**
 * The previous slot's list of a ring on a server, copied here (one command on the run's session),
 * then sorted if a server's walk wrote it (format 1, walk order).
 */
async function fetchPrevious(ring: RingStore, previous: SlotManifest | null): Promise<OrderedList | null> {
  if (!previous?.checksums) return null;
  if (!(ring.host instanceof SshHost)) return null;
  const copy = localScratch();
  if (!(await ring.host.downloadText(ring.sumsPath(previous.id), copy))) return null;
  try {
    const ordered = await inRsyncOrder(copy, localScratch);
    if (ordered.file === copy) return { file: copy, server: ring.sumsPath(previous.id), cleanup: () => rm(copy, { force: true }) };
    await rm(copy, { force: true });
    return ordered;
  } catch (error) {
    await rm(copy, { force: true });
    throw error;
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
