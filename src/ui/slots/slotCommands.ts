import * as vscode from 'vscode';
import * as path from 'node:path';
import { copyFile, rename, rm } from 'node:fs/promises';
import { Commands, ContextKeys } from '../commandIds';
import type { Services } from '../services';
import { fileIdentity, sameVersion, type FileIdentity } from '../../platform/listing';
import { describeEngineError } from '../engineErrors';
import { formatLocalTime, listSome, orderSlots, slotLogName, slotName } from './slotNodeData';
import { comparePickItem, slotPickItems } from './pickItems';
import { itemUri, slotTitle, sourceRootOf, toSlotItem, workspacePathOf, type SlotItem } from './slotItem';
import { slotUri } from './slotFileSystem';
import { restoreConfirmation } from './restoreText';
import { sourceFolder } from '../settings';
import type { RingListing, SlotSummary } from '../../rpc/protocol';
import { verifyReport } from './verifyText';

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

/**
 * Whether "reveal in the OS file manager" can show anything: only a desktop window whose files are
 * on this machine. In a browser (code-server, vscode.dev) or a remote window it does nothing
 * visible, so those offer something that works there instead (package.json uses the context key).
 */
function canRevealInOS(): boolean {
  return vscode.env.uiKind === vscode.UIKind.Desktop && !vscode.env.remoteName;
}

export function registerSlotCommands(services: Services): vscode.Disposable[] {
  const { ring } = services;
  void vscode.commands.executeCommand('setContext', ContextKeys.canRevealInOS, canRevealInOS());
  return [
    vscode.commands.registerCommand(Commands.openSlotFile, async (arg: unknown) => {
      const item = requireItem(arg, services);
      await vscode.commands.executeCommand('vscode.open', itemUri(item), { preview: true });
    }),

    vscode.commands.registerCommand(Commands.compareWithWorkspace, async (arg: unknown) => {
      const item = requireItem(arg, services);
      const current = workspacePathOf(item);
      if (!current || !(await fileIdentity(current))) return whereDeletedFileIs(services, item);
      await openDiff(item, vscode.Uri.file(current));
      return undefined;
    }),

    vscode.commands.registerCommand(Commands.restore, async (arg: unknown, options?: RestoreOptions) => restore(services, requireItem(arg, services), options ?? {})),

    vscode.commands.registerCommand(Commands.revealInFileManager, async (arg: unknown) => {
      const host = services.ring.listing?.host;
      if (host) throw new Error(`This ring is on ${host}; its folders cannot be shown in this computer's file manager. Use Open or Restore…`);
      await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(requireItem(arg, services).fsPath));
    }),

    vscode.commands.registerCommand(Commands.copyPath, async (arg: unknown) => {
      const host = services.ring.listing?.host;
      const p = `${host ? `${host}:` : ''}${requireItem(arg, services).fsPath}`;
      await vscode.env.clipboard.writeText(p);
      return p;
    }),

    vscode.commands.registerCommand(Commands.verifySlot, async (arg: unknown) => verify(services, toSlotItem(arg, ring))),

    // Menus pass (uri, selectedUris): only a number is a slot chosen by a scripted caller.
    vscode.commands.registerCommand(Commands.compareWithSlot, async (arg: unknown, slotNumber?: unknown) => compareWithSlot(services, arg, typeof slotNumber === 'number' ? slotNumber : undefined)),
  ];
}

/**
 * Compare with Workspace on a file the workspace no longer has: says which backups still have it
 * (every one, by date), and offers to open or restore this slot's version.
 */
async function whereDeletedFileIs(services: Services, item: SlotItem): Promise<string> {
  const listing = services.ring.listing;
  const holders: SlotSummary[] = [];
  for (const s of listing && listing.target === item.target ? orderSlots(listing) : []) {
    if (s.number === null) continue;
    if (await services.engine.slotEntry(item.target, s.number, item.relPath).catch(() => null)) holders.push(s);
  }
  const names = holders.map((s) => slotName(s));
  const which = names.length === 0 ? `${slotTitle(item, formatLocalTime)} has it` : names.length === 1 ? `only the backup of ${names[0]} has it` : `${names.length} backups have it: ${listSome(names, 4)}`;
  const message = `"${item.relPath}" is no longer in the workspace; ${which}.`;
  void vscode.window.showInformationMessage(message, 'Open Slot Version', 'Restore…').then(async (open) => {
    if (open === 'Open Slot Version') await vscode.commands.executeCommand(Commands.openSlotFile, itemUri(item));
    if (open === 'Restore…') await vscode.commands.executeCommand(Commands.restore, itemUri(item));
  });
  return message;
}

