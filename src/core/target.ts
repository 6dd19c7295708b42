/**
 * Where and how a ring's slots are stored: the pure vocabulary of the target seam
 * (src/platform/target/). Every kind keeps the same on-disk contract — numbered folders `0 … N-1`
 * in the target, metadata in `.shadow-slots/` — and differs only in how a slot is made, rotated,
 * dropped and measured.
 */

/** What the user asks for: `auto` picks copy-on-write where the target's file system offers it. */
export const TARGET_MODES = ['auto', 'links', 'cow'] as const;
export type TargetMode = (typeof TARGET_MODES)[number];

/**
 * - `links`: each slot a folder of hard links to the previous one (`rsync --link-dest`).
 * - `btrfs`: each slot a read-only btrfs subvolume; a run rewrites only changed blocks of a
 *   writable snapshot of the newest slot (`rsync --inplace --no-whole-file`).
 * Further kinds (ZFS, …) add their name here and their files under src/platform/target/.
 */
export type TargetKind = 'links' | 'btrfs' | 'zfs';

export interface TargetCapabilities {
  kind: TargetKind;
  /** Unchanged files cost nothing because they are hard links to the previous slot. */
  hardLinks: boolean;
  /** Changed files cost only their changed blocks (a copy-on-write file system). */
  copyOnWrite: boolean;
  /** Slots are file-system snapshots (read-only). */
  snapshots: boolean;
  /** The host the ring lives on; null for this machine. */
  host: string | null;
}

/**
 * Space a slot holds, as the kind can measure it. `exclusiveBytes` is what deleting the slot now
 * would free; it can grow when a neighbouring slot is deleted. `sharedBytes` is held together
 * with other slots. `method` says how the figures were obtained, so nothing is shown as more
 * exact than it is.
 */
export interface SlotSpace {
  id: string;
  exclusiveBytes: number | null;
  sharedBytes: number | null;
  /** e.g. "hard-link counts", "btrfs filesystem du", "zfs used/referenced". */
  method: string;
  /** Set when the figures could not be obtained, instead of a guess. */
  note: string | null;
}

export function isTargetMode(value: unknown): value is TargetMode {
  return typeof value === 'string' && (TARGET_MODES as readonly string[]).includes(value);
}

/** One line for the user: "hard-linked folders", "btrfs copy-on-write snapshots". */
export function describeKind(kind: TargetKind): string {
  switch (kind) {
    case 'links': return 'hard-linked folders';
    case 'btrfs': return 'btrfs copy-on-write snapshots';
    case 'zfs': return 'ZFS copy-on-write snapshots';
  }
}
