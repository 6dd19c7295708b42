import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { parsePending, settleEntry, type HashedEntry } from '../core/slotRecord';
import { SUMS_HEADER } from '../core/sums';
import { readLineBatches } from './treeSums';
import { isErrno } from './fsutil';
import { yieldWhenDue } from './eventLoopTurns';

const CHUNK = 64 * 1024;
const NEWLINE = 10;

/** What the new checksum list and change log hold, as counted while they were written. */
export interface SlotRecordCounts {
  /** Regular files in the new list. */
  files: number;
  /** Files and symlinks in the new list. */
  entries: number;
  created: number;
  changed: number;
  /** Files and symlinks of the previous slot that are gone; null without a previous list. */
  deleted: number | null;
  hashed: number;
  carried: number;
  /** The new list's size in bytes (what a patch must make: see playDraft's sumsAs). */
  sumsBytes: number;
}

/**
 * The previous checksum list read line by line, synchronously, for SlotRecorder, which is fed
 * from rsync's output callback and cannot wait. Small reads on purpose: a read's lines live until
 * the merge has passed them; from a 256 KB read (1,400 lines) they outlived two scavenges, went to
 * V8's old generation and, a whole list of them later, took the engine's peak memory from 57 to
 * 71 MB at 200,000 files; 16 KB of lines die young.
 */
const SYNC_CHUNK = 16 * 1024;

export class SyncLineReader {
  private fd: number | null;
  private readonly buffer = Buffer.allocUnsafe(SYNC_CHUNK);
  private readonly decoder = new StringDecoder('utf8');
  private lines: string[] = [];
  private index = 0;
  private rest = '';
  private done = false;

  constructor(file: string) {
    try {
      this.fd = openSync(file, 'r');
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
      this.fd = null;
      this.done = true;
    }
  }

  next(): string | undefined {
    while (this.index >= this.lines.length) {
      if (this.done) return undefined;
      this.fill();
    }
    return this.lines[this.index++];
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.done = true;
  }

  private fill(): void {
    const n = readSync(this.fd!, this.buffer, 0, SYNC_CHUNK, null);
    const text = this.rest + (n > 0 ? this.decoder.write(this.buffer.subarray(0, n)) : this.decoder.end());
    this.lines = text.split('\n');
    this.index = 0;
    this.rest = n > 0 ? this.lines.pop()! : '';
    if (n === 0) {
      if (this.lines.length > 0 && this.lines[this.lines.length - 1] === '') this.lines.pop();
      this.close();
    }
  }
}

/**
 * The entries a draft will ask `hashEntry` for (its `?` lines), in the order it asks, `size` at a
 * time: a ring on a server hashes each batch in a few commands instead of one round trip per entry,
 * and a first backup of a big tree is never held whole.
 */
export async function* pendingBatches(draft: string, size: number): AsyncGenerator<Map<string, 'file' | 'symlink'>> {
  let batch = new Map<string, 'file' | 'symlink'>();
  for await (const lines of readLineBatches(draft)) {
    for (const line of lines) {
      if (line.charCodeAt(0) !== 63 /* ? */) continue;
      const entry = parsePending(line);
      batch.set(entry.path, entry.kind);
      if (batch.size >= size) {
        yield batch;
        batch = new Map();
      }
    }
  }
  if (batch.size > 0) yield batch;
}

/**
 * Plays a SlotRecorder draft (see core/slotRecord.ts) into the new checksum list (format 2) and
 * change log: runs of previous lines are copied as bytes, without decoding them; entries to hash
 * are hashed by `hashEntry`. Its cost grows with the change, plus one copy of the previous list
 * (64 KB at a time).
 * Durable (fsync) before returning: a manifest will name the list.
 *
 * With `sumsAs: 'patch'`, `sumsFile` receives instead how to make the new list from the previous
 * one where a copy of it already is (a ring's server: remoteSums.ts), so that only the new lines
 * travel: `l LINE` (this line), `c N` (the previous list's next N lines), `s N` (skip them).
 */
