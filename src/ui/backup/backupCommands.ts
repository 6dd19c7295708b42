import * as vscode from 'vscode';
import * as os from 'node:os';
import { readdirSync } from 'node:fs';
import { Commands, SLOTS_VIEW } from '../commandIds';
import type { FeatureModule, Services } from '../services';
import { profileFromSettings, readSettings, saveTarget, sourceFolder } from '../settings';
import { formatChanges, slotLogName, slotName } from '../slots/slotNodeData';
import { formatBytes, formatDuration, plural } from '../../core/format';
import { describeEngineError } from '../engineErrors';
import { showErrorWithLog } from '../slots/slotCommands';
import { filterRuleOf, showFilterRuleError } from '../filters/filterRuleError';
import { mediaRootCandidates, pickerStart } from './targetLocation';
import type { BackupOutcome } from './backupController';
import type { BackupProgress } from '../engineClient/engineClient';

export type BackupNowOutcome = BackupOutcome | { kind: 'already-running' } | { kind: 'not-configured'; reason: string };

/** Back Up Now, Cancel Backup, Configure Backup Target, Refresh Slots, Open Backup Log. */
export const backupFeature: FeatureModule = {
  id: 'backup',
  activate: (services) => [
    vscode.commands.registerCommand(Commands.backupNow, () => backupNow(services)),
    vscode.commands.registerCommand(Commands.cancelBackup, () => {
      if (!services.backup.cancel()) void vscode.window.showInformationMessage('No backup is running.');
    }),
    vscode.commands.registerCommand(Commands.configureTarget, (folder?: vscode.Uri) => configureTarget(services, folder)),
    vscode.commands.registerCommand(Commands.refresh, () => services.ring.refresh({ force: true })),
    vscode.commands.registerCommand(Commands.openLog, () => services.log.show(false)),
  ],
};

