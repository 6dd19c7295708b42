/**
 * What the ring index answers (file history, change marks, find), as the engine sends it to the
 * editor and the CLI prints it (`--json`). Pure: computed from a RingIndex by the functions here,
 * so every rule is unit-tested without a ring on disk.
 */
import { identityMethod, sameVersion, type CatalogEntry, type CatalogKind, type IdentityMethod } from './slotCatalog';
import type { RingIndex } from './ringIndex';

/** A slot as results name it: its number now, its id (stable), when it was taken. */
export interface SlotRef {
  number: number;
  id: string;
  /** End of the run (else its start), ISO-8601 UTC; null when unknown. */
  takenAt: string | null;
}

/** One version of a file: consecutive slots that hold the same version. */
export interface FileVersion {
  /** The slots holding it, newest first; it is opened from the first. */
  slots: SlotRef[];
  kind: CatalogKind;
  size: number;
  mtimeMs: number;
  /** How it was told apart from the next older version (null for the oldest). */
  toldApartBy: IdentityMethod | null;
  /**
   * Index (in `versions`) of a newer version with the same content, when checksums show that an
   * older content came back (a revert; a file deleted and created again the same).
   */
  sameContentAs: number | null;
  /** Whether it is today's file; null when there is no file to compare with. */
  sameAsCurrent: boolean | null;
}

/** Slots that do not have the path, between (or around) its versions. */
export interface HistoryGap {
  /** Newest first. */
  slots: SlotRef[];
}

export interface FileHistory {
  target: string;
  /** Relative to the slots, `/`-separated. */
  path: string;
  /** The file it was compared with (absolute, on this computer), or null when none was given or found. */
  current: { path: string; exists: boolean; kind: CatalogKind | 'folder' | 'other' | null; size: number | null; mtimeMs: number | null } | null;
  /** Newest first: each version once, however many slots hold it. */
  versions: FileVersion[];
  /** Newest first: runs of slots without the path (deleted, or not made yet). */
  gaps: HistoryGap[];
  /** How versions were told apart where that is not obvious (adopted slots without checksums…). */
  notes: string[];
}

/** A run of positions holding one version (positions newest first). */
export interface VersionRun {
  positions: number[];
  entry: CatalogEntry;
  toldApartBy: IdentityMethod | null;
  sameContentAs: number | null;
}

/**
 * The versions of `path` across the ring, newest first: consecutive slots holding the same version
 * (see sameVersion) form one run; runs are separated where the version changes or the path is
 * absent. `gaps` are the runs of positions without the path.
 */
export function versionRuns(index: RingIndex, path: string): { runs: VersionRun[]; gaps: number[][] } {
  const slots = index.slots;
  const entries = index.entriesOf(path);
  const runs: VersionRun[] = [];
  const gaps: number[][] = [];
  let last: { position: number; entry: CatalogEntry } | null = null;
  for (let p = 0; p < entries.length; p++) {
    const e = entries[p]!;
    if (e === null) {
      const gap = gaps.at(-1);
      if (gap && gap.at(-1) === p - 1) gap.push(p); else gaps.push([p]);
      last = null;
      continue;
    }
    const run = runs.at(-1);
    if (last && run && last.position === p - 1 && sameVersion(last.entry, slots[last.position]!, e, slots[p]!)) {
      run.positions.push(p);
    } else {
      if (run) {
        const prev = entries[run.positions.at(-1)!]!;
        run.toldApartBy = identityMethod(prev, slots[run.positions.at(-1)!]!, e, slots[p]!);
      }
      runs.push({ positions: [p], entry: e, toldApartBy: null, sameContentAs: null });
    }
    last = { position: p, entry: e };
  }
  // A newer run with the same recorded content: a revert, or a file deleted and made again the same.
  for (let i = 1; i < runs.length; i++) {
    const h = runs[i]!.entry.hash;
    if (h === null) continue;
    const same = runs.findIndex((r, j) => j < i && r.entry.hash === h && r.entry.kind === runs[i]!.entry.kind);
    if (same >= 0) runs[i]!.sameContentAs = same;
  }
  return { runs, gaps };
}

