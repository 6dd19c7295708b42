import * as vscode from 'vscode';
import * as path from 'node:path';
import { Commands } from '../commandIds';
import type { Services } from '../services';
import { fileIdentity, sameVersion, type FileIdentity } from '../../platform/listing';
import { describeEngineError } from '../engineErrors';
import { formatAge, formatBytes, formatLocalTime, orderSlots } from './slotNodeData';
import { itemUri, slotTitle, sourceRootOf, toSlotItem, workspacePathOf, type SlotItem } from './slotItem';
import { slotUri } from './slotFileSystem';
import { restoreConfirmation } from './restoreText';
import { sourceFolder } from '../settings';
import type { SlotSummary } from '../../rpc/protocol';

/** Options for scripted callers (tests, keybindings); menus never pass them. */
export interface RestoreOptions {
  /** Skip the modal confirmation (the caller has confirmed otherwise). */
  confirmed?: boolean;
}

function requireItem(arg: unknown, services: Services): SlotItem {
  const item = toSlotItem(arg, services.ring);
  if (!item) throw new Error('Select a file or folder of a slot in the Slots view first.');
  return item;
}

export function registerSlotCommands(services: Services): vscode.Disposable[] {
  const { ring } = services;
  return [
    vscode.commands.registerCommand(Commands.openSlotFile, async (arg: unknown) => {
      const item = requireItem(arg, services);
      await vscode.commands.executeCommand('vscode.open', itemUri(item), { preview: true });
    }),

    vscode.commands.registerCommand(Commands.compareWithWorkspace, async (arg: unknown) => {
      const item = requireItem(arg, services);
      const current = workspacePathOf(item);
      if (!current || !(await fileIdentity(current))) {
        const open = await vscode.window.showInformationMessage(`"${item.relPath}" is no longer in the workspace; only ${slotTitle(item, formatLocalTime)} has it.`, 'Open Slot Version', 'Restore…');
        if (open === 'Open Slot Version') await vscode.commands.executeCommand(Commands.openSlotFile, itemUri(item));
        if (open === 'Restore…') await vscode.commands.executeCommand(Commands.restore, itemUri(item));
        return;
      }
      await openDiff(item, vscode.Uri.file(current));
    }),

    vscode.commands.registerCommand(Commands.restore, async (arg: unknown, options?: RestoreOptions) => restore(services, requireItem(arg, services), options ?? {})),

    vscode.commands.registerCommand(Commands.revealInFileManager, async (arg: unknown) => {
      await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(requireItem(arg, services).fsPath));
    }),

    vscode.commands.registerCommand(Commands.copyPath, async (arg: unknown) => {
      const p = requireItem(arg, services).fsPath;
      await vscode.env.clipboard.writeText(p);
      return p;
    }),

    vscode.commands.registerCommand(Commands.verifySlot, async (arg: unknown) => verify(services, toSlotItem(arg, ring))),

    vscode.commands.registerCommand(Commands.compareWithSlot, async (arg: unknown, slotNumber?: number) => compareWithSlot(services, arg, slotNumber)),
  ];
}

async function openDiff(item: SlotItem, current: vscode.Uri): Promise<void> {
  const name = path.basename(current.fsPath);
  await vscode.commands.executeCommand('vscode.diff', itemUri(item), current, `${name} (${slotTitle(item, formatLocalTime)}) \u2194 ${name} (workspace)`);
}

