import * as vscode from 'vscode';
import type { Services } from '../services';
import { orderSlots } from './slotNodeData';
import { slotPickItems } from './pickItems';
import { toSlotItem, type SlotItem } from './slotItem';
import { slotUri } from './slotFileSystem';

/**
 * The complete slot a slot action acts on: the Slots view row it was invoked on, or (from the
 * palette) the backup the user picks by its time. Undefined when there is none or the pick is cancelled.
 */
export async function chosenSlot(services: Services, arg: unknown, placeHolder: string): Promise<SlotItem | undefined> {
  if (arg !== undefined) {
    const item = toSlotItem(arg, services.ring);
    if (!item || item.kind !== 'slot') throw new Error('Choose a backup in the Slots view.');
    return item;
  }
  const listing = services.ring.listing;
  const slots = listing ? orderSlots(listing).filter((s) => s.number !== null && s.state === 'complete') : [];
  if (!listing || slots.length === 0) {
    void vscode.window.showInformationMessage('There are no backups yet. Run "Shadow Slots: Back Up Now" first.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(slotPickItems(slots, Date.now()), { placeHolder });
  return picked ? toSlotItem(slotUri({ target: listing.target, slot: picked.slot.number!, relPath: '' }), services.ring) : undefined;
}

/** The id the user saw at that position: the engine refuses if a backup renumbered the slots since. */
export function slotRef(item: SlotItem): { target: string; slot: number; id?: string } {
  return { target: item.target, slot: item.slot, ...(item.summary ? { id: item.summary.id } : {}) };
}
