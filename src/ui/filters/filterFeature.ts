import * as vscode from 'vscode';
import { Commands } from '../commandIds';
import type { FeatureModule, Services } from '../services';
import { SECTION, workspaceProfile } from '../settings';
import { describeEngineError } from '../engineErrors';
import { showErrorWithLog } from '../slots/slotCommands';
import { formatPreview } from './previewText';

const FILTER_LANGUAGE = 'shadowslots-filter';

/**
 * The client side of the filter-rules language (docs/filters.md): the engine serves diagnostics,
 * hover, completion and quick fixes for `.shadowslots-filter` files, evaluated against the
 * workspace's profile; this keeps that profile current in the engine and starts the engine when
 * a filter file is open. Plus Preview Backup (rsync's own dry run of the next backup).
 */
export const filterFeature: FeatureModule = {
  id: 'filters',
  activate: (services) => {
    const startFor = (doc: vscode.TextDocument) => {
      if (doc.languageId === FILTER_LANGUAGE) void services.engine.ensureStarted().catch((e: unknown) => services.log.error(`Starting the engine for ${doc.uri.fsPath} failed: ${describeEngineError(e)}`));
    };
    vscode.workspace.textDocuments.forEach(startFor);
    return [
      vscode.workspace.onDidOpenTextDocument(startFor),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration(SECTION)) void services.engine.profileChanged(); }),
      vscode.commands.registerCommand(Commands.previewBackup, () => preview(services)),
    ];
  },
};

async function preview(services: Services): Promise<string | undefined> {
  const profile = workspaceProfile();
  if (!profile) {
    void vscode.window.showWarningMessage('Open the folder you want to back up first.');
    return undefined;
  }
  try {
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Previewing the next backup (rsync dry run)…', cancellable: true },
      (_progress, token) => services.engine.preview(profile, token),
    );
    if (!result) return undefined;
    const text = formatPreview(result);
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: text });
    await vscode.window.showTextDocument(doc, { preview: true });
    return text;
  } catch (error) {
    void showErrorWithLog(`Preview Backup failed: ${describeEngineError(error)}`);
    return undefined;
  }
}
