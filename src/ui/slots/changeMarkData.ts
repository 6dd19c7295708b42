/**
 * What the Slots view shows of a slot's changes (the engine's SlotChanges for one folder): the
 * letter, colour and tooltip of each changed entry, in the style of the git extension, and the
 * ghost rows of deleted files. Pure (no vscode) so every rule is unit-tested.
 */
import type { FolderMark, SlotChanges, SlotRef } from '../../core/slotHistory';
import { formatBytes } from '../../core/format';
import { formatLocalTime, type EntryNodeView } from './slotNodeData';

/** A file decoration as data: the git extension's letters and theme colours. */
export interface ChangeDecoration {
  badge: string | undefined;
  color: string;
  tooltip: string;
}

/** How a slot is named in a mark's tooltip: `slot 3 (2026-11-26 07:12)`. */
export function slotRefName(ref: SlotRef): string {
  return ref.takenAt ? `slot ${ref.number} (${formatLocalTime(new Date(ref.takenAt))})` : `slot ${ref.number}`;
}

const plural = (n: number, word: string) => `${n} ${word}`;

/** The decoration of one marked entry; `comparedWith` is the older slot its backup is compared with. */
export function decorationOf(mark: FolderMark, comparedWith: SlotRef): ChangeDecoration {
  const since = slotRefName(comparedWith);
  switch (mark.change) {
    case 'added': return { badge: 'A', color: 'gitDecoration.addedResourceForeground', tooltip: `added since ${since}` };
    case 'changed': return { badge: 'M', color: 'gitDecoration.modifiedResourceForeground', tooltip: `changed since ${since}` };
    case 'deleted': return { badge: 'D', color: 'gitDecoration.deletedResourceForeground', tooltip: `deleted since ${since}` };
    default: {
      const b = mark.below!;
      const parts = [b.added > 0 ? plural(b.added, 'added') : '', b.changed > 0 ? plural(b.changed, 'changed') : '', b.deleted > 0 ? plural(b.deleted, 'deleted') : ''].filter((p) => p !== '');
      // A folder has no letter of its own (git's folders show only the colour); the dot says "look inside".
      return { badge: '\u2022', color: 'gitDecoration.modifiedResourceForeground', tooltip: `changes below since ${since}: ${parts.join(', ')}` };
    }
  }
}

/** Every character struck through (U+0336): tree labels have no strike-through style of their own. */
export function struck(text: string): string {
  return [...text].map((c) => `${c}\u0336`).join('');
}

/**
 * The rows of deleted entries in one folder of a slot: files and folders only the older slot
 * still has. `listed` are the names the slot's own folder has (a name listed there is not a ghost,
 * whatever the marks say: a file replaced by a folder).
 */
export function ghostViews(changes: SlotChanges, folder: string, listed: ReadonlySet<string>): EntryNodeView[] {
  const older = changes.comparedWith;
  if (!older) return [];
  const out: EntryNodeView[] = [];
  for (const m of changes.marks) {
    if (listed.has(m.name)) continue;
    const isGhostFolder = m.kind === 'folder' && m.change === 'below' && m.below!.added === 0 && m.below!.changed === 0;
    if (m.change !== 'deleted' && !isGhostFolder) continue;
    const relPath = folder === '' ? m.name : `${folder}/${m.name}`;
    const where = `Deleted by this backup; ${slotRefName(older)} still has it`;
    if (isGhostFolder) {
      out.push({ label: struck(m.name), description: 'deleted', tooltip: `${relPath}\n${where}.`, contextValue: 'slotFolder', icon: 'folder', expandable: true, relPath, ghostOf: older.number });
    } else {
      const size = m.size === null ? '' : formatBytes(m.size);
      const when = m.mtimeMs === null ? '' : `, modified ${formatLocalTime(new Date(m.mtimeMs))}`;
      out.push({ label: struck(m.name), description: size ? `deleted \u00b7 ${size}` : 'deleted', tooltip: `${relPath}\n${where} (${size}${when}).`, contextValue: m.kind === 'file' ? 'slotFile' : 'slotLink', icon: 'file', expandable: false, relPath, ghostOf: older.number });
    }
  }
  return out.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
}

/** The entries "show only changes" keeps: those with a mark (ghosts are added separately). */
export function onlyChanged(views: readonly EntryNodeView[], changes: SlotChanges): EntryNodeView[] {
  const marked = new Set(changes.marks.map((m) => m.name));
  return views.filter((v) => marked.has(v.relPath.slice(v.relPath.lastIndexOf('/') + 1)));
}
