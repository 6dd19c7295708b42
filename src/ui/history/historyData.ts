/**
 * The rows of the File History in Slots view and of Find in Slots, computed from the engine's
 * FileHistory and FindResult without VS Code, so they are unit-tested directly.
 */
import type { FileHistory, FoundPath, SlotRef } from '../../core/slotHistory';
import { formatAge, formatBytes } from '../../core/format';
import { formatLocalTime } from '../slots/slotNodeData';

/** Slot numbers as runs, newest first: `0–2, 5`. */
export function slotRuns(numbers: readonly number[]): string {
  const runs: string[] = [];
  for (let i = 0; i < numbers.length;) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    runs.push(i === j ? `${numbers[i]}` : `${numbers[i]}\u2013${numbers[j]}`);
    i = j + 1;
  }
  return runs.join(', ');
}

const slotsWord = (refs: readonly SlotRef[]) => `${refs.length === 1 ? 'slot' : 'slots'} ${slotRuns(refs.map((r) => r.number))}`;

export interface HistoryRow {
  kind: 'version' | 'gap';
  label: string;
  description: string;
  tooltip: string;
  /** Versions: the slot it is opened from (its newest), and the next older version's, for the diff. */
  slot: number | null;
  olderSlot: number | null;
}

/**
 * One row per distinct version, newest first, with the runs of slots that lack the file between
 * them (deleted, or not yet made) as rows of their own so a deleted-then-recreated file reads
 * as such. `now` is passed in so ages are testable.
 */
export function historyRows(h: FileHistory, now: Date): HistoryRow[] {
  const rows: Array<HistoryRow & { at: number }> = [];
  h.versions.forEach((v, i) => {
    const newest = v.slots[0]!;
    const taken = newest.takenAt ? new Date(newest.takenAt) : null;
    const parts = [taken ? formatAge(now.getTime() - taken.getTime()) : `slot ${newest.number}`, v.kind === 'file' ? formatBytes(v.size) : v.kind];
    if (v.sameAsCurrent === true) parts.push('same as today');
    const tip = [
      `${h.path} \u2014 version ${h.versions.length - i} of ${h.versions.length}`,
      `In ${slotsWord(v.slots)}${taken ? `, newest taken ${formatLocalTime(taken)}` : ''}`,
      `${formatBytes(v.size)}, modified ${formatLocalTime(new Date(v.mtimeMs))}`,
      v.sameAsCurrent === null ? 'No workspace file to compare with' : v.sameAsCurrent ? 'The same as the workspace file today' : 'Differs from the workspace file today',
    ];
    if (v.sameContentAs !== null) tip.push(`The same content as the newer version of ${formatLocalTime(new Date(h.versions[v.sameContentAs]!.mtimeMs))} (it came back)`);
    if (v.toldApartBy) tip.push(`Told apart from the older version by ${v.toldApartBy === 'size-and-time' ? 'size and modification time' : v.toldApartBy}`);
    rows.push({ kind: 'version', label: taken ? formatLocalTime(taken) : `slot ${newest.number}`, description: parts.join(' \u00b7 '), tooltip: tip.join('\n'), slot: newest.number, olderSlot: h.versions[i + 1]?.slots[0]!.number ?? null, at: newest.number });
  });
  for (const g of h.gaps) {
    const newer = g.slots[0]!.number;
    // Slots older than the oldest version are the file not made yet: not worth a row. Any other gap has an older version: it was deleted.
    if (!h.versions.some((v) => v.slots.at(-1)!.number > newer)) continue;
    rows.push({ kind: 'gap', label: 'deleted', description: `not in ${slotsWord(g.slots)}`, tooltip: `${h.path} is not in ${slotsWord(g.slots)}.`, slot: null, olderSlot: null, at: newer });
  }
  return rows.sort((a, b) => a.at - b.at).map(({ at: _at, ...r }) => r);
}

export interface FoundRow {
  label: string;
  description: string;
  detail: string;
  path: string;
}

/** A Find in Slots result as a quick-pick row: the name, its folder, where it is and whether it is gone. */
export function foundRow(f: FoundPath): FoundRow {
  const cut = f.path.lastIndexOf('/');
  const slots = f.slots.map(([a, b]) => (a === b ? `${a}` : `${a}\u2013${b}`)).join(', ');
  const gone = f.inSource === false ? ' \u00b7 not in the workspace' : '';
  return {
    label: `${f.inSource === false ? '$(trash)' : f.kind === 'symlink' ? '$(file-symlink-file)' : '$(file)'} ${f.path.slice(cut + 1)}`,
    description: cut < 0 ? '' : f.path.slice(0, cut),
    detail: `in slot${f.slots.length === 1 && f.slots[0]![0] === f.slots[0]![1] ? '' : 's'} ${slots}${gone}`,
    path: f.path,
  };
}
