import type { SlotSummary } from '../../rpc/protocol';
import { formatAge, formatBytes, plural } from '../../core/format';
import { formatLocalTime, listSome, slotTime } from './slotNodeData';

/**
 * Quick-pick entries of the slot commands, pure so their words are unit-tested: slots are named by
 * when they were taken (numbers move with every backup and are shown only as the position).
 */
export interface PickEntry { label: string; description: string; detail?: string }

/** One entry per slot: its time as the label; position, age and state after it. */
export function slotPickItems(slots: SlotSummary[], now: number): Array<PickEntry & { slot: SlotSummary }> {
  return slots.map((s) => {
    const taken = slotTime(s);
    return {
      label: `$(archive) ${taken ? formatLocalTime(taken) : `slot ${s.number}`}`,
      description: `slot ${s.number}${taken ? ` \u00b7 ${formatAge(now - taken.getTime())}` : ''}${s.state === 'complete' ? '' : ` \u00b7 ${s.state}`}`,
      slot: s,
    };
  });
}

/**
 * An entry of Compare with Slot…: the label is the backup's time (not the file's, which read as
 * the slot's), the file's own modification time follows in the detail, labelled as such.
 */
export function comparePickItem(c: { summary: SlotSummary; slot: number; size: number; mtimeMs: number; alsoIn: SlotSummary[] }, now: number): PickEntry {
  const taken = slotTime(c.summary);
  return {
    label: `$(archive) ${taken ? `Backup of ${formatLocalTime(taken)}` : `Slot ${c.slot}`}`,
    description: `slot ${c.slot}${taken ? ` \u00b7 ${formatAge(now - taken.getTime())}` : ''}`,
    detail: `file modified ${formatLocalTime(new Date(c.mtimeMs))} \u00b7 ${formatBytes(c.size)}`
      + (c.alsoIn.length ? ` \u00b7 same version in ${plural(c.alsoIn.length, 'older backup')}: ${listSome(c.alsoIn.map((s) => slotTime(s) ? formatLocalTime(slotTime(s)!) : `slot ${s.number}`), 3)}` : ''),
  };
}