async function backupNow(services: Services): Promise<BackupNowOutcome> {
  if (services.backup.isRunning) {
    void vscode.window.showInformationMessage('A backup is already running; its progress is in the notification and the status bar.', 'Cancel Backup').then((a) => {
      if (a === 'Cancel Backup') services.backup.cancel();
    });
    return { kind: 'already-running' };
  }
  const folder = sourceFolder();
  if (!folder) {
    void vscode.window.showWarningMessage('Open the folder you want to back up first.');
    return { kind: 'not-configured', reason: 'no folder' };
  }
  const settings = readSettings(folder.uri);
  if (settings.target === '') {
    void vscode.window.showWarningMessage('No backup target is configured.', 'Configure Backup Target').then((a) => {
      if (a) void vscode.commands.executeCommand(Commands.configureTarget);
    });
    return { kind: 'not-configured', reason: 'no target' };
  }
  const profile = profileFromSettings(settings, folder.uri.fsPath);
  services.log.info(`Back Up Now: ${folder.uri.fsPath} → ${settings.target}`);
  // Reserve the run before anything awaits, so a second Back Up Now right behind this one is refused.
  let onProgress: ((p: BackupProgress) => void) | undefined;
  const running = services.backup.start(profile, (p) => onProgress?.(p));
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Backing up ${folder.name}`, cancellable: true },
    (progress, token) => {
      let reported = 0;
      onProgress = (p) => {
        // withProgress takes increments; the engine reports absolute percentages.
        const pct = p.percentage ?? reported;
        progress.report({ message: p.message, increment: Math.max(0, pct - reported) });
        reported = Math.max(reported, pct);
      };
      token.onCancellationRequested(() => services.backup.cancel());
      return running;
    },
  );
  void services.ring.refresh();
  report(services, outcome);
  return outcome;
}

function report(services: Services, outcome: BackupOutcome): void {
  if (outcome.kind === 'cancelled') {
    services.log.info('Backup cancelled; the ring was not changed.');
    void vscode.window.showInformationMessage('Backup cancelled. The ring was not changed; the next backup starts over.');
    return;
  }
  if (outcome.kind === 'failed') {
    services.log.error(`Backup failed: ${outcome.message}`);
    const rule = filterRuleOf(outcome.details);
    if (rule) void showFilterRuleError(`Backup not started: ${outcome.message}`, rule);
    else void showErrorWithLog(`Backup failed: ${outcome.message}`);
    return;
  }
  const r = outcome.result;
  const counts = r.slot.manifest?.counts;
  const what = counts ? ` ${formatChanges(counts)}, ${formatBytes(counts.bytesSent)} copied.` : '';
  const name = slotName(r.slot);
  services.log.info(`Backup ${r.outcome}: ${slotLogName(r.slot)} in ${formatDuration(r.durationMs)}.${what}`);
  for (const w of r.warnings) services.log.warn(w);
  if (r.outcome === 'complete') {
    void vscode.window.showInformationMessage(`Backup complete: ${name} in ${formatDuration(r.durationMs)}.${what}`, 'Show Slots').then((a) => {
      if (a) void vscode.commands.executeCommand(`${SLOTS_VIEW}.focus`);
    });
  } else {
    const why = r.outcome === 'partial'
      ? 'Backup partial: some files could not be copied and the ring was not rotated.'
      : `Backup complete with ${plural(r.warnings.length, 'warning')}: ${name} in ${formatDuration(r.durationMs)}.${what}`;
    void vscode.window.showWarningMessage(`${why} ${r.warnings[0] ?? ''}`.trim(), 'Open Log').then((a) => {
      if (a) services.log.show(false);
    });
  }
}

const LAST_TARGET_KEY = 'shadowSlots.lastTarget';

/** Removable-media folders that exist and hold something (an empty /media says nothing). */
function mediaRoots(): string[] {
  return mediaRootCandidates(process.platform, os.userInfo().username).filter((d) => {
    try { return readdirSync(d).length > 0; } catch { return false; }
  });
}

/**
 * Picks a folder (or takes one), validates the resulting profile in the engine, and only then
 * saves it. The picker opens outside the workspace; a refused choice is explained in full and
 * the picker opens again. Afterwards it says where the ring is and where the choice was saved.
 */
async function configureTarget(services: Services, given?: vscode.Uri): Promise<string | undefined> {
  const folder = sourceFolder();
  const current = readSettings(folder?.uri).target;
  let chosen = given;
  for (;;) {
    if (!chosen) {
      const start = pickerStart({
        workspace: folder?.uri.fsPath, current: current || undefined, last: services.context.globalState.get<string>(LAST_TARGET_KEY),
        mediaRoots: mediaRoots(), home: os.homedir(),
      });
      const picked = await vscode.window.showOpenDialog({
        canSelectFiles: false, canSelectFolders: true, canSelectMany: false,
        openLabel: 'Use as Backup Target', title: 'Where should the slots be kept? (best on another disk)',
        defaultUri: vscode.Uri.file(start),
      });
      chosen = picked?.[0];
    }
    if (!chosen) return undefined;
    const target = chosen.fsPath;
    const refusal = folder ? await refusalOf(services, folder, target) : undefined;
    if (refusal === undefined) break;
    // A folder handed in by a caller (a test, another command) is refused without a picker to reopen.
    if (given) {
      void vscode.window.showErrorMessage(`${target} cannot be the backup target: ${refusal}`);
      return undefined;
    }
    const again = 'Choose Another Folder';
    const answer = await vscode.window.showErrorMessage(`${target} cannot be the backup target.`, { modal: true, detail: refusal }, again);
    if (answer !== again) return undefined;
    chosen = undefined;
  }
  const target = chosen.fsPath;
  const origin = await saveTarget(folder, target);
  await services.context.globalState.update(LAST_TARGET_KEY, target);
  services.log.info(`Backup target of ${folder?.uri.fsPath ?? 'this window'}: ${target} (saved in the ${origin})`);
  await services.ring.refresh();
  const where = origin === 'folder settings'
    ? 'Saved in this folder\'s settings (.vscode/settings.json), where it was set before.'
    : 'Saved in your user settings for this folder, not in .vscode/settings.json: it is neither backed up nor shared with the project.';
  const backUp = 'Back Up Now';
  void vscode.window.showInformationMessage(`The slots of ${folder?.name ?? 'this folder'} will be kept in ${target}. ${where}`, backUp).then((a) => {
    if (a === backUp) void vscode.commands.executeCommand(Commands.backupNow);
  });
  return target;
}

/** Why the engine refuses `target` for this folder (its own words), or undefined when it accepts it. */
async function refusalOf(services: Services, folder: vscode.WorkspaceFolder, target: string): Promise<string | undefined> {
  try {
    const { notes } = await services.engine.validate(profileFromSettings({ ...readSettings(folder.uri), target }, folder.uri.fsPath));
    for (const n of notes) void vscode.window.showWarningMessage(n);
    return undefined;
  } catch (error) {
    return describeEngineError(error);
  }
}
