import * as vscode from 'vscode';
import { Commands } from '../commandIds';
import type { FeatureModule, Services } from '../services';
import { randomBytes } from 'node:crypto';
import { SECTION, sourceFolder, workspaceProfile } from '../settings';
import { describeEngineError, engineErrorDetails } from '../engineErrors';
import { showErrorWithLog } from '../slots/slotCommands';
import type { PreviewResult } from '../../core/filter/preview';
import { previewModel, type PreviewModel } from './previewModel';
import { previewHtml } from './previewHtml';
import { filterRuleOf, goToRule, showFilterRuleError } from './filterRuleError';

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
      new vscode.Disposable(() => panel?.dispose()),
    ];
  },
};

/** What Preview Backup returns to scripted callers (the tests): the result and the page shown. */
export interface PreviewShown { result: PreviewResult; model: PreviewModel; html: string }

let panel: vscode.WebviewPanel | undefined;

async function preview(services: Services): Promise<PreviewShown | undefined> {
  const folder = sourceFolder();
  const profile = workspaceProfile();
  if (!profile || !folder) {
    void vscode.window.showWarningMessage('Open the folder you want to back up first.');
    return undefined;
  }
  let result: PreviewResult | null;
  try {
    result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Previewing the next backup (rsync dry run)…', cancellable: true },
      (_progress, token) => services.engine.preview(profile, token),
    );
  } catch (error) {
    const rule = filterRuleOf(engineErrorDetails(error));
    if (rule) void showFilterRuleError(`Preview Backup: ${describeEngineError(error)}`, rule);
    else void showErrorWithLog(`Preview Backup failed: ${describeEngineError(error)}`);
    return undefined;
  }
  if (!result) return undefined;
  const model = previewModel(result, folder.name);
  if (!panel) {
    // Read-only by nature: a rendered page, never an unsaved document that asks to be saved.
    panel = vscode.window.createWebviewPanel('shadowSlots.preview', `Preview Backup: ${folder.name}`, vscode.ViewColumn.Active, { enableScripts: true, enableFindWidget: true });
    panel.onDidDispose(() => { panel = undefined; });
    panel.webview.onDidReceiveMessage((m: { type?: string; file?: unknown; line?: unknown }) => {
      if (m.type === 'goToRule' && typeof m.file === 'string' && typeof m.line === 'number') void goToRule({ file: m.file, line: m.line, character: 0 });
    });
  }
  panel.title = `Preview Backup: ${folder.name}`;
  const html = previewHtml(model, randomBytes(16).toString('base64'), panel.webview.cspSource);
  panel.webview.html = html;
  panel.reveal(vscode.ViewColumn.Active);
  return { result, model, html };
}
