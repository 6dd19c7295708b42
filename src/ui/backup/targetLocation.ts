import * as path from 'node:path';

/** What the target picker may start in, in the order they are tried. */
export interface PickerStartInput {
  /** The folder being backed up (the one place a target may never be). */
  workspace: string | undefined;
  /** This folder's current target, if any. */
  current: string | undefined;
  /** The target last chosen in any folder (rings of several projects usually sit side by side). */
  last: string | undefined;
  /** Removable-media mount points that exist here (/media/<user>, /run/media/<user>, /Volumes…). */
  mediaRoots: readonly string[];
  home: string;
}

function inside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Where Configure Backup Target opens its folder picker: never inside the folder being backed up
 * (the one choice the engine refuses). The parent of the current or last target first — a new
 * project's ring belongs beside the others — then removable media, then the home folder, then the
 * workspace's parent. Pure: the caller says which media folders exist.
 */
export function pickerStart(i: PickerStartInput): string {
  const candidates = [
    i.current ? path.dirname(i.current) : undefined,
    i.last ? path.dirname(i.last) : undefined,
    ...i.mediaRoots,
    i.home,
    i.workspace ? path.dirname(i.workspace) : undefined,
  ];
  for (const c of candidates) {
    if (c === undefined || c === '') continue;
    if (i.workspace && inside(c, i.workspace)) continue;
    return c;
  }
  return path.parse(i.workspace ?? i.home).root || '/';
}

/** Removable-media locations to look for, per platform (the caller keeps those that exist). */
export function mediaRootCandidates(platform: NodeJS.Platform, user: string): string[] {
  if (platform === 'darwin') return ['/Volumes'];
  if (platform === 'linux') return [`/media/${user}`, `/run/media/${user}`, '/media'];
  return [];
}
