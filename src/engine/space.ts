import type { SlotSpace } from '../core/target';
import { withRing } from '../platform/target/select';
import { settledEntries } from './list';

/**
 * Space per complete slot of the ring at `target`, as its storage kind measures it (hard-link
 * counts, btrfs extents, ZFS accounting). Reads every slot whose figures are not cached yet.
 */
export async function ringSpace(target: string): Promise<SlotSpace[]> {
  return withRing(target, 'auto', async (ring) => ring.space(await settledEntries(ring)));
}