async function openDiff(item: SlotItem, current: vscode.Uri): Promise<void> {
  const name = path.basename(current.fsPath);
  await vscode.commands.executeCommand('vscode.diff', itemUri(item), current, `${name} (${slotTitle(item, formatLocalTime)}) \u2194 ${name} (workspace)`);
}

/** What a restore did, for scripted callers (the tests) and the Undo that follows it. */
export interface RestoreDone { restored: string[]; keptAside: string | null; message: string; undo?: () => Promise<string> }

/** Restores a file or folder of a slot into the workspace (after the confirmation) and offers Undo. */
export async function restore(services: Services, item: SlotItem, options: RestoreOptions): Promise<RestoreDone | undefined> {
  if (item.kind === 'slot') throw new Error('Restore a file or folder from inside the slot; restoring a whole slot over the workspace is not offered here.');
  const destination = workspacePathOf(item);
  if (!destination) throw new Error('Open the folder the slot was taken from to restore into it.');
  const [inSlot, current] = await Promise.all([services.engine.slotEntry(item.target, item.slot, item.relPath), fileIdentity(destination)]);
  if (!inSlot) throw new Error(`"${item.relPath}" is not in the backup of ${slotName(item.summary, item.slot)} (anymore).`);
  const isFile = inSlot.isFile;
  const text = restoreConfirmation({
    relPath: item.relPath, kind: isFile ? 'file' : 'folder', slotTitle: `the backup of ${slotName(item.summary, item.slot)}`,
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
  let result: { restored: string[]; keptAside: string | null };
  try {
    result = await services.engine.restore({ target: item.target, slot: item.slot, path: item.relPath, to: sourceRootOf(item)!, overwrite: true, keepAsideDir });
  } catch (error) {
    const message = describeEngineError(error);
    services.log.error(`Restore of ${item.relPath} from ${slotLogName(item.summary, item.slot)} failed: ${message}`);
    void showErrorWithLog(`Restore failed: ${message}`);
    return undefined;
  }
  const keptAside = result.keptAside;
  services.log.info(`Restored ${item.relPath} from ${slotLogName(item.summary, item.slot)} to ${destination}${keptAside ? `; the version it replaced is kept in ${keptAside}` : ''}`);
  const message = `Restored "${item.relPath}" from the backup of ${slotName(item.summary, item.slot)}.${keptAside ? ' The version it replaced was kept aside.' : ' Nothing was overwritten.'}`;
  const undo = keptAside ? () => undoRestore(services, item.relPath, destination, keptAside, isFile) : undefined;
  const actions = keptAside ? ['Undo Restore', ...(canRevealInOS() ? ['Reveal Previous Version'] : isFile ? ['Open Previous Version'] : [])] : [];
  void vscode.window.showInformationMessage(message, ...actions).then(async (a) => {
    if (!keptAside) return;
    if (a === 'Reveal Previous Version') await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(keptAside));
    if (a === 'Open Previous Version') await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(keptAside), { preview: true, viewColumn: vscode.ViewColumn.Beside });
    if (a === 'Undo Restore') await undo!().then((m) => vscode.window.showInformationMessage(m), (e: unknown) => showErrorWithLog(`Undo failed: ${(e as Error).message}`));
  });
  return { ...result, message, ...(undo ? { undo } : {}) };
}

/**
 * Puts back the version a restore replaced. A file gets its previous bytes written in place
 * (an open editor or diff of it stays open and shows them); a folder is swapped back whole. The
 * restored version is still in the slot, so nothing is lost either way.
 */
async function undoRestore(services: Services, relPath: string, destination: string, keptAside: string, isFile: boolean): Promise<string> {
  if (isFile) {
    await copyFile(keptAside, destination);
    await rm(keptAside, { force: true });
  } else {
    await rm(destination, { recursive: true, force: true });
    await rename(keptAside, destination);
  }
  services.log.info(`Undid the restore of ${destination}: the version kept in ${keptAside} is back`);
  return `Undid the restore: "${relPath}" is back to the version it had before; the restored one is still in the backup.`;
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
  const picked = await vscode.window.showQuickPick(slotPickItems(slots, Date.now()), { placeHolder });
  if (!picked) return undefined;
  return toSlotItem(slotUri({ target: listing.target, slot: picked.slot.number!, relPath: '' }), services.ring);
}

