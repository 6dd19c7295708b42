/**
 * Every message between the extension and the engine process, declared once (as vscode-eslint's
 * customMessages.ts does). The engine is a vscode-languageserver peer over stdio; the extension
 * talks to it with vscode-languageclient. Backup progress and cancellation use LSP's work-done
 * progress: the extension passes a `workDoneToken`, the engine reports `ProgressEvent`s as
 * `$/progress` WorkDoneProgressReport messages whose `message` is a human line and whose
 * `percentage` is rsync's estimate (structured values also arrive as BackupProgressNotification); `$/cancelRequest` on the backup request cancels it.
 */
import { RequestType, NotificationType } from 'vscode-jsonrpc';
import type { ProfileInput } from '../core/profile';
import type { SlotManifest, SlotState } from '../core/manifest';
import type { ProgressEvent } from '../core/progress';
import type { PreviewResult } from '../core/filter/preview';
import type { SlotSpace } from '../core/target';
import type { FileIdentity, SlotDirEntry, SlotEntryInfo } from '../core/slotEntry';
import type { FileHistory, FindResult, SlotChanges } from '../core/slotHistory';

/** A slot as listed: number (null while not part of the ring), state and its manifest. */
export interface SlotSummary {
  number: number | null;
  id: string;
  state: SlotState | 'interrupted';
  /** Absolute path of the slot's folder. */
  path: string;
  manifest: SlotManifest | null;
  /** What the slot holds on disk; only when asked for (`list`, or SlotSpaceRequest), as measuring reads the slot. */
  space?: SlotSpace | null;
}

export interface RingListing {
  target: string;
  slots: SlotSummary[];
  /** True while another process holds the ring's lock. */
  busy: boolean;
  /** The computer the ring lives on; null or absent for this one (then its slots are also plain local folders). */
  host?: string | null;
  /** Human-readable notes (e.g. "ring adopted", "repaired an interrupted rotation"). */
  notes: string[];
  /** The last run that found no change and made no slot, when it came after the newest slot. */
  unchanged?: UnchangedCheck | null;
}

/** A run that found the source exactly as the newest slot holds it (`.shadow-slots/unchanged.json`). */
export interface UnchangedCheck {
  /** When the run compared (UTC, ISO-8601). */
  checkedAt: string;
  /** The newest slot then, which still holds what the source held. */
  slotId: string;
}

export interface BackupResult {
  /** The new slot; for `unchanged`, the newest slot, which still holds what the source holds. */
  slot: SlotSummary;
  /**
   * `unchanged`: the source held exactly what the newest slot holds, so no slot was made and the
   * oldest was kept (the profile's `skipUnchanged`, on by default).
   */
  outcome: 'complete' | 'complete-with-warnings' | 'partial' | 'unchanged';
  durationMs: number;
  /** Milliseconds from start until slot 0 was complete (excludes dropping the oldest slot). */
  timeToCompleteMs: number;
  warnings: string[];
  notes: string[];
}

export interface VerifyResult {
  slot: number;
  checked: number;
  missing: string[];
  changed: string[];
  extra: string[];
  ok: boolean;
  /** False when there was nothing to compare with (no checksums recorded): then `ok` is false too, and `note` says why. */
  verified: boolean;
  note: string | null;
}

export interface RestoreResult {
  restored: string[];
  /** Where the versions that were replaced were moved to, so a restore can be undone. */
  keptAside: string | null;
}

export interface DeleteSlotResult {
  /** The slot that was deleted, as it was listed. */
  deleted: { number: number; id: string; manifest: SlotManifest | null };
  /** "slot 2 (2026-11-26 07:12:00 UTC, "label")". */
  description: string;
  /** Slots left in the ring (numbered 0…remaining-1). */
  remaining: number;
  /** False when its tree is still in the trash (deleted by the next backup). */
  treeDeleted: boolean;
  warnings: string[];
  notes: string[];
}

export interface LabelResult {
  number: number;
  id: string;
  /** null: the slot has no label (any more). */
  label: string | null;
}

/** Where a good copy of a damaged file is. */
export type GoodCopy = { kind: 'source'; path: string } | { kind: 'slot'; number: number; id: string };

