import * as vscode from 'vscode';
import { Commands } from '../commandIds';
import type { Services } from '../services';
import { labelProblem } from '../../core/label';
import { describeEngineError } from '../engineErrors';
import type { DeleteSlotResult, LabelResult, RepairResult, SlotSummary, VerifyResult } from '../../rpc/protocol';
import { slotLogName, slotName } from './slotNodeData';
import type { SlotItem } from './slotItem';
import { chosenSlot, slotRef } from './slotActionTarget';
import { restoreSlotTo } from './slotRestoreTo';
import { slotUri } from './slotFileSystem';
import { showErrorWithLog } from './slotCommands';
import { SlotActionCommands } from './slotActionIds';
import { deleteConfirmation, deletedText, repairedText, repairOffer } from './slotActionsText';

/**
 * Actions on whole slots: Label Slot…, Restore Whole Slot to Folder… (slotRestoreTo.ts), Repair Damaged Files… (offered by Verify) and Delete Slot… (after a
 * modal confirmation). Each works on a Slots view node, or from the palette after picking the
 * backup by its time; the engine does the work wherever the ring lives.
 */
export function registerSlotActions(services: Services): vscode.Disposable[] {
  return [
    // Scripted callers (tests, keybindings) may pass what the dialogs would ask for; menus never do.
    vscode.commands.registerCommand(SlotActionCommands.label, async (arg: unknown, label?: unknown) => labelSlot(services, arg, typeof label === 'string' ? label : undefined)),
    vscode.commands.registerCommand(SlotActionCommands.restoreTo, async (arg: unknown, into?: unknown) => restoreSlotTo(services, arg, into instanceof vscode.Uri ? into : undefined)),
    vscode.commands.registerCommand(SlotActionCommands.repair, async (arg: unknown, options?: { confirmed?: boolean }) => repair(services, arg, options ?? {})),
    vscode.commands.registerCommand(SlotActionCommands.delete, async (arg: unknown, options?: { confirmed?: boolean }) => deleteSlot(services, arg, options ?? {})),
  ];
}

async function labelSlot(services: Services, arg: unknown, scripted: string | undefined): Promise<LabelResult | undefined> {
  const item = await chosenSlot(services, arg, 'Label which backup?');
  if (!item) return undefined;
  const name = slotName(item.summary, item.slot);
  const value = scripted ?? await vscode.window.showInputBox({
    title: `Label the backup of ${name}`,
    prompt: 'A name shown next to its time, e.g. "before the refactoring". Leave it empty to remove the label.',
    value: item.summary?.manifest?.label ?? '',
    validateInput: (v) => {
      const problem = v.trim() === '' ? null : labelProblem(v.trim());
      return problem ? `This label cannot be used: ${problem}.` : undefined;
    },
  });
  if (value === undefined) return undefined;
  try {
    const result = await services.engine.labelSlot({ ...slotRef(item), label: value.trim() === '' ? null : value.trim() });
    services.log.info(result.label === null ? `Removed the label of ${slotLogName(item.summary, item.slot)}` : `Labelled ${slotLogName(item.summary, item.slot)} "${result.label}"`);
    await services.ring.refresh();
    return result;
  } catch (error) {
    void showErrorWithLog(`Labelling the backup of ${name} failed: ${describeEngineError(error)}`);
    return undefined;
  }
}

