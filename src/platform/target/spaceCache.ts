import type { RingEntry } from '../../core/ring';
import type { SlotSpace } from '../../core/target';
import type { SpaceCache, StorageContext } from './storage';

/**
 * A slot shares files (or blocks) only with the slots it was built from or that were built from
 * it, and such sharing is always a contiguous run of slots: so what deleting slot N would free
 * changes only when N's neighbours change. The figures are cached under the slot and its two
 * neighbours; after a backup only the new slot, its predecessor and the new oldest are measured.
 */
export async function cachedSpace(ctx: StorageContext, entries: RingEntry[], cache: SpaceCache, measure: (path: string, id: string) => Promise<SlotSpace>): Promise<SlotSpace[]> {
  const sorted = [...entries].sort((a, b) => a.number - b.number);
  const result: SlotSpace[] = [];
  for (const [i, entry] of sorted.entries()) {
    const key = `${entry.id}~${sorted[i - 1]?.id ?? '-'}~${sorted[i + 1]?.id ?? '-'}`;
    let space = await cache.get(key);
    if (!space) {
      try {
        space = await measure(ctx.slotPath(entry.number), entry.id);
        await cache.put(key, space);
      } catch (error) {
        space = { id: entry.id, exclusiveBytes: null, sharedBytes: null, method: 'not measured', note: (error as Error).message };
      }
    }
    result.push(space);
  }
  return result;
}