export type ChangeKind = 'added' | 'changed' | 'deleted';

/** A path that differs between a slot and the next older one. */
export interface PathChange {
  path: string;
  change: ChangeKind;
  /** The slot's entry; for `deleted` the older slot's (the one that still has it). */
  entry: CatalogEntry;
}

/**
 * What the slot at `position` added, changed and deleted against the next older slot, sorted by
 * path; null for the oldest slot (nothing to compare with). Paths whose facts differ but whose
 * version is the same (see sameVersion: a copy-on-write file whose time alone changed) are not
 * changes.
 */
export function changesAt(index: RingIndex, position: number): PathChange[] | null {
  const slots = index.slots;
  if (position < 0 || position >= slots.length - 1) return null;
  const older = index.deltaOf(position + 1);
  const out: PathChange[] = [];
  for (const [path, was] of older) {
    const now = index.entryAt(position, path);
    if (was === null && now !== null) out.push({ path, change: 'added', entry: now });
    else if (was !== null && now === null) out.push({ path, change: 'deleted', entry: was });
    else if (was !== null && now !== null && !sameVersion(was, slots[position + 1]!, now, slots[position]!)) out.push({ path, change: 'changed', entry: now });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The mark of one entry of a folder in the Slots view. */
export interface FolderMark {
  name: string;
  kind: CatalogKind | 'folder';
  /** `below`: a folder with changes somewhere inside it. */
  change: ChangeKind | 'below';
  /** Files: size and time (for `deleted`, of the version the older slot still has). */
  size: number | null;
  mtimeMs: number | null;
  /** Folders: how many entries below were added, changed, deleted. */
  below: { added: number; changed: number; deleted: number } | null;
}

/** The marks of the direct entries of `folder` ('' for the slot's root), from a slot's sorted changes. */
export function folderMarks(changes: readonly PathChange[], folder: string): FolderMark[] {
  const prefix = folder === '' ? '' : `${folder}/`;
  let lo = 0;
  let hi = changes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (changes[mid]!.path < prefix) lo = mid + 1; else hi = mid;
  }
  const marks = new Map<string, FolderMark>();
  for (let i = lo; i < changes.length && changes[i]!.path.startsWith(prefix); i++) {
    const c = changes[i]!;
    const rest = c.path.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) {
      marks.set(rest, { name: rest, kind: c.entry.kind, change: c.change, size: c.entry.size, mtimeMs: c.entry.mtimeMs, below: null });
      continue;
    }
    const name = rest.slice(0, slash);
    let m = marks.get(name);
    if (!m || m.kind !== 'folder') {
      // A file replaced by a folder of the same name keeps the folder's mark: the folder is what is listed.
      m = { name, kind: 'folder', change: 'below', size: null, mtimeMs: null, below: { added: 0, changed: 0, deleted: 0 } };
      marks.set(name, m);
    }
    m.below![c.change]++;
  }
  return [...marks.values()];
}

/** The marks of one folder of a slot: what its backup added, changed and deleted. */
export interface SlotChanges {
  /** The slot they compare with (the next older one), or null for the oldest slot (nothing to compare with). */
  comparedWith: SlotRef | null;
  /** The folder's direct entries that changed; deleted ones (ghosts) only the older slot still has. */
  marks: FolderMark[];
  /** Changes in the whole slot (0: nothing changed in this backup). */
  total: number;
}

/** One path found in the slots. */
export interface FoundPath {
  path: string;
  /** What the newest slot holding it has there. */
  kind: CatalogKind;
  /** Runs of slot numbers holding it, newest first: [[0, 15]] is every slot from 0 to 15. */
  slots: Array<[number, number]>;
  /** The newest slot holding it. */
  newest: SlotRef;
  /** Whether it is in the backed-up folder today; null when that folder is not known here. */
  inSource: boolean | null;
}

export interface FindResult {
  target: string;
  pattern: string;
  /** How many paths match (`results` holds at most the limit asked for). */
  total: number;
  results: FoundPath[];
  /** How many slots and distinct paths were searched. */
  slots: number;
  paths: number;
}
