import { classifyRsyncExit, isNoSpace, LineSplitter, ownCopy, parseItemizedLine, parseProgress2, parseStats, problemPaths, type RsyncClassification, type RsyncStats } from '../core/rsyncOutput';
import type { ProgressEvent } from '../core/progress';
import { ProcessError, run } from '../platform/runner';
import { BatchedWriter } from '../platform/batchedWriter';
import { COPY_MARKER_VARIABLE } from '../platform/orphans';

export interface RsyncRunResult {
  exitCode: number | null;
  classification: RsyncClassification;
  stats: RsyncStats;
  itemized: { created: number; changed: number; deleted: number };
  noSpace: boolean;
  /** The last progress rsync printed: bytes written so far and its percent estimate. */
  lastProgress: { bytes: number; percent: number } | null;
  vanished: string[];
  unreadable: string[];
  stderrTail: string;
}

/** Receives rsync's output about every entry of the new slot (see runRsync); must not throw. */
export interface ListSink {
  line(text: string): void;
  /** rsync has ended (whatever its outcome): no more lines. */
  end(): Promise<void>;
}

/**
 * Runs rsync and streams its output: progress lines become events, itemized lines go straight to
 * the slot's change log file (`+ path`, `~ path`, `- path`), and only the small --stats block is
 * kept in memory — the engine's memory does not grow with the number of files.
 *
 * With `list`, rsync's output about every entry of the new slot (`-ii` lists unchanged ones too,
 * see buildRsyncArgv's listUnchanged) is handed over line by line as rsync prints it: files,
 * symlinks and the like, and the folders rsync created (finalize.ts's SlotRecording).
 */
export async function runRsync(rsyncPath: string, argv: string[], changeLogFile: string, options: {
  list?: ListSink | null;
  signal?: AbortSignal;
  cwd?: string;
  /** Put in rsync's environment, so that an rsync outliving its engine can be found (orphans.ts). */
  marker?: string;
  onSpawn?: (pid: number) => Promise<void>;
  onProgress?: (e: Omit<ProgressEvent, 'phase' | 'message'>) => void;
}): Promise<RsyncRunResult> {
  const log = await BatchedWriter.open(changeLogFile, 'write');
  const list = options.list ?? null;
  const splitter = new LineSplitter();
  const itemized = { created: 0, changed: 0, deleted: 0 };
  let statsText = '';
  let inStats = false;
  let lastProgressAt = 0;
  let lastProgress: { bytes: number; percent: number } | null = null;
  // rsync prints a progress line per file: only the newest is kept, and parsed when an event is due.
  let pendingProgress: string | null = null;
  let files = 0;
  const progress = (line: string): boolean => {
    const p = parseProgress2(line);
    if (!p) return false;
    lastProgress = { bytes: p.bytes, percent: p.percent };
    lastProgressAt = Date.now();
    options.onProgress?.({ percent: p.percent, bytes: p.bytes, files: p.transfers ?? files, rate: p.rate, etaSeconds: p.etaSeconds });
    return true;
  };
  const onLine = (line: string, terminator: '\n' | '\r') => {
    if ((terminator === '\r' || line.startsWith(' ')) && line.includes('%')) {
      if (Date.now() - lastProgressAt >= 200 || line.includes(' 100%')) {
        pendingProgress = null;
        if (progress(line)) return;
      } else {
        pendingProgress = ownCopy(line);
        return;
      }
    }
    if (inStats || line.startsWith('Number of files:')) {
      inStats = true;
      if (statsText.length < 16384) statsText += line + '\n';
      return;
    }
    // Entries rsync linked or kept (most of a slot, one line each with -ii) change nothing in the
    // log or the counts: only handed to the list, without parsing.
    const first = line.charCodeAt(0);
    if ((first === 104 /* h */ || first === 46 /* . */) && line.charCodeAt(11) === 32) {
      if (line.charCodeAt(1) === 102 /* f */) files++;
      if (line.charCodeAt(1) !== 100 /* d */) list?.line(line);
      return;
    }
    const item = parseItemizedLine(line);
    if (!item) return;
    let mark: string | undefined;
    if (item.change === 'created') { itemized.created++; mark = '+'; }
    else if (item.change === 'changed') { itemized.changed++; mark = '~'; }
    else if (item.change === 'deleted') { itemized.deleted++; mark = '-'; }
    if (item.kind === 'file') files++;
    if (mark && !(item.kind === 'dir' && item.change !== 'created')) log.append(`${mark} ${JSON.stringify(item.path)}\n`);
    if (list && item.change !== 'deleted' && (item.kind !== 'dir' || item.change === 'created')) list.line(line);
  };
  let exitCode: number | null = null;
  let signalName: string | null = null;
  let stderr = '';
  try {
    const result = await run(rsyncPath, argv, {
      onStdout: (chunk) => splitter.push(chunk, onLine),
      // In the C locale rsync escapes every byte above 127 in names (`\#ooo`, decoded again by
      // decodeRsyncName), so its output is ASCII. Raw UTF-8 with a single character beyond
      // Latin-1 (データ) made each 64 KB chunk a two-byte string of 128 KB, which V8 keeps in its
      // large-object space until a full collection: +7 MB peak memory at 200,000 files.
      env: { LC_ALL: 'C', ...(options.marker !== undefined ? { [COPY_MARKER_VARIABLE]: options.marker } : {}) },
      okExitCodes: Array.from({ length: 256 }, (_, i) => i),
      errorCode: 'rsync',
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.onSpawn ? { onSpawn: options.onSpawn } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    exitCode = result.exitCode;
    stderr = result.stderr;
  } catch (error) {
    if (error instanceof ProcessError) {
      exitCode = error.exitCode;
      stderr = error.stderrTail;
      signalName = /killed by (\w+)/.exec(error.message)?.[1] ?? (exitCode === null ? 'a signal' : null);
      if (error.code === 'cancelled') { await closeLogs(log, list); throw error; }
    } else {
      await closeLogs(log, list);
      throw error;
    }
  }
  splitter.end(onLine);
  if (pendingProgress !== null) progress(pendingProgress);
  await closeLog(log);
  // The sink keeps its own failure (it is only a record): rsync's outcome stays what it was.
  await list?.end().catch(() => undefined);
  const { vanished, unreadable } = problemPaths(stderr);
  return {
    exitCode,
    classification: classifyRsyncExit(exitCode, signalName),
    stats: parseStats(statsText),
    itemized,
    noSpace: isNoSpace(stderr),
    lastProgress,
    vanished: vanished.slice(0, 200),
    unreadable: unreadable.slice(0, 200),
    stderrTail: stderr.slice(-4000),
  };
}

async function closeLogs(log: BatchedWriter, list: ListSink | null): Promise<void> {
  await closeLog(log);
  await list?.end().catch(() => undefined);
}

/**
 * The change log is a record, not the backup: a write that failed (the target filled up) must not
 * replace rsync's own outcome, which says what happened to the copy (e.g. "the target is full").
 */
async function closeLog(log: BatchedWriter): Promise<void> {
  await log.close().catch(() => undefined);
}
