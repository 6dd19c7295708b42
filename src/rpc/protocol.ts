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
}

export interface BackupResult {
  slot: SlotSummary;
  outcome: 'complete' | 'complete-with-warnings' | 'partial';
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

export namespace RestoreRequest {
  export const type = new RequestType<{ target: string; slot: number; path: string; to: string; overwrite: boolean; keepAsideDir?: string }, RestoreResult, EngineErrorData>('shadowSlots/restore');
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

export type { ProgressEvent, PreviewResult, SlotSpace, SlotDirEntry, FileIdentity, SlotEntryInfo };