async function verify(services: Services, given: SlotItem | undefined): Promise<unknown> {
  const item = given ?? await pickSlot(services, 'Verify which backup against the checksums recorded when it was made?');
  if (!item) return undefined;
  const name = slotName(item.summary, item.slot);
  try {
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Verifying the backup of ${name}…` }, () => services.engine.verify(item.target, item.slot));
    const report = verifyReport(result, name);
    if (item.summary) services.verifyMarks.set(item.summary.id, result.verified ? { changed: result.changed, missing: result.missing, at: new Date().toISOString() } : undefined);
    if (report.log) services.log.warn(`${slotLogName(item.summary, item.slot)}: ${report.log}`);
    if (report.severity === 'info') void vscode.window.showInformationMessage(report.message);
    else if (report.severity === 'warning') void vscode.window.showWarningMessage(report.message);
    else void showErrorWithLog(report.message);
    return result;
  } catch (error) {
    void showErrorWithLog(`Verifying the backup of ${name} failed: ${describeEngineError(error)}`);
    return undefined;
  }
}

interface Candidate { slot: number; summary: SlotSummary; id: FileIdentity; alsoIn: SlotSummary[] }

/** Where `file` (absolute) is inside each slot: its own source by the manifest, else the open folder. */
function relInSlot(s: SlotSummary, file: string, fallbackRoot: string): string | undefined {
  const rel = path.relative(s.manifest?.source || fallbackRoot, file);
  return rel.startsWith('..') || path.isAbsolute(rel) ? undefined : rel;
}

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
  const listing = await currentListing(services);
  if (!listing) return;
  const candidates: Candidate[] = [];
  const current = await fileIdentity(uri.fsPath);
  if (!current) throw new Error(`${uri.fsPath} does not exist; restore it from the Slots view instead.`);
  for (const s of orderSlots(listing)) {
    if (s.number === null || s.state === 'in-progress' || s.state === 'interrupted') continue;
    const rel = relInSlot(s, uri.fsPath, folder.uri.fsPath);
    if (rel === undefined) continue;
    const id = await services.engine.slotEntry(listing.target, s.number, rel.split(path.sep).join('/')).catch(() => null);
    if (!id || !id.isFile || sameVersion(id, current)) continue;
    const same = candidates.find((c) => sameVersion(c.id, id));
    if (same) same.alsoIn.push(s);
    else candidates.push({ slot: s.number, summary: s, id, alsoIn: [] });
  }
  const name = path.basename(uri.fsPath);
  let chosen: Candidate | undefined;
  if (slotNumber !== undefined) {
    chosen = candidates.find((c) => c.slot === slotNumber || c.alsoIn.some((s) => s.number === slotNumber));
    if (!chosen) throw new Error(`Slot ${slotNumber} has no different version of ${name}.`);
  } else if (candidates.length === 0) {
    void vscode.window.showInformationMessage(`No backup has a version of ${name} that differs from the current one.`);
    return;
  }
  if (!chosen) {
    const now = Date.now();
    const picked = await vscode.window.showQuickPick(candidates.map((c) => ({
      ...comparePickItem({ summary: c.summary, slot: c.slot, size: c.id.size, mtimeMs: c.id.mtimeMs, alsoIn: c.alsoIn }, now),
      candidate: c,
    })), { placeHolder: `Compare ${name} with its version in the backup of…`, matchOnDescription: true, matchOnDetail: true });
    if (!picked) return;
    chosen = picked.candidate;
  }
  const rel = relInSlot(chosen.summary, uri.fsPath, folder.uri.fsPath)!.split(path.sep).join('/');
  const item = toSlotItem(slotUri({ target: listing.target, slot: chosen.slot, relPath: rel }), services.ring)!;
  await openDiff(item, uri);
}

/** The ring's listing, listed now if it is not yet; undefined (after saying so) when there are no slots. */
export async function currentListing(services: Services): Promise<RingListing | undefined> {
  if (!services.ring.listing) await services.ring.refresh();
  const listing = services.ring.listing;
  if (!listing || listing.slots.length === 0) {
    void vscode.window.showInformationMessage('There are no slots yet. Run "Shadow Slots: Back Up Now" first.');
    return undefined;
  }
  return listing;
}
