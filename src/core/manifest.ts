import type { SnapshotMethod } from './profile';
import type { TargetKind } from './target';

export type SlotState = 'in-progress' | 'partial' | 'complete';

export interface SlotCounts {
  /** Regular files in the slot. */
  files: number;
  dirs: number;
  /** Entries new since the previous slot. */
  created: number;
  /** Regular files whose content or metadata changed since the previous slot. */
  changed: number;
  /** Entries of the previous slot that are gone. */
  deleted: number;
  /** Bytes actually copied (rsync "Literal data"); unchanged files cost nothing. */
  bytesSent: number;
  /** Apparent size of all files in the slot. */
  totalSize: number;
}

/**
 * Everything known about one slot, in `.shadow-slots/manifests/<id>.json`. Times are UTC ISO-8601.
 * The shape is a documented contract: the Windows helper writes the same file.
 */
export interface SlotManifest {
  format: 1;
  id: string;
  state: SlotState;
  profile: string;
  source: string;
  startedAt: string;
  endedAt: string | null;
  snapshot: {
    method: SnapshotMethod | 'unknown';
    id: string | null;
    /** Set when the copy was taken without a snapshot: files could change while being read. */
    warning: string | null;
  };
  rsync: {
    argv: string[];
    exitCode: number | null;
    version: string | null;
  };
  counts: SlotCounts | null;
  warnings: string[];
  /** Paths (relative to `.shadow-slots/`) of the slot's itemized change log and checksum list. */
  changeLog: string | null;
  checksums: string | null;
  /** Set on slots found in a seed ring made without Shadow Slots. */
  adopted: boolean;
  /** Previous complete slot this one was built on (linked against, or snapshotted from). */
  linkDest: string | null;
  /** How the slot is stored; absent in manifests written before target kinds existed (hard links). */
  storage?: { kind: TargetKind; description: string };
  /** Set when the slot was not copied by rsync but received from a btrfs send stream (then `rsync.argv` is empty). */
  transfer?: { method: 'btrfs-send'; command: string[]; parentUuid: string | null };
}

export function parseManifest(text: string): SlotManifest {
  const raw = JSON.parse(text) as Partial<SlotManifest>;
  if (raw.format !== 1 || typeof raw.id !== 'string' || !['in-progress', 'partial', 'complete'].includes(raw.state as string)
    || typeof raw.startedAt !== 'string') {
    throw new Error('manifest has an unknown format');
  }
  return {
    format: 1,
    id: raw.id,
    state: raw.state as SlotState,
    profile: typeof raw.profile === 'string' ? raw.profile : '',
    source: typeof raw.source === 'string' ? raw.source : '',
    startedAt: raw.startedAt,
    endedAt: typeof raw.endedAt === 'string' ? raw.endedAt : null,
    snapshot: {
      method: raw.snapshot?.method ?? 'unknown',
      id: raw.snapshot?.id ?? null,
      warning: raw.snapshot?.warning ?? null,
    },
    rsync: {
      argv: Array.isArray(raw.rsync?.argv) ? raw.rsync.argv : [],
      exitCode: typeof raw.rsync?.exitCode === 'number' ? raw.rsync.exitCode : null,
      version: raw.rsync?.version ?? null,
    },
    counts: raw.counts ?? null,
    warnings: Array.isArray(raw.warnings) ? raw.warnings : [],
    changeLog: raw.changeLog ?? null,
    checksums: raw.checksums ?? null,
    adopted: raw.adopted === true,
    linkDest: raw.linkDest ?? null,
    ...(isStorage(raw.storage) ? { storage: raw.storage } : {}),
    ...(raw.transfer && raw.transfer.method === 'btrfs-send' && Array.isArray(raw.transfer.command) ? { transfer: { method: 'btrfs-send' as const, command: raw.transfer.command, parentUuid: raw.transfer.parentUuid ?? null } } : {}),
  };
}

function isStorage(value: unknown): value is NonNullable<SlotManifest['storage']> {
  const v = value as Record<string, unknown> | null;
  return typeof v === 'object' && v !== null && ['links', 'btrfs', 'zfs'].includes(v['kind'] as string) && typeof v['description'] === 'string';
}

export function serializeManifest(m: SlotManifest): string {
  return JSON.stringify(m, null, 2) + '\n';
}
