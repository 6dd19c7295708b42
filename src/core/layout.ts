/**
 * The on-disk contract of a ring. Complete slots are plain numbered folders `0 … N-1` directly in
 * the target (slot 0 newest), so a ring stays browsable and restorable with any file manager, and
 * a ring made by the original scripts is recognised. Everything else lives in `.shadow-slots/`.
 */
export const META_DIR = '.shadow-slots';
export const RING_FILE = 'ring.json';
export const JOURNAL_FILE = 'journal.json';
export const LOCK_FILE = 'lock';
export const MANIFEST_DIR = 'manifests';
export const CHANGES_DIR = 'changes';
export const SUMS_DIR = 'sums';
export const LOG_DIR = 'logs';
/** In-progress slots: `incoming/<slotId>/`; renamed to `0` only after rsync succeeded. */
export const INCOMING_DIR = 'incoming';
/** Slots dropped from the ring wait here until they are deleted, off the critical path. */
export const TRASH_DIR = 'trash';
export const RING_FORMAT = 1;

export interface RingPaths {
  target: string;
  meta: string;
  ringFile: string;
  journalFile: string;
  lockFile: string;
  manifests: string;
  changes: string;
  sums: string;
  logs: string;
  incoming: string;
  trash: string;
}

export function ringPaths(target: string, join: (...parts: string[]) => string): RingPaths {
  const meta = join(target, META_DIR);
  return {
    target,
    meta,
    ringFile: join(meta, RING_FILE),
    journalFile: join(meta, JOURNAL_FILE),
    lockFile: join(meta, LOCK_FILE),
    manifests: join(meta, MANIFEST_DIR),
    changes: join(meta, CHANGES_DIR),
    sums: join(meta, SUMS_DIR),
    logs: join(meta, LOG_DIR),
    incoming: join(meta, INCOMING_DIR),
    trash: join(meta, TRASH_DIR),
  };
}

/** Slot ids are UTC timestamps plus a random suffix: sortable, unique, safe in every file system. */
export function newSlotId(now: Date, random: string): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${random}`;
}

export const SLOT_ID_PATTERN = /^[0-9A-Za-z][0-9A-Za-z_-]{0,80}$/;
export const SLOT_FOLDER_PATTERN = /^(0|[1-9][0-9]{0,5})$/;