async function restore(services: Services, item: SlotItem, options: RestoreOptions): Promise<{ restored: string[]; keptAside: string | null } | undefined> {
  if (item.kind === 'slot') throw new Error('Restore a file or folder from inside the slot; restoring a whole slot over the workspace is not offered here.');
  const destination = workspacePathOf(item);
  if (!destination) throw new Error('Open the folder the slot was taken from to restore into it.');
  const slotId = fileIdentity(item.fsPath);
  const [inSlot, current] = await Promise.all([slotId, fileIdentity(destination)]);
  if (!inSlot) throw new Error(`"${item.relPath}" is not in slot ${item.slot} (anymore).`);
  const text = restoreConfirmation({
    relPath: item.relPath, kind: inSlot.isFile ? 'file' : 'folder', slotTitle: slotTitle(item, formatLocalTime),
    destination, destinationExists: current !== undefined,
  });
  if (!options.confirmed) {
    const answer = await vscode.window.showWarningMessage(text.message, { modal: true, detail: text.detail }, text.button);
    if (answer !== text.button) return undefined;
  }
  // Kept-aside versions live in the extension's storage, never in the workspace (they would show
  // up in search and in the next backup) and never in the ring (they are not a slot).
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const keepAsideDir = vscode.Uri.joinPath(services.context.globalStorageUri, 'kept-aside', stamp).fsPath;
  try {
    const result = await services.engine.restore({ target: item.target, slot: item.slot, path: item.relPath, to: sourceRootOf(item)!, overwrite: true, keepAsideDir });
    services.log.info(`Restored ${item.relPath} from slot ${item.slot} to ${destination}${result.keptAside ? `; previous version kept in ${result.keptAside}` : ''}`);
    const actions = result.keptAside ? ['Undo Restore', 'Reveal Previous Version'] : [];
    void vscode.window.showInformationMessage(`Restored "${item.relPath}" from ${slotTitle(item, formatLocalTime)}.${result.keptAside ? ' The previous version was kept aside.' : ''}`, ...actions).then(async (a) => {
      if (!result.keptAside) return;
      if (a === 'Reveal Previous Version') await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(result.keptAside));
      if (a === 'Undo Restore') {
        // The restored version is still in the slot, so putting the kept one back loses nothing.
        await vscode.workspace.fs.rename(vscode.Uri.file(result.keptAside), vscode.Uri.file(destination), { overwrite: true });
        services.log.info(`Undid the restore of ${destination}`);
      }
    });
    return result;
  } catch (error) {
    const message = describeEngineError(error);
    services.log.error(`Restore of ${item.relPath} from slot ${item.slot} failed: ${message}`);
    void showErrorWithLog(`Restore failed: ${message}`);
    return undefined;
  }
}

export async function showErrorWithLog(message: string): Promise<void> {
  const a = await vscode.window.showErrorMessage(message, 'Open Log');
  if (a === 'Open Log') await vscode.commands.executeCommand(Commands.openLog);
}

