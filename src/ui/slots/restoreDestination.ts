import * as path from 'node:path';

/**
 * Where Restore Whole Slot to Folder… puts a slot, pure so it is unit-tested. The engine refuses
 * anything but a new or empty folder; the editor adds one rule of its own: never inside the folder
 * being backed up, where the next backup would take the restored copy for changes and store it again.
 */

function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Why `folder` cannot receive a restored slot (a sentence), or undefined when it can. */
export function restoreRefusal(folder: string, workspace: string | undefined, ring: string | undefined): string | undefined {
  if (workspace && inside(folder, workspace)) return `${folder} is inside the folder being backed up (${workspace}): the next backup would copy the restored files again. Choose a place outside it.`;
  if (ring && inside(folder, ring)) return `${folder} is inside the backup target (${ring}), where a restore would become part of the ring. Choose a place outside it.`;
  return undefined;
}

/**
 * The name offered for a new folder when the chosen one is not empty: the source folder's name
 * and the slot's time, e.g. `proj 2026-11-26 0712`, made unique against `taken` names.
 */
export function newFolderName(source: string | undefined, time: Date | undefined, taken: ReadonlySet<string>): string {
  const base = source ? path.basename(source) : 'backup';
  const stamp = time ? `${time.getFullYear()}-${String(time.getMonth() + 1).padStart(2, '0')}-${String(time.getDate()).padStart(2, '0')} ${String(time.getHours()).padStart(2, '0')}${String(time.getMinutes()).padStart(2, '0')}` : 'restored';
  const first = `${base} ${stamp}`;
  if (!taken.has(first)) return first;
  for (let i = 2; ; i++) if (!taken.has(`${first} (${i})`)) return `${first} (${i})`;
}

/** Why `name` cannot be a new folder's name inside a folder holding `taken`, or undefined. */
export function folderNameProblem(name: string, taken: ReadonlySet<string>): string | undefined {
  if (name.trim() === '') return 'Give the new folder a name.';
  if (name !== name.trim()) return 'The name starts or ends with spaces.';
  if (name === '.' || name === '..' || /[/\\]/.test(name)) return 'Give a name, not a path (no / or \\).';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'The name contains a control character.';
  if (taken.has(name)) return `${name} already exists there; a restore never merges into a folder.`;
  return undefined;
}
