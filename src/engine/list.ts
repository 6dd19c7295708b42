import { readOwner, isStale } from '../platform/lock';
import { RingStore } from '../platform/ringStore';
import type { RingListing, SlotSummary } from '../rpc/protocol';
import { acquireLock } from '../platform/lock';
import { exists } from '../platform/fsutil';

/**
 * Lists a ring without changing it, except for one case: an interrupted rotation (a journal and
 * no live lock holder) is finished first, so what is listed is never a half-rotated ring.
 */
export async function listRing(target: string): Promise<RingListing> {
  const ring = new RingStore(target);
  const notes: string[] = [];
  const owner = await readOwner(ring.paths.lockFile);
  const busy = owner !== undefined && !(await isStale(owner));
  if (!busy && (await exists(ring.paths.journalFile))) {
    const journal = await ring.readJournal();
    if (journal.rotation) {
      const lock = await acquireLock(ring.paths.lockFile, 'list (repair)');
      try {
        notes.push(...(await ring.repair()));
      } finally {
        await lock.release();
      }
    }
  }
  const { state, adopted } = await ring.readState();
  if (adopted.length > 0) notes.push(`${adopted.length} numbered folder(s) were made without Shadow Slots; the next backup adopts them.`);
  const slots: SlotSummary[] = [];
  for (const entry of state.entries) {
    const manifest = await ring.readManifest(entry.id);
    slots.push({ number: entry.number, id: entry.id, state: 'complete', path: ring.slotPath(entry.number), manifest });
  }
  for (const id of await ring.incomingIds()) {
    const manifest = await ring.readManifest(id);
    const state = manifest?.state === 'partial' ? 'partial' : busy ? 'in-progress' : 'interrupted';
    slots.push({ number: null, id, state, path: ring.incomingPath(id), manifest });
  }
  return { target, slots, busy, notes };
}