export async function playDraft(options: {
  draft: string;
  /** The previous checksum list the draft was merged with; null when there was none. */
  previousSums: string | null;
  sumsFile: string;
  sumsAs?: 'list' | 'patch';
  changeLog: string;
  hashEntry(path: string, kind: 'file' | 'symlink'): Promise<HashedEntry | null>;
}): Promise<SlotRecordCounts> {
  const previousListExists = options.previousSums !== null;
  const counts: SlotRecordCounts = { files: 0, entries: 0, created: 0, changed: 0, deleted: previousListExists ? 0 : null, hashed: 0, carried: 0, sumsBytes: 0 };
  const previous = options.previousSums ? new ByteLines(options.previousSums) : null;
  let sums: SumsOut | null = null;
  let changes: ByteWriter | null = null;
  let ok = false;
  try {
    sums = options.sumsAs === 'patch' ? new PatchOut(options.sumsFile) : new ListOut(options.sumsFile);
    changes = new ByteWriter(options.changeLog);
    sums.text(`${SUMS_HEADER}\n`);
    const log = changes;
    const change = (line: string | null): void => {
      if (line === null) return;
      if (line.startsWith('+ ')) { if (!line.endsWith('/"\n')) counts.created++; }
      else if (line.startsWith('~ ')) counts.changed++;
      else if (line.startsWith('- ')) counts.deleted = (counts.deleted ?? 0) + 1;
      log.text(line);
    };
    for await (const lines of readLineBatches(options.draft)) {
      for (const line of lines) {
        const op = line.charCodeAt(0);
        if (op === 99 /* c */) {
          const carried = await sums.carry(previous!, Number(line.slice(2)));
          counts.carried += carried.lines;
          counts.entries += carried.lines;
          counts.files += carried.lines - carried.symlinks;
        } else if (op === 115 /* s */) {
          sums.skip(previous!, Number(line.slice(2)));
        } else if (op === 45 /* - */) {
          sums.skip(previous!, 1);
          change(`${line}\n`);
        } else if (op === 61 /* = */) {
          change(`${line.slice(2)}\n`);
        } else if (op === 63 /* ? */) {
          const pending = parsePending(line);
          const before = pending.hasPrevious ? sums.take(previous!) : null;
          const hashed = await options.hashEntry(pending.path, pending.kind);
          const settled = settleEntry(pending, before, hashed, previousListExists);
          if (settled.sum !== null) {
            counts.hashed++;
            counts.entries++;
            if (pending.kind === 'file') counts.files++;
            sums.text(settled.sum);
          }
          change(settled.change);
        } else if (line !== '') {
          throw new Error(`Unknown line in a checksum draft: ${JSON.stringify(line.slice(0, 80))}`);
        }
      }
    }
    sums.close({ sync: true });
    changes.close({ sync: false });
    ok = true;
    counts.sumsBytes = sums.bytes;
    return counts;
  } finally {
    if (!ok) {
      try { sums?.close({ sync: false }); } catch { /* the error that got us here matters */ }
      try { changes?.close({ sync: false }); } catch { /* as above */ }
    }
    previous?.close();
  }
}

/** Where playDraft writes the new list: the list itself, or a patch that makes it (see playDraft). */
interface SumsOut {
  /** Bytes of the new list so far. */
  readonly bytes: number;
  /** A line of the new list, with its newline. */
  text(line: string): void;
  /** The previous list's next `n` lines, unchanged. */
  carry(previous: ByteLines, n: number): Promise<{ lines: number; symlinks: number }>;
  /** Passes over the previous list's next `n` lines. */
  skip(previous: ByteLines, n: number): void;
  /** The previous list's next line, which the new list does not keep as it is. */
  take(previous: ByteLines): string | null;
  close(options: { sync: boolean }): void;
}

class ListOut implements SumsOut {
  bytes = 0;
  private readonly out: ByteWriter;
  constructor(file: string) { this.out = new ByteWriter(file); }
  text(line: string): void {
    const data = Buffer.from(line, 'utf8');
    this.bytes += data.length;
    this.out.bytes(data);
  }
  carry(previous: ByteLines, n: number): Promise<{ lines: number; symlinks: number }> {
    return previous.copy(n, { bytes: (data) => { this.bytes += data.length; this.out.bytes(data); } });
  }
  skip(previous: ByteLines, n: number): void { previous.skip(n); }
  take(previous: ByteLines): string | null { return previous.take(); }
  close(options: { sync: boolean }): void { this.out.close(options); }
}

class PatchOut implements SumsOut {
  bytes = 0;
  private readonly out: ByteWriter;
  constructor(file: string) { this.out = new ByteWriter(file); }
  text(line: string): void {
    this.bytes += Buffer.byteLength(line, 'utf8');
    this.out.text(`l ${line}`);
  }
  async carry(previous: ByteLines, n: number): Promise<{ lines: number; symlinks: number }> {
    const carried = await previous.copy(n, { bytes: (data) => { this.bytes += data.length; } });
    // What the list here holds, which is what the copy there must hold (checked by its size).
    if (carried.lines > 0) this.out.text(`c ${carried.lines}\n`);
    return carried;
  }
  skip(previous: ByteLines, n: number): void {
    const skipped = previous.skip(n);
    if (skipped > 0) this.out.text(`s ${skipped}\n`);
  }
  take(previous: ByteLines): string | null {
    const line = previous.take();
    if (line !== null) this.out.text('s 1\n');
    return line;
  }
  close(options: { sync: boolean }): void { this.out.close(options); }
}

