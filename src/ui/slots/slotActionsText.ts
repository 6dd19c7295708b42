import type { DeleteSlotResult, GoodCopy, RepairResult, SlotSummary } from '../../rpc/protocol';
import { formatBytes, plural } from '../../core/format';
import { listSome, slotName } from './slotNodeData';

/**
 * The words of the slot actions (delete, repair), pure so they are unit-tested. Slots are named by
 * their time (numbers move), files by their path in quotes.
 */

export interface Confirmation { message: string; detail: string; button: string }

/** The modal before a slot is deleted: which backup, what is lost, what stays. */
export function deleteConfirmation(slot: SlotSummary, ringSize: number): Confirmation {
  const label = slot.manifest?.label ? ` ("${slot.manifest.label}")` : '';
  const own = slot.space?.exclusiveBytes;
  const frees = own == null ? '' : own === 0 ? ' It frees no space: every file it holds is also in another backup.' : ` It frees about ${formatBytes(own)}: the files no other backup holds.`;
  const newest = slot.number === 0 && ringSize > 1 ? ' It is the newest backup: the next one is built on the backup before it and copies what changed since then.' : '';
  const after = slot.number !== null && slot.number < ringSize - 1 ? ' The older backups move up one place; each keeps its time and label.' : '';
  return {
    message: `Delete the backup of ${slotName(slot)}${label}?`,
    detail: `This deletes it for good; it cannot be undone.${frees}${newest}${after} Files it shares with other backups stay in them.`,
    button: 'Delete Backup',
  };
}

/** After a deletion. */
export function deletedText(result: DeleteSlotResult, name: string): string {
  const left = result.remaining === 0 ? 'No backups are left.' : `${plural(result.remaining, 'backup')} left.`;
  return `Deleted the backup of ${name}. ${left}${result.warnings.length > 0 ? ` ${result.warnings[0]}` : ''}`;
}

function copyText(from: GoodCopy, slots: readonly SlotSummary[]): string {
  if (from.kind === 'source') return 'the source';
  const s = slots.find((x) => x.id === from.id);
  return `the backup of ${s ? slotName(s) : `slot ${from.number}`}`;
}

/** What Verify's notification adds once the engine said what a repair could do. */
export interface RepairOffer {
  text: string;
  /** The button that repairs (absent when nothing can be repaired in place). */
  repair?: string;
  /** Offered for a read-only (copy-on-write) slot instead: delete the damaged backup. */
  delete?: string;
}

/**
 * The repair part of Verify's message. A hard-linked slot is repaired in place from a good copy —
 * the source, when its checksum still matches, or another backup — and every backup sharing the
 * file is repaired with it; a copy-on-write slot is a read-only snapshot, so the good copy is
 * named instead and deleting the damaged backup is offered.
 */
export function repairOffer(plan: RepairResult, slots: readonly SlotSummary[]): RepairOffer {
  const repairable = plan.files.filter((f) => f.outcome === 'planned');
  const found = plan.files.filter((f) => f.from !== null);
  const shared = [...new Set(plan.files.flatMap((f) => f.sharedWith))].map((n) => slots.find((s) => s.number === n)).filter((s): s is SlotSummary => s !== undefined);
  if (plan.readOnly) {
    const where = found.length > 0 ? ` A good copy ${found.length === 1 ? `of "${found[0]!.path}" is in ${copyText(found[0]!.from!, slots)}` : `of ${plural(found.length, 'file')} is in the source or another backup`}: restore it from there.` : ' No good copy was found.';
    return { text: `This backup is a read-only copy-on-write snapshot, so it is never repaired in place.${where} Deleting the damaged backup keeps it from being restored by mistake.`, delete: 'Delete Backup…' };
  }
  if (repairable.length === 0) return { text: 'No good copy was found: neither the source nor another backup holds these files as they were.' };
  const sources = [...new Set(repairable.map((f) => copyText(f.from!, slots)))];
  const sharing = shared.length > 0 ? ` A repair in place also repairs ${shared.length === 1 ? `the backup of ${slotName(shared[0]!)}` : `the ${shared.length} backups`} holding the same file.` : '';
  const missing = plan.files.length - repairable.length;
  return {
    text: `${repairable.length === plan.files.length ? 'It can be repaired' : `${plural(repairable.length, 'file')} can be repaired`} from ${listSome(sources, 2)}, whose checksum still matches.${sharing}${missing > 0 ? ` ${plural(missing, 'file')} cannot: no good copy.` : ''}`,
    repair: `Repair ${plural(repairable.length, 'File')}`,
  };
}

/** After a repair (and the Verify that follows it). */
export function repairedText(result: RepairResult, name: string, intactNow: boolean, slots: readonly SlotSummary[]): string {
  const done = result.files.filter((f) => f.outcome === 'repaired');
  const failed = result.files.filter((f) => f.outcome !== 'repaired' && f.outcome !== 'intact');
  const shared = [...new Set(done.flatMap((f) => f.sharedWith))].map((n) => slots.find((s) => s.number === n)).filter((s): s is SlotSummary => s !== undefined);
  const what = done.length === 1 ? `"${done[0]!.path}" from ${copyText(done[0]!.from!, slots)}` : `${plural(done.length, 'file')} (${listSome(done.map((f) => `"${f.path}"`), 3)})`;
  return `${done.length > 0 ? `Repaired ${what}. ` : ''}${shared.length > 0 ? `The same file${done.length === 1 ? ' is' : 's are'} repaired in the backup${shared.length === 1 ? '' : 's'} of ${listSome(shared.map((s) => slotName(s)), 3)} (hard links). ` : ''}`
    + (intactNow ? `The backup of ${name} is intact again.` : `The backup of ${name} is still damaged${failed.length > 0 ? `: ${listSome(failed.map((f) => `"${f.path}"`), 3)} could not be repaired (${failed[0]!.note ?? failed[0]!.outcome})` : ''}.`);
}