async function pickSlot(services: Services, placeHolder: string): Promise<SlotItem | undefined> {
  const listing = services.ring.listing;
  const slots = listing ? orderSlots(listing).filter((s) => s.number !== null) : [];
  if (!listing || slots.length === 0) {
    void vscode.window.showInformationMessage('There are no slots yet. Run "Shadow Slots: Back Up Now" first.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(slots.map((s) => ({ label: `Slot ${s.number}`, description: s.manifest ? formatLocalTime(new Date(s.manifest.endedAt ?? s.manifest.startedAt)) : s.state, slot: s })), { placeHolder });
  if (!picked) return undefined;
  return toSlotItem(slotUri({ target: listing.target, slot: picked.slot.number!, relPath: '' }), services.ring);
}

async function verify(services: Services, given: SlotItem | undefined): Promise<unknown> {
  const item = given ?? await pickSlot(services, 'Verify which slot against its manifest?');
  if (!item) return undefined;
  try {
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Verifying slot ${item.slot}…` }, () => services.engine.verify(item.target, item.slot));
    if (!result.verified) {
      void vscode.window.showWarningMessage(`Slot ${item.slot} cannot be verified: ${result.note}`);
    } else if (result.ok) {
      void vscode.window.showInformationMessage(`Slot ${item.slot} verified: ${result.checked} files match its manifest.${result.note ? ` ${result.note}` : ''}`);
    } else {
      const list = (label: string, xs: string[]) => xs.length ? [`${label} (${xs.length}):`, ...xs.slice(0, 200).map((x) => `  ${x}`)] : [];
      services.log.warn([`Slot ${item.slot} differs from its manifest:`, ...list('missing', result.missing), ...list('changed', result.changed), ...list('extra', result.extra)].join('\n'));
      void showErrorWithLog(`Slot ${item.slot} differs from its manifest: ${result.missing.length} missing, ${result.changed.length} changed, ${result.extra.length} extra files.`);
    }
    return result;
  } catch (error) {
    void showErrorWithLog(`Verifying slot ${item.slot} failed: ${describeEngineError(error)}`);
    return undefined;
  }
}

interface Candidate { slot: number; summary: SlotSummary; id: FileIdentity; alsoIn: number[] }

/**
 * Compare with Slot…: offers only the slots whose version of the file differs from the current
 * one, one entry per distinct version (consecutive slots hard-linking the same inode are one
 * version), newest first.
 */
async function compareWithSlot(services: Services, arg: unknown, slotNumber: number | undefined): Promise<void> {
  const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  if (!uri || uri.scheme !== 'file') throw new Error('Compare with Slot… works on a file of the workspace.');
  const folder = vscode.workspace.getWorkspaceFolder(uri) ?? sourceFolder();
  if (!folder) throw new Error('Open the folder that is backed up first.');
  if (!services.ring.listing) await services.ring.refresh();
  const listing = services.ring.listing;
  if (!listing || listing.slots.length === 0) {
    void vscode.window.showInformationMessage('There are no slots yet. Run "Shadow Slots: Back Up Now" first.');
    return;
  }
  const candidates: Candidate[] = [];
  const current = await fileIdentity(uri.fsPath);
  if (!current) throw new Error(`${uri.fsPath} does not exist; restore it from the Slots view instead.`);
  for (const s of orderSlots(listing)) {
    if (s.number === null || s.state === 'in-progress' || s.state === 'interrupted') continue;
    const source = s.manifest?.source || folder.uri.fsPath;
    const rel = path.relative(source, uri.fsPath);
    if (rel.startsWith('..') || path.isAbsolute(rel)) continue;
    const id = await fileIdentity(path.join(s.path, rel));
    if (!id || !id.isFile || sameVersion(id, current)) continue;
    const same = candidates.find((c) => sameVersion(c.id, id));
    if (same) same.alsoIn.push(s.number);
    else candidates.push({ slot: s.number, summary: s, id, alsoIn: [] });
  }
  const name = path.basename(uri.fsPath);
  let chosen: Candidate | undefined;
  if (slotNumber !== undefined) {
    chosen = candidates.find((c) => c.slot === slotNumber || c.alsoIn.includes(slotNumber));
    if (!chosen) throw new Error(`Slot ${slotNumber} has no different version of ${name}.`);
  } else if (candidates.length === 0) {
    void vscode.window.showInformationMessage(`No slot has a version of ${name} that differs from the current one.`);
    return;
  }
  if (!chosen) {
    const now = Date.now();
    const picked = await vscode.window.showQuickPick(candidates.map((c) => ({
      label: `Slot ${c.slot}`,
      description: `${formatLocalTime(new Date(c.id.mtimeMs))} \u00b7 ${formatAge(now - c.id.mtimeMs)}`,
      detail: `${formatBytes(c.id.size)}${c.alsoIn.length ? ` \u00b7 same version in slot${c.alsoIn.length > 1 ? 's' : ''} ${c.alsoIn.join(', ')}` : ''}`,
      candidate: c,
    })), { placeHolder: `Compare ${name} with the version in…`, matchOnDescription: true });
    if (!picked) return;
    chosen = picked.candidate;
  }
  const source = chosen.summary.manifest?.source || folder.uri.fsPath;
  const rel = path.relative(source, uri.fsPath).split(path.sep).join('/');
  const item = toSlotItem(slotUri({ target: listing.target, slot: chosen.slot, relPath: rel }), services.ring)!;
  await openDiff(item, uri);
}