/**
 * A file read as lines of bytes, for copying runs of lines without decoding them. Synchronous
 * reads and writes (see eventLoopTurns.ts): through the thread pool, each 64 KB round trip cost
 * time, and 2.5 MB of peak memory for copying a 36 MB list.
 */
class ByteLines {
  private buffer = Buffer.allocUnsafe(CHUNK);
  private start = 0;
  private end = 0;
  private eof = false;
  private fd: number | null;

  constructor(file: string) {
    this.fd = openSync(file, 'r');
  }

  /** Copies the next `n` lines to `out`; returns how many there were and how many were symlinks. */
  async copy(n: number, out: { bytes(data: Buffer): void }): Promise<{ lines: number; symlinks: number }> {
    let lines = 0;
    let symlinks = 0;
    while (lines < n) {
      let at = this.start;
      while (lines < n) {
        const nl = this.buffer.indexOf(NEWLINE, at);
        if (nl === -1 || nl >= this.end) break;
        if (this.buffer[at] === 108 /* l: "link:" */) symlinks++;
        lines++;
        at = nl + 1;
      }
      if (at > this.start) out.bytes(this.buffer.subarray(this.start, at));
      this.start = at;
      if (lines < n) {
        if (!this.refill()) break;
        await yieldWhenDue();
      }
    }
    return { lines, symlinks };
  }

  /** Passes over the next `n` lines; returns how many there were. */
  skip(n: number): number {
    for (let i = 0; i < n; i++) if (this.take() === null) return i;
    return n;
  }

  /** The next line as text (without its newline), or null at the end. */
  take(): string | null {
    for (;;) {
      const nl = this.buffer.indexOf(NEWLINE, this.start);
      if (nl !== -1 && nl < this.end) {
        const line = this.buffer.toString('utf8', this.start, nl);
        this.start = nl + 1;
        return line;
      }
      if (!this.refill()) {
        if (this.start >= this.end) return null;
        const line = this.buffer.toString('utf8', this.start, this.end);
        this.start = this.end;
        return line;
      }
    }
  }

  /** Moves the unread bytes to the front and reads more; false when nothing more could be read. */
  private refill(): boolean {
    if (this.eof) return false;
    this.buffer.copy(this.buffer, 0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
    // A line longer than the buffer (never written by us, but the file is not trusted): grow.
    if (this.end === this.buffer.length) {
      const bigger = Buffer.allocUnsafe(this.buffer.length * 2);
      this.buffer.copy(bigger, 0, 0, this.end);
      this.buffer = bigger;
    }
    const bytesRead = readSync(this.fd!, this.buffer, this.end, this.buffer.length - this.end, null);
    if (bytesRead === 0) {
      this.eof = true;
      // A last line without a newline still counts as a line.
      if (this.end > 0 && this.buffer[this.end - 1] !== NEWLINE) {
        this.buffer[this.end] = NEWLINE;
        this.end++;
        return true;
      }
      return false;
    }
    this.end += bytesRead;
    return true;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Writes bytes and short texts to a file in 64 KB writes. */
class ByteWriter {
  private readonly buffer = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private fd: number | null;

  constructor(file: string) {
    this.fd = openSync(file, 'w', 0o644);
  }

  bytes(data: Buffer): void {
    if (this.used + data.length > this.buffer.length) this.flush();
    if (data.length >= this.buffer.length) {
      writeAll(this.fd!, data);
      return;
    }
    data.copy(this.buffer, this.used);
    this.used += data.length;
  }

  text(text: string): void {
    this.bytes(Buffer.from(text, 'utf8'));
  }

  close(options: { sync: boolean }): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      if (this.used > 0) writeAll(fd, this.buffer.subarray(0, this.used));
      if (options.sync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private flush(): void {
    if (this.used === 0) return;
    writeAll(this.fd!, this.buffer.subarray(0, this.used));
    this.used = 0;
  }
}

function writeAll(fd: number, data: Buffer): void {
  for (let at = 0; at < data.length;) at += writeSync(fd, data, at, data.length - at);
}