/** One damaged file of a slot and what a repair does (or did) with it. */
export interface RepairFile {
  /** Relative to the slot, `/`-separated. */
  path: string;
  /** How Verify found it: content differs from the recorded checksum, or gone. */
  damage: 'changed' | 'missing';
  /** A copy whose content has the recorded checksum; null when none was found. */
  from: GoodCopy | null;
  /** Other slots holding this very file (the same inode: hard links); a repair in place repairs them too. */
  sharedWith: number[];
  /**
   * `planned` (dry run: would be repaired), `repaired`, `intact` (it matches its checksum again),
   * `no-good-copy`, `read-only` (a copy-on-write slot cannot be changed), `failed` (`note` says why).
   */
  outcome: 'planned' | 'repaired' | 'intact' | 'no-good-copy' | 'read-only' | 'failed';
  note: string | null;
}

export interface RepairResult {
  slot: number;
  id: string;
  /** True for a read-only copy-on-write slot: nothing can be repaired in place. */
  readOnly: boolean;
  files: RepairFile[];
  /** Files repaired (or, in a dry run, repairable). */
  repaired: number;
  note: string | null;
}

/** Errors travel as ResponseError data with this shape so the UI can act on `code`. */
export interface EngineErrorData {
  code: string;
  hint: string | null;
  details: Record<string, unknown> | null;
}

export namespace BackupRequest {
  /** Runs one backup of the profile. Supports work-done progress and cancellation. */
  export const type = new RequestType<{ profile: ProfileInput; workDoneToken?: string | number }, BackupResult, EngineErrorData>('shadowSlots/backup');
}

export namespace ListRequest {
  export const type = new RequestType<{ target: string }, RingListing, EngineErrorData>('shadowSlots/list');
}

export namespace SlotSpaceRequest {
  /**
   * Space per complete slot (bytes deleting it would free now, bytes shared with other slots),
   * measured the way the ring's storage kind allows and cached per slot; can take seconds the
   * first time on a big ring.
   */
  export const type = new RequestType<{ target: string }, SlotSpace[], EngineErrorData>('shadowSlots/slotSpace');
}

/**
 * A place inside a slot: `slot` is a complete slot's number, or an unfinished run's id (its
 * in-progress folder); `path` is relative to the slot, `/`-separated ('' is its root).
 */
export interface SlotPathParams { target: string; slot: number | string; path: string }

export namespace SlotFolderRequest {
  /** One folder of a slot (folders first, then by name), read through the ring's host. */
  export const type = new RequestType<SlotPathParams, SlotDirEntry[], EngineErrorData>('shadowSlots/slotFolder');
}

export namespace SlotEntryRequest {
  /** Kind, size, modification time and inode of one entry of a slot (a final symlink not followed); null when absent. */
  export const type = new RequestType<SlotPathParams, SlotEntryInfo | null, EngineErrorData>('shadowSlots/slotEntry');
}

export namespace SlotFileRequest {
  /** A file's content from a slot, base64-encoded (refused above 256 MiB: restore such files). */
  export const type = new RequestType<SlotPathParams, { base64: string }, EngineErrorData>('shadowSlots/slotFile');
}

export namespace FileHistoryRequest {
  /**
   * The versions of one file across the ring's slots, newest first (each version once, with the
   * slots holding it), the slots without it, and whether each version is `current` (today's file,
   * an absolute path on the engine's computer; omitted: the same place in the newest slot's source
   * folder; null: none). Answered from the ring index (built and cached on first use; see
   * src/engine/ringIndex.ts), for a file the workspace still has or one it no longer has.
   */
  export const type = new RequestType<{ target: string; path: string; current?: string | null }, FileHistory, EngineErrorData>('shadowSlots/fileHistory');
}

export namespace SlotChangesRequest {
  /**
   * What the backup of a complete slot added, changed and deleted in one of its folders, against
   * the next older slot: the marks of the folder's entries, deleted files (ghosts) included.
   */
  export const type = new RequestType<{ target: string; slot: number; path: string }, SlotChanges, EngineErrorData>('shadowSlots/slotChanges');
}

