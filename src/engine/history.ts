import { join } from 'node:path';
import { invalid } from '../core/errors';
import { versionRuns, type FileHistory, type FileVersion, type SlotRef, type VersionRun } from '../core/slotHistory';
import { currentFile, type CurrentFile } from '../platform/currentFile';
import { ringIndex, type IndexView } from './ringIndex';
import { validateRelativePath } from './restore';

export interface HistoryOptions {
  /**
   * Today's file to compare versions with (absolute, on this computer). Undefined: the file at
   * the same place in the folder the newest slot was taken from, when it exists here; null: none.
   */
  current?: string | null;
  signal?: AbortSignal;
}

/** A path as asked for (`src//a.ts`, `./src/a.ts`) in the form the slots list it. */
export function slotRelativePath(path: string, what = 'The path'): string {
  const parts = validateRelativePath(path);
  if (parts.length === 0) throw invalid(`${what} must name a file inside the slots (e.g. src/app.ts).`);
  return parts.join('/');
}

/**
 * The versions of one file across the ring, newest first: each version once with the slots that
 * hold it, the runs of slots that do not have the file (deleted, or not made yet), and whether
 * each version is today's file. Answered from the ring index (see ringIndex.ts), so a hard-linked
 * ring is told apart by inodes and no file's content in a slot is read.
 */
export async function fileHistory(target: string, path: string, options: HistoryOptions = {}): Promise<FileHistory> {
  const rel = slotRelativePath(path);
  const view = await ringIndex(target, options.signal ? { signal: options.signal } : {});
  const { runs, gaps } = versionRuns(view.index, rel);
  const currentPath = options.current === undefined ? (view.source ? join(view.source, ...rel.split('/')) : null) : options.current;
  const current = currentPath ? await currentFile(currentPath) : null;
  const versions: FileVersion[] = [];
  for (const run of runs) {
    versions.push({
      slots: run.positions.map((p) => view.refs[p]!),
      kind: run.entry.kind,
      size: run.entry.size,
      mtimeMs: run.entry.mtimeMs,
      toldApartBy: run.toldApartBy,
      sameContentAs: run.sameContentAs,
      sameAsCurrent: current ? await isCurrent(run, current) : null,
    });
  }
  return {
    target,
    path: rel,
    current: current ? { path: current.path, exists: current.exists, kind: current.kind, size: current.size, mtimeMs: current.mtimeMs } : null,
    versions,
    gaps: gaps.map((g) => ({ slots: g.map((p) => view.refs[p]!) })),
    notes: notes(view, rel, runs),
  };
}

/**
 * Whether a version is today's file: the same size and modification time (rsync's quick check:
 * what the next backup would take as unchanged), else, when the slot recorded a checksum and the
 * sizes agree, the same content.
 */
async function isCurrent(run: VersionRun, current: CurrentFile): Promise<boolean> {
  const e = run.entry;
  if (!current.exists || current.kind !== e.kind || current.size !== e.size) return false;
  if (current.mtimeMs !== null && Math.floor(current.mtimeMs / 1000) === Math.floor(e.mtimeMs / 1000)) return true;
  return e.hash !== null && (await current.hash()) === e.hash;
}

function when(ref: SlotRef): string {
  return ref.takenAt ? `slot ${ref.number} (${ref.takenAt.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC')})` : `slot ${ref.number}`;
}

function notes(view: IndexView, rel: string, runs: VersionRun[]): string[] {
  const out: string[] = [];
  if (runs.length === 0) {
    const below = `${rel}/`;
    const base = view.index.newest;
    const i = base.lowerBound(below);
    if ((i < base.size && base.paths[i]!.startsWith(below)) || view.index.pathsOnlyInOlderSlots().some((p) => p.startsWith(below))) {
      out.push(`${rel} is a folder in the slots; the history is of files.`);
    }
  }
  // Where neither inodes nor checksums could decide, say which slot lacked its checksum list.
  const guessed = new Set<number>();
  runs.forEach((run, i) => {
    const older = runs[i + 1];
    if (run.toldApartBy !== 'size-and-time' || !older) return;
    for (const p of [run.positions.at(-1)!, older.positions[0]!]) if (view.index.entryAt(p, rel)?.hash === null) guessed.add(p);
  });
  for (const p of [...guessed].sort((a, b) => a - b)) {
    out.push(`${when(view.refs[p]!)} has no checksum list (an adopted slot, or one whose run was interrupted before recording it): its version was told apart by size and modification time.`);
  }
  return out;
}
