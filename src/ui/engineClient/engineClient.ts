import * as vscode from 'vscode';
import { LanguageClient, RevealOutputChannelOn, State, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import {
  BackupProgressNotification, BackupRequest, ListRequest, LogNotification, PreviewBackupRequest, ProfileChangedNotification, RestoreRequest, RingChangedNotification, ValidateProfileRequest, VerifyRequest,
  type BackupResult, type PreviewResult, type ProgressEvent, type RestoreResult, type RingListing, type VerifyResult, SlotEntryRequest, SlotFileRequest, SlotFolderRequest, SlotSpaceRequest, type SlotDirEntry, type SlotEntryInfo, type SlotSpace,
  FileHistoryRequest, FindInSlotsRequest, SlotChangesRequest, type FileHistory, type FindResult, type SlotChanges } from '../../rpc/protocol';
import { DeleteSlotRequest, LabelSlotRequest, RepairRequest, RestoreIntoRequest, type DeleteSlotResult, type LabelResult, type RepairResult } from '../../rpc/protocol';
import type { ProfileInput } from '../../core/profile';
import { progressDetail } from '../../core/progress';
import { engineModule } from './engineLaunch';

/** One step of a running backup. */
export interface BackupProgress {
  message: string;
  percentage: number | undefined;
  /** The engine's structured event, when the run reports one (the Windows helper's state file does not). */
  event?: ProgressEvent;
}

/**
 * The extension's side of the engine process (dist/engine.js). vscode-languageclient owns the
 * process: it starts it on the first request, restarts it after a crash, stops it on
 * deactivate, and traces the protocol into the log. The extension host never runs a backup
 * itself, so it stays responsive however long rsync takes.
 */
export class EngineClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly ringChanged = new vscode.EventEmitter<string>();
  /** Receives BackupProgressNotification while a backup runs (the engine runs one at a time). */
  private progressListener: ((e: ProgressEvent) => void) | undefined;
  /** Fires with the target whose ring the engine changed (backup, restore, repair). */
  readonly onRingChanged = this.ringChanged.event;

  /**
   * `profile` is the workspace's profile as the settings describe it: the engine's filter-file
   * language features (diagnostics, hover counts, completion) evaluate rules against its source.
   */
  constructor(private readonly enginePath: string, private readonly log: vscode.LogOutputChannel, private readonly profile: () => ProfileInput | undefined) {}

  /** Starts the engine if it is not running (e.g. a filter file was opened before any request). */
  async ensureStarted(): Promise<void> {
    await this.connection();
  }

  /** Tells a running engine that the settings changed; a later start gets it at initialize. */
  async profileChanged(): Promise<void> {
    const client = this.client;
    const profile = this.profile();
    if (client?.isRunning() && profile) await client.sendNotification(ProfileChangedNotification.type, { profile });
  }

  private async connection(): Promise<LanguageClient> {
    // A client whose start failed (e.g. engine missing) never recovers; build a fresh one.
    if (this.client && this.client.state === State.Stopped && !this.client.isRunning()) {
      const old = this.client;
      this.client = undefined;
      await old.dispose().catch(() => undefined);
    }
    if (!this.client) {
      const run = engineModule(this.enginePath);
      const serverOptions: ServerOptions = { run, debug: run };
      const clientOptions: LanguageClientOptions = {
        // Filter-rule files are the only documents the engine serves language features for.
        documentSelector: [{ language: 'shadowslots-filter' }],
        initializationOptions: () => ({ profile: this.profile() }),
        outputChannel: this.log,
        // The log is for the user to open when something needs explaining, never thrown at them.
        revealOutputChannelOn: RevealOutputChannelOn.Never,
      };
      const client = new LanguageClient('shadowSlots.engine', 'Shadow Slots engine', serverOptions, clientOptions);
      client.onNotification(LogNotification.type, ({ level, message }) => this.log[level](message));
      client.onNotification(RingChangedNotification.type, ({ target }) => this.ringChanged.fire(target));
      client.onNotification(BackupProgressNotification.type, (e) => this.progressListener?.(e));
      this.client = client;
      await client.start();
    }
    return this.client;
  }

  async list(target: string): Promise<RingListing> {
    return (await this.connection()).sendRequest(ListRequest.type, { target });
  }

  /** One folder of a slot (a complete slot's number, or an unfinished run's id), read by the engine wherever the ring lives. */
  async slotFolder(target: string, slot: number | string, path: string): Promise<SlotDirEntry[]> {
    return (await this.connection()).sendRequest(SlotFolderRequest.type, { target, slot, path });
  }

  async slotEntry(target: string, slot: number | string, path: string): Promise<SlotEntryInfo | null> {
    return (await this.connection()).sendRequest(SlotEntryRequest.type, { target, slot, path });
  }

  async slotFile(target: string, slot: number | string, path: string): Promise<Uint8Array> {
    const { base64 } = await (await this.connection()).sendRequest(SlotFileRequest.type, { target, slot, path });
    return Buffer.from(base64, 'base64');
  }

  async slotSpace(target: string): Promise<SlotSpace[]> {
    return (await this.connection()).sendRequest(SlotSpaceRequest.type, { target });
  }

  /** A file's versions across the ring (the engine's ring index; see FileHistoryRequest). */
  async fileHistory(target: string, path: string): Promise<FileHistory> {
    return (await this.connection()).sendRequest(FileHistoryRequest.type, { target, path });
  }

  /** What a complete slot's backup changed in one folder, deleted files included. */
  async slotChanges(target: string, slot: number, path: string): Promise<SlotChanges> {
    return (await this.connection()).sendRequest(SlotChangesRequest.type, { target, slot, path });
  }

  async findInSlots(target: string, pattern: string, source: string | null, token?: vscode.CancellationToken): Promise<FindResult> {
    return (await this.connection()).sendRequest(FindInSlotsRequest.type, { target, pattern, limit: 200, source }, token);
  }

  async validate(profile: ProfileInput): Promise<{ notes: string[] }> {
    return (await this.connection()).sendRequest(ValidateProfileRequest.type, { profile });
  }

  async preview(profile: ProfileInput, token: vscode.CancellationToken): Promise<PreviewResult | null> {
    return (await this.connection()).sendRequest(PreviewBackupRequest.type, { profile }, token);
  }

  async verify(target: string, slot: number): Promise<VerifyResult> {
    return (await this.connection()).sendRequest(VerifyRequest.type, { target, slot });
  }

  async restore(params: { target: string; slot: number; path: string; to: string; overwrite: boolean; keepAsideDir?: string }): Promise<RestoreResult> {
    return (await this.connection()).sendRequest(RestoreRequest.type, params);
  }

  /** Restores a whole slot (path '') or one of its folders into a new or empty folder. */
  async restoreInto(params: { target: string; slot: number; id?: string; path: string; into: string }): Promise<RestoreResult> {
    return (await this.connection()).sendRequest(RestoreIntoRequest.type, params);
  }

  async deleteSlot(params: { target: string; slot: number; id?: string }): Promise<DeleteSlotResult> {
    return (await this.connection()).sendRequest(DeleteSlotRequest.type, params);
  }

  async labelSlot(params: { target: string; slot: number; id?: string; label: string | null }): Promise<LabelResult> {
    return (await this.connection()).sendRequest(LabelSlotRequest.type, params);
  }

  async repair(params: { target: string; slot: number; id?: string; paths: string[]; dryRun: boolean }): Promise<RepairResult> {
    return (await this.connection()).sendRequest(RepairRequest.type, params);
  }

  /**
   * Runs a backup in the engine. Progress arrives as BackupProgressNotification (phase, percent,
   * bytes, files: the numbers the UI smooths into rate and time left); cancelling `token` sends
   * `$/cancelRequest`, which the engine turns into stopping rsync and releasing the snapshot.
   * Resolves with null when the request was cancelled.
   */
  async backup(profile: ProfileInput, onProgress: (p: BackupProgress) => void, token: vscode.CancellationToken): Promise<BackupResult | null> {
    const client = await this.connection();
    const listener = (e: ProgressEvent) => onProgress({ message: progressDetail(e), percentage: e.percent ?? undefined, event: e });
    this.progressListener = listener;
    try {
      const result = await client.sendRequest(BackupRequest.type, { profile }, token);
      return token.isCancellationRequested && result === null ? null : result;
    } finally {
      if (this.progressListener === listener) this.progressListener = undefined;
    }
  }

  async dispose(): Promise<void> {
    this.ringChanged.dispose();
    const client = this.client;
    this.client = undefined;
    if (client?.isRunning()) await client.stop(5000).catch(() => undefined);
  }
}
