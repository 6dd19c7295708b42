import { ShadowSlotsError } from '../core/errors';
import type { RingIndex } from '../core/ringIndex';
import { changesAt, folderMarks, type PathChange, type SlotChanges } from '../core/slotHistory';
import { ringIndex } from './ringIndex';
import { validateRelativePath } from './restore';

const cache = new WeakMap<RingIndex, { generation: number; byPosition: Map<number, PathChange[] | null> }>();

/** A slot's changes, computed once per version of the index (each folder the tree opens asks again). */
function changesOf(index: RingIndex, position: number): PathChange[] | null {
  let c = cache.get(index);
  if (!c || c.generation !== index.generation) {
    c = { generation: index.generation, byPosition: new Map() };
    cache.set(index, c);
  }
  if (!c.byPosition.has(position)) c.byPosition.set(position, changesAt(index, position));
  return c.byPosition.get(position)!;
}

/**
 * What the backup of slot `slot` changed in `folder` ('' for its root), against the next older
 * slot, from the ring index: files added or changed, files deleted (with the size and time of the
 * version the older slot still has), and folders with changes below them.
 */
export async function slotChanges(target: string, slot: number, folder: string, signal?: AbortSignal): Promise<SlotChanges> {
  const parts = validateRelativePath(folder);
  if (!Number.isInteger(slot) || slot < 0) throw new ShadowSlotsError('invalid-input', `Slot ${JSON.stringify(slot)} is not a slot number.`);
  const view = await ringIndex(target, signal ? { signal } : {});
  const position = view.refs.findIndex((r) => r.number === slot);
  if (position < 0) throw new ShadowSlotsError('not-found', `Slot ${slot} does not exist in ${target}.`);
  const changes = changesOf(view.index, position);
  if (changes === null) return { comparedWith: null, marks: [], total: 0 };
  return { comparedWith: view.refs[position + 1]!, marks: folderMarks(changes, parts.join('/')), total: changes.length };
}
