import { ShadowSlotsError } from '../core/errors';
import type { SlotManifest } from '../core/manifest';
import type { RingEntry } from '../core/ring';
import type { RingStore } from '../platform/ringStore';
import { withRing } from '../platform/target/select';
import { settledEntries } from './list';

/** A complete slot named by the user: its number now, and (from the editor, or `--id`) the id they saw there. */
export interface SlotRef {
  target: string;
  slot: number;
  /** When given, the slot must still be this one: numbers move with every backup. */
  id?: string | undefined;
}

/** The slot a command acts on, with its manifest (null for a slot found without metadata). */
export interface ChosenSlot {
  entry: RingEntry;
  manifest: SlotManifest | null;
}

/** Refuses anything that is not a slot number before the ring is even opened. */
export function checkSlotNumber(slot: unknown): number {
  if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0) throw new ShadowSlotsError('invalid-input', `Slot ${JSON.stringify(slot)} is not a slot number.`, { hint: 'Slots are numbered 0 (the newest), 1, 2…; `list` shows them.' });
  return slot;
}

/** The complete slot `ref` names in `entries`, or a not-found error that says what the ring holds now. */
export function findSlot(entries: RingEntry[], ref: SlotRef): RingEntry {
  const entry = entries.find((e) => e.number === ref.slot);
  if (entry && (ref.id === undefined || entry.id === ref.id)) return entry;
  const moved = ref.id === undefined ? undefined : entries.find((e) => e.id === ref.id);
  const range = entries.length === 0 ? 'no slots' : entries.length === 1 ? 'only slot 0' : `slots 0…${entries.length - 1}`;
  if (entry) {
    throw new ShadowSlotsError('not-found', `Slot ${ref.slot} is no longer the slot ${ref.id}${moved ? `: a backup ran since, and it is slot ${moved.number} now` : ', which is not in the ring any more'}. Nothing was changed.`, {
      hint: 'List the ring again and choose the slot by its time or id.',
    });
  }
  throw new ShadowSlotsError('not-found', `There is no slot ${ref.slot} in ${ref.target}${moved ? ` (the slot ${ref.id} is slot ${moved.number} now)` : ''}. Nothing was changed.`, {
    hint: `The ring holds ${range}; \`list\` shows them with their times.`,
  });
}

/**
 * Runs `fn` with the ring at `ref.target` under its lock, after the same repair a backup does
 * first (an interrupted rotation or deletion finished, a seed ring adopted), with the slot `ref`
 * names. A ring another run holds is refused with who holds it; nothing is changed then.
 */
export async function changeRing<T>(ref: SlotRef, command: string, fn: (ring: RingStore, slot: ChosenSlot) => Promise<T>): Promise<T> {
  checkSlotNumber(ref.slot);
  return withRing(ref.target, 'auto', async (ring) => {
    // Also says "is the backup drive connected?" for a target that does not exist.
    await settledEntries(ring);
    const lock = await ring.host.acquireLock(ring.paths.lockFile, command);
    try {
      await ring.repair();
      const entry = findSlot((await ring.readState()).state.entries, ref);
      return await fn(ring, { entry, manifest: await ring.readManifest(entry.id) });
    } finally {
      await lock.release();
    }
  });
}

/** When a slot was taken, as the CLI prints times: `2026-11-26 07:12:00 UTC`. */
export function slotTimeText(m: SlotManifest): string {
  return (m.endedAt ?? m.startedAt).replace('T', ' ').replace(/(:\d\d)(\.\d+)?Z$/, '$1 UTC');
}

/** How messages name a slot: by its time (numbers move), its position, and its label. */
export function describeSlot(slot: ChosenSlot): string {
  const m = slot.manifest;
  return `slot ${slot.entry.number}${m ? ` (${slotTimeText(m)}${m.label ? `, "${m.label}"` : ''})` : ''}`;
}
