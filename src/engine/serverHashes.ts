import { ShadowSlotsError } from '../core/errors';
import type { HashedEntry } from '../core/slotRecord';
import { pendingBatches } from '../platform/slotDraft';
import { hashRemoteEntries } from '../platform/target/remoteSums';
import type { SshHost } from '../platform/target/sshHost';

/**
 * Entries hashed together on a server: enough that a 1 % change of a big tree is a few commands,
 * few enough that a first backup of a million files never holds all their figures at once.
 */
export const SERVER_HASH_BATCH = 5000;

/**
 * hashEntry for playDraft on a server. The draft asks in the order of its `?` lines; when it asks
 * for an entry of the next batch, that whole batch is hashed there at once. A second play of the
 * draft (the whole list sent after a refused patch) starts the batches over.
 */
export class ServerHashes {
  private batches: AsyncGenerator<Map<string, 'file' | 'symlink'>>;
  private asked = new Map<string, 'file' | 'symlink'>();
  private hashed = new Map<string, HashedEntry>();

  constructor(private readonly host: SshHost, private readonly slotRoot: string, private readonly draft: string, private readonly signal?: AbortSignal, private readonly batchSize = SERVER_HASH_BATCH) {
    this.batches = pendingBatches(draft, batchSize);
  }

  readonly hashEntry = async (path: string): Promise<HashedEntry | null> => {
    if (this.asked.has(path)) return this.found(path);
    for (let pass = 0; pass < 2; pass++) {
      for (let next = await this.batches.next(); !next.done; next = await this.batches.next()) {
        if (!next.value.has(path)) continue;
        this.asked = next.value;
        this.hashed = await hashRemoteEntries(this.host, this.slotRoot, this.asked, this.signal);
        return this.found(path);
      }
      this.batches = pendingBatches(this.draft, this.batchSize);
    }
    throw new ShadowSlotsError('process', `The slot's record asked for ${JSON.stringify(path)}, which is not among its entries to hash.`);
  };

  /** hashRemoteEntries keeps only entries of the kind asked for: a missing one is gone. */
  private found(path: string): HashedEntry | null {
    return this.hashed.get(path) ?? null;
  }

  /** Closes the draft (a batch read ahead holds it open). */
  async close(): Promise<void> {
    await this.batches.return(undefined);
  }
}