export namespace FindInSlotsRequest {
  /**
   * Paths in any slot matching `pattern` (every word, any case), best first, at most `limit`
   * (default 200); `source` (the backed-up folder here) says which are no longer in it.
   */
  export const type = new RequestType<{ target: string; pattern: string; limit?: number; source?: string | null }, FindResult, EngineErrorData>('shadowSlots/findInSlots');
}

export namespace RestoreRequest {
  export const type = new RequestType<{ target: string; slot: number; path: string; to: string; overwrite: boolean; keepAsideDir?: string }, RestoreResult, EngineErrorData>('shadowSlots/restore');
}

export namespace RestoreIntoRequest {
  /**
   * Restores a whole slot (`path` '') or one of its folders into `into`, a new or empty folder on
   * this computer: what it holds lands directly there. Never merges or overwrites.
   */
  export const type = new RequestType<{ target: string; slot: number; id?: string; path: string; into: string }, RestoreResult, EngineErrorData>('shadowSlots/restoreInto');
}

export namespace DeleteSlotRequest {
  /**
   * Deletes a complete slot (`id`: only if slot `slot` is still that one). Journaled like a
   * rotation; RingChangedNotification is sent as soon as the ring is consistent without it, before
   * its tree is deleted.
   */
  export const type = new RequestType<{ target: string; slot: number; id?: string }, DeleteSlotResult, EngineErrorData>('shadowSlots/deleteSlot');
}

export namespace LabelSlotRequest {
  /** Sets a complete slot's label (null or '' removes it); stored in its manifest. */
  export const type = new RequestType<{ target: string; slot: number; id?: string; label: string | null }, LabelResult, EngineErrorData>('shadowSlots/labelSlot');
}

export namespace RepairRequest {
  /**
   * Repairs damaged files of a slot (the paths Verify named) from a copy with the recorded
   * checksum: the source, or another slot. `dryRun` only says what it would do (and takes no lock).
   */
  export const type = new RequestType<{ target: string; slot: number; id?: string; paths: string[]; dryRun: boolean }, RepairResult, EngineErrorData>('shadowSlots/repair');
}

export namespace VerifyRequest {
  export const type = new RequestType<{ target: string; slot: number }, VerifyResult, EngineErrorData>('shadowSlots/verify');
}

export namespace ValidateProfileRequest {
  /** Validates a profile without touching the disk beyond reading; returns notes or throws. */
  export const type = new RequestType<{ profile: ProfileInput }, { notes: string[] }, EngineErrorData>('shadowSlots/validateProfile');
}

export namespace PreviewBackupRequest {
  /**
   * Preview Backup: rsync's own dry run of the next backup of the profile (what it would copy,
   * change, and what the next slot would no longer contain). Cancellable.
   */
  export const type = new RequestType<{ profile: ProfileInput }, PreviewResult, EngineErrorData>('shadowSlots/previewBackup');
}

export namespace ProfileChangedNotification {
  /**
   * The workspace's profile as the settings describe it (sent at start and on every settings
   * change): the filter-file language features evaluate rules against its source and excludes.
   */
  export const type = new NotificationType<{ profile: ProfileInput }>('shadowSlots/profileChanged');
}

export namespace LogNotification {
  /** Every command line the engine runs, with duration and exit code, for the output channel. */
  export const type = new NotificationType<{ level: 'trace' | 'info' | 'warn' | 'error'; message: string }>('shadowSlots/log');
}

export namespace BackupProgressNotification {
  /**
   * The structured form of each progress report (phase, percent, bytes, files, rate, ETA) for the
   * status bar; the work-done report carries the same as a human line.
   */
  export const type = new NotificationType<ProgressEvent>('shadowSlots/backupProgress');
}

export namespace RingChangedNotification {
  /** Sent after a backup, restore or repair changed a ring on disk. */
  export const type = new NotificationType<{ target: string }>('shadowSlots/ringChanged');
}

export type { ProgressEvent, PreviewResult, SlotSpace, SlotDirEntry, FileIdentity, SlotEntryInfo, FileHistory, SlotChanges, FindResult };
