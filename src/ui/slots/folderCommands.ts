import * as vscode from 'vscode';
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { Commands } from '../commandIds';
import type { Services } from '../services';
import { ruleListFor } from '../../platform/filter/load';
import { isIncluded, MatchPath } from '../../core/filter/match';
import { plural } from '../../core/format';
import { workspaceProfile } from '../settings';
import { orderSlots, slotName } from './slotNodeData';
import { slotItemAt } from './slotItem';
import { slotUri } from './slotFileSystem';
import { currentListing, restore, type RestoreDone } from './slotCommands';
import { slotPickItems } from './pickItems';
import { diffFolders, type FolderDiff } from './folderDiff';
import type { SlotSummary } from '../../rpc/protocol';

/** The Explorer folder a command was run on, as a path relative to its workspace folder. */
function explorerFolder(arg: unknown): { uri: vscode.Uri; folder: vscode.WorkspaceFolder; rel: string } {
  const uri = arg instanceof vscode.Uri ? arg : undefined;
  const folder = uri ? vscode.workspace.getWorkspaceFolder(uri) : undefined;
  if (!uri || uri.scheme !== 'file' || !folder) throw new Error('Run this on a folder of the workspace in the Explorer.');
  return { uri, folder, rel: path.relative(folder.uri.fsPath, uri.fsPath).split(path.sep).join('/') };
}

/** Asks which backup (that holds the folder) to use; undefined when cancelled or none has it. */
async function pickSlotWithFolder(services: Services, rel: string, placeHolder: string): Promise<{ target: string; slot: SlotSummary } | undefined> {
  const listing = await currentListing(services);
  if (!listing) return undefined;
  const slots: SlotSummary[] = [];
  for (const s of orderSlots(listing)) {
    if (s.number !== null && s.state !== 'in-progress' && s.state !== 'interrupted' && (await services.engine.slotEntry(listing.target, s.number, rel).catch(() => null))?.kind === 'folder') slots.push(s);
  }
  if (slots.length === 0) {
    void vscode.window.showInformationMessage(`No backup has the folder "${rel || '.'}".`);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(slotPickItems(slots, Date.now()), { placeHolder });
  return picked ? { target: listing.target, slot: picked.slot } : undefined;
}

/** Whether the backup leaves a path out, by the workspace's excludes and filter file (a leaving folder prunes its contents). */
function backupExcludes(folder: vscode.WorkspaceFolder, rel: string): (child: string, isDir: boolean) => boolean {
  const profile = workspaceProfile();
  const filterFile = typeof profile?.filterFile === 'string' ? profile.filterFile : undefined;
  let text = '';
  try { if (filterFile) text = readFileSync(filterFile, 'utf8'); } catch { /* unreadable: only the excludes apply */ }
  const excludes = Array.isArray(profile?.excludes) ? profile.excludes.filter((e): e is string => typeof e === 'string') : [];
  const { entries } = ruleListFor(text, filterFile, excludes);
  const root = Buffer.from(folder.uri.fsPath.replace(/^\/+/, ''), 'utf8');
  return (child, isDir) => !isIncluded(entries, new MatchPath(rel === '' ? child : `${rel}/${child}`, isDir, root));
}

export function registerFolderCommands(services: Services): vscode.Disposable[] {
  return [
    // The Explorer passes (uri, selectedUris): only a number is a slot chosen by a scripted caller.
    vscode.commands.registerCommand(Commands.compareFolderWithSlot, async (arg: unknown, slotNumber?: unknown) => compareFolder(services, arg, typeof slotNumber === 'number' ? slotNumber : undefined)),
    vscode.commands.registerCommand(Commands.restoreFolderFromSlot, async (arg: unknown, slotNumber?: unknown, options?: { confirmed?: boolean }) => restoreFolder(services, arg, typeof slotNumber === 'number' ? slotNumber : undefined, options ?? {})),
  ];
}

async function chooseSlot(services: Services, rel: string, slotNumber: number | undefined, placeHolder: string): Promise<{ target: string; slot: SlotSummary } | undefined> {
  if (slotNumber === undefined) return pickSlotWithFolder(services, rel, placeHolder);
  const listing = await currentListing(services);
  const slot = listing?.slots.find((s) => s.number === slotNumber);
  if (!listing || !slot) throw new Error(`There is no slot ${slotNumber}.`);
  return { target: listing.target, slot };
}

/**
 * Compare Folder with Slot…: every file of the folder that differs from the chosen backup, in one
 * multi-file diff editor (backup left, workspace right); files the backup leaves out are not "new".
 */
async function compareFolder(services: Services, arg: unknown, slotNumber: number | undefined): Promise<FolderDiff | undefined> {
  const { uri, folder, rel } = explorerFolder(arg);
  const chosen = await chooseSlot(services, rel, slotNumber, `Compare "${rel || folder.name}" with its copy in the backup of…`);
  if (!chosen) return undefined;
  const { target, slot } = chosen;
  // The folder comparison walks both trees side by side, which needs the slot on this computer.
  const host = services.ring.listing?.host;
  if (host) throw new Error(`This ring is on ${host}: Compare Folder with Slot works on rings on this computer. Compare single files, or restore the folder elsewhere and compare.`);
  const slotDir = slotItemAt(target, slot, rel, 'folder').fsPath;
  const diff = await diffFolders(slotDir, uri.fsPath, { excluded: backupExcludes(folder, rel) });
  const name = rel || folder.name;
  const total = diff.changed.length + diff.onlyInSlot.length + diff.onlyInWorkspace.length;
  if (total === 0) {
    void vscode.window.showInformationMessage(`"${name}" is the same as in the backup of ${slotName(slot)}.`);
    return diff;
  }
  // Untitled slot URIs: the same file name on both sides, so the editor does not list a rename (its title names the backup).
  const inSlot = (p: string) => slotUri({ target, slot: slot.number!, relPath: rel === '' ? p : `${rel}/${p}` });
  const inWork = (p: string) => vscode.Uri.joinPath(uri, ...p.split('/'));
  const resources: Array<[vscode.Uri, vscode.Uri | undefined, vscode.Uri | undefined]> = [
    ...diff.changed.map((p): [vscode.Uri, vscode.Uri, vscode.Uri] => [inWork(p), inSlot(p), inWork(p)]),
    ...diff.onlyInSlot.map((p): [vscode.Uri, vscode.Uri, undefined] => [inWork(p), inSlot(p), undefined]),
    ...diff.onlyInWorkspace.map((p): [vscode.Uri, undefined, vscode.Uri] => [inWork(p), undefined, inWork(p)]),
  ];
  const title = `${name}: backup of ${slotName(slot)} \u2194 workspace (${plural(diff.changed.length, 'changed file')}, ${diff.onlyInSlot.length} only in the backup, ${diff.onlyInWorkspace.length} new${diff.truncated ? ', first 500' : ''})`;
  await vscode.commands.executeCommand('vscode.changes', title, resources);
  return diff;
}

/** Restore Folder from Slot…: the chosen backup's copy of the folder replaces it, after the usual confirmation (the current one is kept aside). */
async function restoreFolder(services: Services, arg: unknown, slotNumber: number | undefined, options: { confirmed?: boolean }): Promise<RestoreDone | undefined> {
  const { rel } = explorerFolder(arg);
  if (rel === '') throw new Error('Restore a folder inside the workspace; the workspace folder itself is restored by copying the whole backup.');
  const chosen = await chooseSlot(services, rel, slotNumber, `Restore "${rel}" from the backup of…`);
  if (!chosen) return undefined;
  return restore(services, slotItemAt(chosen.target, chosen.slot, rel, 'folder'), options);
}
