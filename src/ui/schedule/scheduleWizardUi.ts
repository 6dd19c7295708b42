import * as vscode from 'vscode';
import type { PickItem, ScheduleWizard, StepView, WizardResult } from '../../core/schedule/wizard';
import { InputFlowAction, MultiStepInput } from './multiStepInput';

interface Item extends vscode.QuickPickItem { id: string }

/** The title with the step counter, e.g. "Create Backup Schedule — Step 2/6" (UI tests look for it). */
export function stepTitle(view: StepView, editing: boolean): string {
  return `${editing ? 'Edit Backup Schedule' : view.title} — Step ${view.step}/${view.totalSteps}`;
}

function toItem(p: PickItem): Item {
  return { id: p.id, label: p.label, ...(p.description ? { description: p.description } : {}), ...(p.detail ? { detail: p.detail } : {}), ...(p.picked ? { picked: true } : {}) };
}

const SHOW_ARTEFACT = '__show-artefact';

/**
 * Runs the pure wizard in QuickInput widgets until Create (result) or cancel (undefined). The
 * review step opens the exact artefact beside the editor, read-only in spirit (an untitled
 * document the user may close), and lists the summary, next run and platform notes.
 */
export async function runScheduleWizard(wizard: ScheduleWizard, options: { editing: boolean; artefactLanguage: string }): Promise<WizardResult | undefined> {
  const input = new MultiStepInput();
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
            const doc = await vscode.workspace.openTextDocument({ content: view.artefact, language: options.artefactLanguage });
            await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
          }
          const items: Item[] = [
            ...view.items.map(toItem),
            ...view.details.map((d, i) => ({ id: `detail-${i}`, label: `$(info) ${d}` })),
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
  }
}

function report(message: string | undefined): void {
  // A pick that is not acceptable (e.g. no days) keeps the step open and says why.
  if (message !== undefined) void vscode.window.showWarningMessage(message);
}
