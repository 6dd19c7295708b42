import { runPurge } from './purge';
import { plural } from '../core/format';
import type { DeleteSlotResult } from '../rpc/protocol';
import { faultPoint } from '../platform/faults';
import { changeRing, describeSlot, type SlotRef } from './ringChange';

export interface DeleteSlotOptions extends SlotRef {
  /**
   * Called the moment the ring is consistent without the slot (listed without it, numbers closed
   * up), before its tree is deleted: the editor drops the row then, not after a slow delete.
   */
  onRingChanged?: () => void;
}

/**
 * Deletes one complete slot. The ring's contract holds at every instant: the deletion is
 * journaled as a drop and the moves that close the gap (core/ring.ts planRemoval), carried out by
 * the ring's storage kind (a rename, a btrfs subvolume or a ZFS clone remounted), so a crash is
 * finished by the next run or `list`; the slot's tree is deleted only after that, off the path
 * that makes the ring consistent, as a backup deletes the slot it drops.
 */
export async function deleteSlot(options: DeleteSlotOptions): Promise<DeleteSlotResult> {
  return changeRing(options, `delete slot ${options.slot}`, async (ring, slot) => {
    const name = describeSlot(slot);
    const sendChain = slot.entry.number === 0 && ring.storage.capabilities.kind === 'btrfs' && (await ring.host.exists(ring.host.join(ring.paths.meta, 'send.json')));
    const plan = await ring.removeSlot(slot.entry.number, slot.entry.id);
    options.onRingChanged?.();
    faultPoint('delete:purge');
    // Under the purge's own lock on this machine: a detached purge may be deleting the trash already.
    const purged = ring.host.name === null ? await runPurge(ring) : { ran: true, ...(await ring.purgeTrash()) };
    const failed = purged.failed;
    const notes: string[] = [];
    if (!purged.ran) notes.push('Its files are being deleted by the purge already running for this ring.');
    if (plan.steps.length > 1) notes.push(`The ${plural(plan.steps.length - 1, 'slot')} after it moved down by one: the ring is numbered 0…${plan.final.entries.length - 1} again.`);
    if (sendChain) notes.push('Slot 0 was the copy the next btrfs send would have built on: the next backups copy with rsync (send/receive starts again with a new ring).');
    if (slot.manifest === null) notes.push('The slot had no manifest (made without Shadow Slots).');
    return {
      deleted: { number: slot.entry.number, id: slot.entry.id, manifest: slot.manifest },
      description: name,
      remaining: plan.final.entries.length,
      treeDeleted: purged.ran && failed.length === 0,
      warnings: failed.length > 0 ? [`The slot is out of the ring, but its folder in ${ring.paths.trash} could not be deleted yet (${failed.join('; ')}); the next backup tries again.`] : [],
      notes,
    };
  });
}