async function deleteSlot(services: Services, arg: unknown, options: { confirmed?: boolean }): Promise<DeleteSlotResult | undefined> {
  const item = await chosenSlot(services, arg, 'Delete which backup?');
  if (!item) return undefined;
  const name = slotName(item.summary, item.slot);
  if (!options.confirmed) {
    const ringSize = services.ring.listing?.slots.filter((s) => s.number !== null).length ?? 0;
    const text = deleteConfirmation(item.summary ?? { number: item.slot, id: '', state: 'complete', path: item.fsPath, manifest: null }, ringSize);
    if ((await vscode.window.showWarningMessage(text.message, { modal: true, detail: text.detail }, text.button)) !== text.button) return undefined;
  }
  try {
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Deleting the backup of ${name}…` }, () => services.engine.deleteSlot(slotRef(item)));
    if (item.summary) services.verifyMarks.set(item.summary.id, undefined);
    services.log.info(`Deleted ${slotLogName(item.summary, item.slot)}; ${result.remaining} slot(s) left`);
    for (const w of result.warnings) services.log.warn(w);
    await services.ring.refresh();
    void vscode.window.showInformationMessage(deletedText(result, name));
    return result;
  } catch (error) {
    void showErrorWithLog(`Deleting the backup of ${name} failed: ${describeEngineError(error)}`);
    return undefined;
  }
}

/**
 * After Verify found damage: asks the engine what a repair could do (a dry run) and shows the
 * damage with that — Repair N Files for a hard-linked slot with good copies, Delete Backup… for a
 * read-only copy-on-write one. Returns what was chosen, for scripted callers.
 */
export async function offerRepair(services: Services, item: SlotItem, result: VerifyResult, message: string): Promise<string | undefined> {
  const paths = [...result.changed, ...result.missing];
  let plan: RepairResult | undefined;
  const started = Date.now();
  services.log.info(`Looking for good copies of ${paths.length} damaged file(s) of ${slotLogName(item.summary, item.slot)}…`);
  try {
    plan = await services.engine.repair({ ...slotRef(item), paths, dryRun: true });
    services.log.info(`Good copies found for ${plan.repaired} of ${paths.length} damaged file(s) in ${Date.now() - started} ms.`);
  } catch (error) {
    services.log.warn(`Looking for good copies of the damaged files failed: ${describeEngineError(error)}`);
  }
  const offer = plan ? repairOffer(plan, services.ring.listing?.slots ?? []) : undefined;
  const buttons = [offer?.repair, offer?.delete, 'Open Log'].filter((b): b is string => b !== undefined);
  const answer = await vscode.window.showErrorMessage(offer ? `${message} ${offer.text}` : message, ...buttons);
  if (answer === 'Open Log') await vscode.commands.executeCommand(Commands.openLog);
  if (answer !== undefined && answer === offer?.repair) await vscode.commands.executeCommand(SlotActionCommands.repair, item.summary ? slotUri({ target: item.target, slot: item.slot, relPath: '' }) : undefined, { confirmed: true });
  if (answer !== undefined && answer === offer?.delete) await vscode.commands.executeCommand(SlotActionCommands.delete, slotUri({ target: item.target, slot: item.slot, relPath: '' }));
  return answer;
}

/** Repairs the files Verify marked damaged in the slot, then verifies it again. */
async function repair(services: Services, arg: unknown, options: { confirmed?: boolean }): Promise<RepairResult | undefined> {
  const item = await chosenSlot(services, arg, 'Repair which backup?');
  if (!item?.summary) return undefined;
  const name = slotName(item.summary, item.slot);
  const mark = services.verifyMarks.get(item.summary.id);
  if (!mark) {
    void vscode.window.showInformationMessage(`Verify the backup of ${name} first: the repair rewrites the files Verify finds damaged.`, 'Verify Slot').then((a) => {
      if (a) void vscode.commands.executeCommand(Commands.verifySlot, slotUri({ target: item.target, slot: item.slot, relPath: '' }));
    });
    return undefined;
  }
  const paths = [...mark.changed, ...mark.missing];
  if (!options.confirmed) {
    const button = `Repair ${paths.length === 1 ? '1 File' : `${paths.length} Files`}`;
    const detail = 'Each damaged file is rewritten from a copy whose checksum matches the one recorded when the backup was made (the source, or another backup); backups that share the file (hard links) are repaired with it. Files without a good copy are left as they are.';
    if ((await vscode.window.showWarningMessage(`Repair the damaged files of the backup of ${name}?`, { modal: true, detail }, button)) !== button) return undefined;
  }
  try {
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Repairing the backup of ${name}…` }, () => services.engine.repair({ ...slotRef(item), paths, dryRun: false }));
    for (const f of result.files) services.log.info(`Repair of ${f.path} in ${slotLogName(item.summary, item.slot)}: ${f.outcome}${f.from ? ` from ${f.from.kind === 'source' ? f.from.path : `slot ${f.from.number} [id ${f.from.id}]`}` : ''}${f.note ? ` (${f.note})` : ''}`);
    const again = await services.engine.verify(item.target, item.slot);
    services.verifyMarks.set(item.summary.id, again.verified ? { changed: again.changed, missing: again.missing, at: new Date().toISOString() } : undefined);
    // The same file in other slots (hard links) was repaired with it: their marks go too.
    for (const n of new Set(result.files.filter((f) => f.outcome === 'repaired').flatMap((f) => f.sharedWith))) {
      const other = services.ring.listing?.slots.find((s: SlotSummary) => s.number === n);
      if (other) services.verifyMarks.set(other.id, undefined);
    }
    const intact = again.ok;
    const text = repairedText(result, name, intact, services.ring.listing?.slots ?? []);
    if (intact) void vscode.window.showInformationMessage(text);
    else void showErrorWithLog(text);
    return result;
  } catch (error) {
    void showErrorWithLog(`Repairing the backup of ${name} failed: ${describeEngineError(error)}`);
    return undefined;
  }
}
