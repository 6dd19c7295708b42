import { createConnection, ProposedFeatures, ResponseError, TextDocuments, type Connection } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { ShadowSlotsError } from '../core/errors';
import { signalFromToken } from '../core/cancellation';
import { progressDetail } from '../core/progress';
import { validateProfile } from '../core/profile';
import { setLogSink } from '../platform/runner';
import {
  BackupProgressNotification, BackupRequest, ListRequest, LogNotification, PreviewBackupRequest, ProfileChangedNotification, RestoreRequest,
  RingChangedNotification, SlotEntryRequest, SlotFileRequest, SlotFolderRequest, SlotSpaceRequest, ValidateProfileRequest, VerifyRequest,
  type EngineErrorData,
} from '../rpc/protocol';
import { runBackup } from './backup';
import { listRing } from './list';
import { ringSpace } from './space';
import { listSlotFolder, readSlotFile, statSlotEntry } from './slotRead';
import { restore } from './restore';
import { verifySlot } from './verify';
import { FILTER_LANGUAGE_CAPABILITIES, registerFilterLanguage } from './filterLanguage';
import { previewBackup } from '../platform/filter/preview';
import { locateRsync } from '../platform/rsyncTool';
import { closeAllConnections, keepConnectionsFor } from '../platform/target/remoteHosts';
import type { ProfileInput } from '../core/profile';

/** Turns any failure into a ResponseError whose data carries the classified code and the hint. */
function toResponseError(error: unknown): ResponseError<EngineErrorData> {
  if (error instanceof ShadowSlotsError) {
    return new ResponseError(1, error.message, { code: error.code, hint: error.hint ?? null, details: error.details ?? null });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ResponseError(2, message, { code: 'internal', hint: null, details: null });
}

/** Registers the engine's requests on a connection (also used by tests over in-memory streams). */
export function registerEngine(connection: Connection): { documents: TextDocuments<TextDocument> } {
  setLogSink((level, message) => connection.sendNotification(LogNotification.type, { level, message }));
  let running = false;

  connection.onRequest(BackupRequest.type, async (params, token) => {
    if (running) {
      return toResponseError(new ShadowSlotsError('locked', 'A backup is already running in this window.', { hint: 'Wait for it to finish, or cancel it.' }));
    }
    running = true;
    const progress = params.workDoneToken !== undefined ? connection.window.attachWorkDoneProgress(params.workDoneToken) : undefined;
    progress?.begin('Shadow Slots backup', 0, 'Starting…', true);
    let target: string | undefined;
    try {
      // The boundary between the extension's settings and the engine: validated here, once.
      const { profile, notes } = validateProfile(params.profile);
      target = profile.target;
      const result = await runBackup({
        profile,
        notes,
        signal: signalFromToken(token),
        onProgress: (e) => {
          progress?.report(e.percent ?? 0, progressDetail(e));
          connection.sendNotification(BackupProgressNotification.type, e);
        },
      });
      connection.sendNotification(RingChangedNotification.type, { target: result.slot.path.replace(/[\\/][^\\/]+$/, '') });
      return result;
    } catch (error) {
      return toResponseError(error);
    } finally {
      running = false;
      progress?.done();
      if (target) connection.sendNotification(RingChangedNotification.type, { target });
    }
  });

  connection.onRequest(ListRequest.type, async (params) => {
    try { return await listRing(params.target); } catch (error) { return toResponseError(error); }
  });
  connection.onRequest(SlotFolderRequest.type, async (p) => {
    try { return await listSlotFolder(p.target, p.slot, p.path); } catch (error) { return toResponseError(error); }
  });
  connection.onRequest(SlotEntryRequest.type, async (p) => {
    try { return await statSlotEntry(p.target, p.slot, p.path); } catch (error) { return toResponseError(error); }
  });
  connection.onRequest(SlotFileRequest.type, async (p) => {
    try { return { base64: (await readSlotFile(p.target, p.slot, p.path)).toString('base64') }; } catch (error) { return toResponseError(error); }
  });
  connection.onRequest(SlotSpaceRequest.type, async (params) => {
    try { return await ringSpace(params.target); } catch (error) { return toResponseError(error); }
  });
  connection.onRequest(RestoreRequest.type, async (params) => {
    try {
      return await restore({ target: params.target, slot: params.slot, path: params.path, to: params.to, overwrite: params.overwrite, ...(params.keepAsideDir ? { keepAsideDir: params.keepAsideDir } : {}) });
    } catch (error) { return toResponseError(error); }
  });
  connection.onRequest(VerifyRequest.type, async (params, token) => {
    try { return await verifySlot(params.target, params.slot, signalFromToken(token)); } catch (error) { return toResponseError(error); }
  });
  connection.onRequest(ValidateProfileRequest.type, async (params) => {
    try { return { notes: validateProfile(params.profile).notes }; } catch (error) { return toResponseError(error); }
  });

  connection.onRequest(PreviewBackupRequest.type, async (params, token) => {
    try {
      const { profile } = validateProfile(params.profile);
      const rsync = await locateRsync(profile.rsyncPath);
      return await previewBackup({
        source: profile.source,
        target: profile.target,
        rsyncPath: rsync.path,
        filterFile: profile.filterFile,
        excludes: profile.excludes,
        signal: signalFromToken(token),
      });
    } catch (error) { return toResponseError(error); }
  });

  // The filter-file language features evaluate rules against the workspace profile's source.
  let profile: ProfileInput = {};
  const documents = new TextDocuments(TextDocument);
  connection.onInitialize((params) => {
    const options = params.initializationOptions as { profile?: ProfileInput } | undefined;
    if (options?.profile) profile = options.profile;
    return {
      capabilities: { textDocumentSync: 1, ...FILTER_LANGUAGE_CAPABILITIES },
      serverInfo: { name: 'shadow-slots-engine' },
    };
  });
  connection.onShutdown(() => closeAllConnections());
  connection.onNotification(ProfileChangedNotification.type, (params) => { profile = params.profile; });
  registerFilterLanguage(connection, documents, {
    sourceFor: () => (typeof profile.source === 'string' && profile.source !== '' ? profile.source : undefined),
    excludesFor: () => (Array.isArray(profile.excludes) ? profile.excludes.filter((e): e is string => typeof e === 'string') : []),
  });
  return { documents };
}

export function startServer(): void {
  // Browsing a remote slot is many small requests: one SSH connection serves them for a while.
  keepConnectionsFor(60_000);
  const connection = createConnection(ProposedFeatures.all);
  const { documents } = registerEngine(connection);
  documents.listen(connection);
  connection.listen();
}
