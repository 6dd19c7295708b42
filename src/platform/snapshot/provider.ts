import type { SnapshotMethod } from '../../core/profile';

/** A frozen, read-only view of the source that rsync reads from. */
export interface Snapshot {
  method: Exclude<SnapshotMethod, 'auto'>;
  /** Provider-specific id (btrfs snapshot path, VSS shadow id…); null for a live copy. */
  id: string | null;
  /** Where rsync reads the source from. */
  readPath: string;
  /** Anchored excludes (relative to the source) the snapshot's own bookkeeping needs. */
  excludes: string[];
  /** Set for a live copy: files may change while being read. */
  warning: string | null;
  /** What the journal records, so a crash before release is cleaned up next start. */
  journal: { method: string; id: string; path: string } | null;
}

/**
 * Every snapshot method implements create → path to read from → release. `release` also runs
 * for journaled snapshots a crashed run left behind, from the journal record alone.
 */
export interface SnapshotProvider {
  method: Exclude<SnapshotMethod, 'auto'>;
  /** Whether this provider can snapshot `source` here; the reason when not. */
  availability(source: string): Promise<{ available: boolean; reason: string }>;
  /**
   * Creates the snapshot. `journal` is called with the record before the snapshot exists, so a
   * crash between creating and recording it cannot leave an orphan nobody cleans up.
   */
  create(source: string, runId: string, journal: (record: { method: string; id: string; path: string }) => Promise<void>, signal?: AbortSignal): Promise<Snapshot>;
  release(record: { id: string; path: string }): Promise<void>;
}

export const LIVE_COPY_WARNING = 'Live copy without a snapshot: files that changed while they were copied may be inconsistent, and files locked by other programs may be missing.';
