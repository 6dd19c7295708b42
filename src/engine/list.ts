import { acquireLock, isStale, readOwner } from '../platform/lock';
import { RingStore } from '../platform/ringStore';
import type { RingListing, SlotSummary } from '../rpc/protocol';
import { exists } from '../platform/fsutil';
import { ShadowSlotsError } from '../core/errors';
import type { RingEntry } from '../core/ring';
import type { Journal } from '../core/journal';
import { resumePurge } from './purge';

type Rotation = NonNullable<Journal['rotation']>;

/**
 * Lists a ring without changing it, except for one case: an interrupted rotation (a journal and
 * no live lock holder) is finished first, so what is listed is never a half-rotated ring.
 */
export async function listRing(target: string): Promise<RingListing> {
  const ring = new RingStore(target);
  const notes: string[] = [];
  // While another run is between two renames of its rotation the folders are in flux: list the
  // ring as the journal says it will be in a moment (no gap, no half-moved folder taken for a
  // seed slot) rather than as the folders happen to be.
  const { busy, rotation } = await finishInterruptedRotation(ring, notes);
  let entries;
  if (rotation) {
    entries = rotation.final.entries;
    notes.push('A backup is rotating the ring right now.');
  } else {
    const { state, adopted, foreign } = await ring.readState();
    if (adopted.length > 0) notes.push(`${adopted.length} numbered folder(s) were made without Shadow Slots; the next backup adopts them.`);
    if (foreign.length > 0) notes.push(`Folder(s) ${foreign.join(', ')} in the target are not slots of this ring; the next backup refuses to run until they are moved out.`);
    entries = state.entries;
  }
  const inRing = new Set(entries.map((e) => e.id));
  const slots: SlotSummary[] = [];
  for (const entry of entries) {
    const manifest = await ring.readManifest(entry.id);
    slots.push({ number: entry.number, id: entry.id, state: 'complete', path: ring.slotPath(entry.number), manifest });
  }
  for (const id of await ring.incomingIds()) {
    if (inRing.has(id)) continue; // being promoted to slot 0 by the rotation in progress
    const manifest = await ring.readManifest(id);
    const state = manifest?.state === 'partial' ? 'partial' : busy ? 'in-progress' : 'interrupted';
    slots.push({ number: null, id, state, path: ring.incomingPath(id), manifest });
  }
  await resumePurge(ring);
  return { target, slots, busy, notes };
}

/**
 * Finishes a rotation a crashed run left in the journal (under the lock), so slot numbers mean
 * what the ring says. Returns whether another run holds the lock right now, and the rotation it
 * is in the middle of, if any.
 */
async function finishInterruptedRotation(ring: RingStore, notes: string[]): Promise<{ busy: boolean; rotation: Rotation | null }> {
  const owner = await readOwner(ring.paths.lockFile);
  const busy = owner !== undefined && !(await isStale(owner));
  // The live run's journal may be mid-write or gone by now: then it is not rotating.
  if (busy) return { busy, rotation: (await ring.readJournal().catch(() => null))?.rotation ?? null };
  if (await exists(ring.paths.journalFile)) {
    const journal = await ring.readJournal();
    if (journal.rotation) {
      const lock = await acquireLock(ring.paths.lockFile, 'repair before reading');
      try {
        notes.push(...(await ring.repair()));
      } finally {
        await lock.release();
      }
    }
  }
  return { busy, rotation: null };
}

/**
 * The ring's slots for verify and restore: after a crash mid-rotation the folders are only
 * renumbered once the journal is replayed, and reading them before would hand out one slot's
 * files under another slot's number and date.
 */
export async function settledEntries(ring: RingStore): Promise<RingEntry[]> {
  if ((await finishInterruptedRotation(ring, [])).rotation) {
    throw new ShadowSlotsError('locked', 'A backup is renumbering the slots right now.', { hint: 'Try again in a moment.' });
  }
  return (await ring.readState()).state.entries;
}
