import * as vscode from 'vscode';
import * as path from 'node:path';
import { Commands, SLOTS_VIEW } from '../commandIds';
import type { FeatureModule, Services } from '../services';
import { profileFromSettings, readSettings, SECTION, sourceFolder } from '../settings';
import { formatBytes, formatChanges } from '../slots/slotNodeData';
import { describeEngineError } from '../engineErrors';
import { showErrorWithLog } from '../slots/slotCommands';
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
    void vscode.window.showInformationMessage('Backup cancelled. The ring was not changed.');
    return;
  }
  if (outcome.kind === 'failed') {
    services.log.error(`Backup failed: ${outcome.message}`);
    void showErrorWithLog(`Backup failed: ${outcome.message}`);
    return;
  }
  const r = outcome.result;
  const counts = r.slot.manifest?.counts;
  const seconds = (r.durationMs / 1000).toFixed(1);
  const what = counts ? ` ${formatChanges(counts)} files, ${formatBytes(counts.bytesSent)} sent.` : '';
  for (const w of r.warnings) services.log.warn(w);
  if (r.outcome === 'complete') {
    void vscode.window.showInformationMessage(`Backup complete: slot ${r.slot.number ?? 0} in ${seconds} s.${what}`, 'Show Slots').then((a) => {
      if (a) void vscode.commands.executeCommand(`${SLOTS_VIEW}.focus`);
    });
  } else {
    const why = r.outcome === 'partial' ? 'Backup partial: some files could not be copied and the ring was not rotated.' : `Backup complete with ${r.warnings.length} warning(s): slot ${r.slot.number ?? 0} in ${seconds} s.${what}`;
    void vscode.window.showWarningMessage(`${why} ${r.warnings[0] ?? ''}`.trim(), 'Open Log').then((a) => {
      if (a) services.log.show(false);
    });
  }
}

/** Picks a folder (or takes one), validates the resulting profile in the engine, and only then saves it. */
async function configureTarget(services: Services, given?: vscode.Uri): Promise<string | undefined> {
  const folder = sourceFolder();
  const current = readSettings(folder?.uri).target;
  let chosen = given;
  if (!chosen) {
    const picked = await vscode.window.showOpenDialog({
      canSelectFiles: false, canSelectFolders: true, canSelectMany: false,
      openLabel: 'Use as Backup Target', title: 'Shadow Slots: where should the slots be kept? (ideally another disk)',
      defaultUri: current ? vscode.Uri.file(current) : undefined,
    });
    chosen = picked?.[0];
  }
  if (!chosen) return undefined;
  const target = chosen.fsPath;
  if (folder) {
    try {
      const { notes } = await services.engine.validate(profileFromSettings({ ...readSettings(folder.uri), target }, folder.uri.fsPath));
      for (const n of notes) void vscode.window.showWarningMessage(n);
    } catch (error) {
      void vscode.window.showErrorMessage(`${path.basename(target) || target} cannot be the backup target: ${describeEngineError(error)}`);
      return undefined;
    }
  }
  await vscode.workspace.getConfiguration(SECTION, folder?.uri).update('target', target, folder ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global);
  await services.ring.refresh();
  return target;
}
