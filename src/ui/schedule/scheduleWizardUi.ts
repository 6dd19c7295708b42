import * as vscode from 'vscode';
import type { PickItem, ScheduleWizard, StepView, WizardResult } from '../../core/schedule/wizard';
import { InputFlowAction, MultiStepInput } from './multiStepInput';
import { wrapWords } from '../../core/format';

interface Item extends vscode.QuickPickItem { id: string }

/** The title with the step counter, e.g. "Create Backup Schedule — Step 2/6" (UI tests look for it). */
export function stepTitle(view: StepView, editing: boolean): string {
  return `${editing ? 'Edit Backup Schedule' : view.title} — Step ${view.step}/${view.totalSteps}`;
}

function toItem(p: PickItem): Item {
  return { id: p.id, label: p.label, ...(p.description ? { description: p.description } : {}), ...(p.detail ? { detail: p.detail } : {}), ...(p.picked ? { picked: true } : {}) };
}

const SHOW_ARTEFACT = '__show-artefact';
/** Characters a QuickPick row shows at its default width; longer review lines continue on the next row. */
const DETAIL_WIDTH = 76;

/** The scheme of the review's artefact: a read-only virtual document, never an unsaved editor. */
export const ARTEFACT_SCHEME = 'shadow-slots-artefact';

/**
 * The artefact the review step shows, as a read-only document of its own scheme: it cannot be
 * edited or saved, and it is closed when the wizard ends (created, cancelled or failed).
 */
class ArtefactDocument implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private text = '';
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(ARTEFACT_SCHEME, this);
  readonly uri: vscode.Uri;

  constructor(platformName: string) {
    this.uri = vscode.Uri.from({ scheme: ARTEFACT_SCHEME, path: `/What ${platformName} will register` });
  }

  provideTextDocumentContent(): string { return this.text; }

  async show(text: string, language: string): Promise<void> {
    this.text = text;
    this.changed.fire(this.uri);
    const doc = await vscode.languages.setTextDocumentLanguage(await vscode.workspace.openTextDocument(this.uri), language);
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
  }

  async close(): Promise<void> {
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputText && t.input.uri.toString() === this.uri.toString());
    if (tabs.length > 0) await vscode.window.tabGroups.close(tabs, true);
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}

/**
 * Runs the pure wizard in QuickInput widgets until Create (result) or cancel (undefined). The
 * review step opens the exact artefact beside the editor as a read-only document (closed again
 * when the wizard ends) and lists the summary, next run and platform notes.
 */
export async function runScheduleWizard(wizard: ScheduleWizard, options: { editing: boolean; artefactLanguage: string; platformName: string }): Promise<WizardResult | undefined> {
  const input = new MultiStepInput();
  const artefact = new ArtefactDocument(options.platformName);
  let shownArtefact: string | undefined;
  try {
    while (!wizard.done) {
      const view = wizard.view();
      const title = stepTitle(view, options.editing);
      try {
        if (view.kind === 'input') {
          const text = await input.showInputBox({ title, prompt: view.prompt, value: view.value, placeholder: view.placeholder, canGoBack: wizard.canGoBack, validate: (v) => wizard.validate(v) });
          report(wizard.submit({ text }));
        } else if (view.kind === 'review') {
          if (view.artefact && view.artefact !== shownArtefact) {
            shownArtefact = view.artefact;
            await artefact.show(view.artefact, options.artefactLanguage);
          }
          const items: Item[] = [
            ...view.items.map(toItem),
            ...view.details.flatMap((d, i) => wrapWords(d, DETAIL_WIDTH).map((line, j) => ({ id: `detail-${i}-${j}`, label: j === 0 ? `$(info) ${line}` : `$(blank) ${line}` }))),
            ...(view.artefact ? [{ id: SHOW_ARTEFACT, label: '$(file-code) Show the artefact that will be registered' }] : []),
          ];
          const [picked] = await input.showQuickPick({ title, placeholder: view.placeholder, items, canGoBack: wizard.canGoBack });
          if (picked?.id === SHOW_ARTEFACT) {
            shownArtefact = undefined;
            continue;
          }
          if (picked?.id.startsWith('detail-')) continue;
          report(wizard.submit({ ids: picked ? [picked.id] : [] }));
        } else {
          const items = view.items.map(toItem);
          const active = view.kind === 'pick' ? items.find((i) => i.id === view.activeId) : undefined;
          const picked = await input.showQuickPick({ title, placeholder: view.placeholder, items, canPickMany: view.kind === 'multi', canGoBack: wizard.canGoBack, ...(active ? { activeItem: active } : {}) });
          report(wizard.submit({ ids: picked.map((p) => p.id) }));
        }
      } catch (error) {
        if (error === InputFlowAction.back) wizard.back();
        else if (error === InputFlowAction.cancel) return undefined;
        else throw error;
      }
    }
    return wizard.result();
  } finally {
    input.dispose();
    await artefact.close().catch(() => undefined);
    artefact.dispose();
  }
}

function report(message: string | undefined): void {
  // A pick that is not acceptable (e.g. no days) keeps the step open and says why.
  if (message !== undefined) void vscode.window.showWarningMessage(message);
}
