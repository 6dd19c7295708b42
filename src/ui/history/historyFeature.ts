import * as vscode from 'vscode';
import * as path from 'node:path';
import { Commands, HISTORY_VIEW } from '../commandIds';
import type { FeatureModule, Services } from '../services';
import { describeEngineError } from '../engineErrors';
import { readSettings, sourceFolder } from '../settings';
import { newestComplete } from '../slots/slotNodeData';
import { parseSlotUri, SLOT_SCHEME } from '../slots/slotUri';
import { toSlotItem } from '../slots/slotItem';
import { HistoryView, type HistoryNode } from './historyView';
import { findInSlotsPick } from './findInSlots';

/** The ring the commands ask about: the listed one, else the configured one. */
function targetOf(services: Services): string {
  const target = services.ring.listing?.target ?? readSettings().target;
  if (!target) throw new Error('No backup target is configured yet: run "Shadow Slots: Configure Backup Target" first.');
  return target;
}

/** The folder the slots were taken from (the newest slot's manifest says), else the open folder. */
function sourceRoot(services: Services): string | undefined {
  const listing = services.ring.listing;
  return (listing ? newestComplete(listing)?.manifest?.source : undefined) || sourceFolder()?.uri.fsPath;
}

/**
 * The path inside the slots a command argument stands for: a slot URI or Slots-view row (a ghost
 * too), a workspace file (the Explorer, an editor), a path as text (Find in Slots), or, without
 * one, the active editor's file.
 */
function relPathOf(services: Services, arg: unknown): string {
  if (typeof arg === 'string') return arg;
  const uri = arg instanceof vscode.Uri ? arg : arg === undefined ? vscode.window.activeTextEditor?.document.uri : undefined;
  if (uri?.scheme === SLOT_SCHEME) return parseSlotUri(uri.path, uri.query).relPath;
  if (uri?.scheme === 'file') {
    const root = sourceRoot(services);
    const rel = root ? path.relative(root, uri.fsPath) : '';
    if (!root || rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`${uri.fsPath} is not inside the backed-up folder${root ? ` ${root}` : ''}.`);
    return rel.split(path.sep).join('/');
  }
  const item = arg === undefined ? undefined : toSlotItem(arg, services.ring);
  if (item && item.relPath !== '') return item.relPath;
  throw new Error('Choose a file: open it in an editor, or pick it in the Explorer or the Slots view.');
}

/** The File History in Slots view, and the commands that fill it (from a file, or Find in Slots). */
export function historyFeature(onView: (view: HistoryView) => void): FeatureModule {
  return {
    id: 'history',
    activate: (services) => {
      const history = new HistoryView();
      onView(history);
      const view = vscode.window.createTreeView(HISTORY_VIEW, { treeDataProvider: history });
      history.attach(view);
      const showHistory = async (arg?: unknown): Promise<HistoryNode[] | undefined> => {
        const target = targetOf(services);
        const rel = relPathOf(services, arg);
        try {
          const found = await services.engine.fileHistory(target, rel);
          const nodes = history.show(found);
          await vscode.commands.executeCommand(`${HISTORY_VIEW}.focus`);
          return nodes;
        } catch (error) {
          void vscode.window.showErrorMessage(`No history of ${rel}: ${describeEngineError(error)}`);
          return undefined;
        }
      };
      return [
        history,
        view,
        vscode.commands.registerCommand(Commands.showFileHistory, showHistory),
        vscode.commands.registerCommand(Commands.findInSlots, async (initial?: string) => {
          const picked = await findInSlotsPick(services.engine, targetOf(services), sourceRoot(services) ?? null, typeof initial === 'string' ? initial : '');
          return picked === undefined ? undefined : showHistory(picked);
        }),
        vscode.commands.registerCommand(Commands.compareVersions, async (node: HistoryNode) => {
          const newer = node.slotUri;
          if (!newer) return;
          const older = node.olderUri;
          const name = path.posix.basename(node.path);
          if (!older) await vscode.commands.executeCommand('vscode.open', newer, { preview: true });
          else await vscode.commands.executeCommand('vscode.diff', older, newer, `${name} (slot ${node.row.olderSlot}) \u2194 ${name} (slot ${node.row.slot})`, { preview: true });
        }),
        // A backup renumbers the slots: the rows shown would open the wrong ones.
        services.ring.onDidChange(() => {
          const shown = history.shown;
          if (shown && shown.target === services.ring.listing?.target) void services.engine.fileHistory(shown.target, shown.path).then((h) => history.show(h), () => undefined);
        }),
      ];
    },
  };
}
