import type { RingState, RotationStep } from './ring';

/**
 * The journal records an operation before any of it happens, so that a crash at any instant is
 * repaired on the next start by replaying (rotation) or undoing (snapshot) what it names.
 * `.shadow-slots/journal.json`; absent when nothing is pending.
 */
export interface Journal {
  format: 1;
  /**
   * A rotation that must be rolled forward: the new slot was complete when it was written. A
   * slot deletion is journaled the same way (`kind: 'delete'`, `newId` = the deleted slot, steps a
   * drop and moves), so every reader that finishes an interrupted rotation finishes it too.
   */
  rotation: { newId: string; steps: RotationStep[]; final: RingState; startedAt: string; kind?: 'delete' } | null;
  /** Snapshots created and not yet released; released on the next start. */
  snapshots: Array<{ method: string; id: string; path: string; createdAt: string; pid: number }>;
  /**
   * The copy writing the in-progress slot (rsync, or btrfs send | receive). If the engine is
   * killed, the copy can outlive it; the next start stops it before touching the folder it writes.
   * Written before the copy starts: `marker` is in the environment of every process of the copy,
   * so one killed before its pid was recorded (pid null) is still found.
   */
  copy?: { pid: number | null; destination: string; marker?: string } | null;
}

export function emptyJournal(): Journal {
  return { format: 1, rotation: null, snapshots: [] };
}

export function parseJournal(text: string): Journal {
  const raw = JSON.parse(text) as Partial<Journal>;
  if (raw.format !== 1) throw new Error('journal has an unknown format');
  return { format: 1, rotation: raw.rotation ?? null, snapshots: Array.isArray(raw.snapshots) ? raw.snapshots : [], copy: raw.copy ?? null };
}

export function isJournalEmpty(j: Journal): boolean {
  return j.rotation === null && j.snapshots.length === 0 && !j.copy;
}
