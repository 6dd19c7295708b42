import { open, type FileHandle } from 'node:fs/promises';

const BATCH_CHARS = 64 * 1024;

/**
 * Writes many short lines to one file in 64 KB batches (a write per line was most of the garbage
 * and ~20,000 write(2) calls per 20,000-file slot). A failed write (a full disk) is kept and
 * thrown by the next `write` that has to wait and by `close`, never raised as an uncaught 'error'
 * event that would kill the engine after its slot is already complete.
 */
export class BatchedWriter {
  private batch = '';
  private pending: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private inFlight = 0;

  private constructor(private readonly handle: FileHandle) {}

  static async open(file: string, mode: 'write' | 'append'): Promise<BatchedWriter> {
    return new BatchedWriter(await open(file, mode === 'append' ? 'a' : 'w', 0o644));
  }

  /**
   * Queues `text`. Returns a promise only when the caller should wait (two batches already on
   * their way to the disk), so a fast producer cannot fill memory; otherwise undefined, which
   * costs a caller that does `await writer.write(…)` nothing. Throws a write that failed.
   */
  write(text: string): Promise<void> | undefined {
    if (this.failure !== null) throw this.failure;
    this.append(text);
    return this.inFlight >= 2 ? this.pending : undefined;
  }

  /**
   * Queues `text` without ever waiting or throwing, for callers that cannot wait (a child's output
   * callback); a failed write is thrown by `close`.
   */
  append(text: string): void {
    if (this.failure !== null) return;
    this.batch += text;
    if (this.batch.length >= BATCH_CHARS) this.flush();
  }

  /** Writes what is left, optionally fsyncs (so a record naming this file never outlives it), closes. */
  async close(options: { sync?: boolean } = {}): Promise<void> {
    try {
      this.flush();
      await this.pending;
      if (this.failure !== null) throw this.failure;
      if (options.sync) await this.handle.sync();
    } finally {
      await this.handle.close();
    }
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const text = this.batch;
    this.batch = '';
    this.inFlight++;
    this.pending = this.pending.then(async () => {
      // writeFile, not write: it loops until every byte is written.
      if (this.failure === null) await this.handle.writeFile(text);
    }).catch((error: unknown) => {
      this.failure ??= error;
    }).finally(() => {
      this.inFlight--;
    });
  }
}
