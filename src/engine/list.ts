import type { RingStore } from '../platform/ringStore';
import { withRing } from '../platform/target/select';
import { stat } from 'node:fs/promises';
import { isErrno } from '../platform/fsutil';
import type { RingListing, SlotSummary } from '../rpc/protocol';
import { ShadowSlotsError } from '../core/errors';
import type { RingEntry } from '../core/ring';
import type { Journal } from '../core/journal';
import { readUnchanged } from './unchanged';
import { resumePurge } from './purge';

type Rotation = NonNullable<Journal['rotation']>;

/**
 * Lists a ring without changing it, except for one case: an interrupted rotation (a journal and
 * no live lock holder) is finished first, so what is listed is never a half-rotated ring.
 */
export async function listRing(target: string): Promise<RingListing> {
  return withRing(target, 'auto', (ring) => listOpenRing(target, ring));
}

async function listOpenRing(target: string, ring: RingStore): Promise<RingListing> {
  await requireTargetFolder(ring);
  const notes: string[] = [];
  // While another run is between two renames of its rotation the folders are in flux: list the
  // ring as the journal says it will be in a moment (no gap, no half-moved folder taken for a
  // seed slot) rather than as the folders happen to be.
  const { busy, rotation } = await finishInterruptedRotation(ring, notes);
  let entries;
  if (rotation) {
    entries = rotation.final.entries;
    notes.push(rotation.kind === 'delete' ? 'A slot is being deleted right now.' : 'A backup is rotating the ring right now.');
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
  return { target, slots, busy, notes, host: ring.host.name, unchanged: await readUnchanged(ring, entries.find((e) => e.number === 0)?.id) };
}

/**
 * Finishes a rotation a crashed run left in the journal (under the lock), so slot numbers mean
 * what the ring says. Returns whether another run holds the lock right now, and the rotation it
 * is in the middle of, if any.
 */
async function finishInterruptedRotation(ring: RingStore, notes: string[]): Promise<{ busy: boolean; rotation: Rotation | null }> {
  const holder = await ring.host.lockHolder(ring.paths.lockFile);
  const busy = holder !== null && holder.live;
  // The live run's journal may be mid-write or gone by now: then it is not rotating.
  if (busy) return { busy, rotation: (await ring.readJournal().catch(() => null))?.rotation ?? null };
  if (await ring.host.exists(ring.paths.journalFile)) {
    const journal = await ring.readJournal();
    if (journal.rotation) {
      const lock = await ring.host.acquireLock(ring.paths.lockFile, 'repair before reading');
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
  await requireTargetFolder(ring);
  if ((await finishInterruptedRotation(ring, [])).rotation) {
    throw new ShadowSlotsError('locked', 'A backup is renumbering the slots right now.', { hint: 'Try again in a moment.' });
  }
  return (await ring.readState()).state.entries;
}

/**
 * A missing target is far more often an unplugged or unmounted backup disk than a ring without
 * slots: saying "no slots yet" would tell the user the opposite of what happened.
 */
async function requireTargetFolder(ring: RingStore): Promise<void> {
  const target = ring.target;
  if (ring.host.name !== null) {
    // On a server: the same question asked there (a symlink to the folder is fine).
    const s = await ring.host.stat(target);
    if (s === null) {
      throw new ShadowSlotsError('preflight', `The target folder ${target} does not exist on ${ring.host.name}.`, {
        hint: 'Is the backup disk on the server mounted? A new ring\'s folder is made by its first backup (CLI: backup --create-target).',
      });
    }
    if (s.kind !== 'folder' && s.kind !== 'symlink') throw new ShadowSlotsError('preflight', `The target ${target} on ${ring.host.name} is not a folder.`, { hint: 'Give the folder that holds the slots 0, 1, 2…' });
    return;
  }
  const st = await stat(target).catch((error: unknown) => {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return null;
    throw error; // e.g. EACCES: the folder may well exist, and the error says why it cannot be read
  });
  if (st === null) {
    throw new ShadowSlotsError('preflight', `The target folder ${target} does not exist.`, {
      hint: 'Is the backup drive connected and mounted? Connect it and try again. A new ring\'s folder is made by its first backup (CLI: backup --create-target).',
    });
  }
  if (!st.isDirectory()) throw new ShadowSlotsError('preflight', `The target ${target} is not a folder.`, { hint: 'Give the folder that holds the slots 0, 1, 2…' });
}
