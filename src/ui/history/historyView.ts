import * as vscode from 'vscode';
import type { FileHistory } from '../../core/slotHistory';
import { Commands } from '../commandIds';
import { slotUri } from '../slots/slotFileSystem';
import { historyRows, type HistoryRow } from './historyData';

/** One row of the view; a version row stands for its file in a slot (the slot commands take `slotUri`). */
export class HistoryNode {
  constructor(readonly target: string, readonly path: string, readonly row: HistoryRow) {}
  /** The version in the newest slot holding it (titled: the editor tab names the slot). */
  get slotUri(): vscode.Uri | undefined {
    return this.row.slot === null ? undefined : slotUri({ target: this.target, slot: this.row.slot, relPath: this.path }, true);
  }
  get olderUri(): vscode.Uri | undefined {
    return this.row.olderSlot === null ? undefined : slotUri({ target: this.target, slot: this.row.olderSlot, relPath: this.path }, true);
  }
}

/**
 * The File History in Slots view: the versions of one file across the ring, newest first (like
 * GitLens's file history; VS Code's Timeline API is still proposed). Shows whatever history it is
 * given; the commands (historyCommands.ts) ask the engine for it.
 */
export class HistoryView implements vscode.TreeDataProvider<HistoryNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private history: FileHistory | undefined;
  private nodes: HistoryNode[] = [];
  private view: vscode.TreeView<HistoryNode> | undefined;

  attach(view: vscode.TreeView<HistoryNode>): void {
    this.view = view;
    view.message = 'Open a file and run "Shadow Slots: File History in Slots", or find one with "Find in Slots…".';
  }

  /** Shows `history`, its rows drawn at `now`; returns the rows (the tests read them). */
  show(history: FileHistory, now = new Date()): HistoryNode[] {
    this.history = history;
    this.nodes = historyRows(history, now).map((r) => new HistoryNode(history.target, history.path, r));
    if (this.view) {
      this.view.description = history.path;
      this.view.message = history.versions.length === 0 ? `${history.path} is in no slot.${history.notes.length > 0 ? ` ${history.notes.join(' ')}` : ''}` : undefined;
    }
    this.changed.fire(undefined);
    return this.nodes;
  }

  get shown(): FileHistory | undefined { return this.history; }

  getChildren(element?: HistoryNode): HistoryNode[] {
    return element ? [] : this.nodes;
  }

  getTreeItem(node: HistoryNode): vscode.TreeItem {
    const r = node.row;
    const item = new vscode.TreeItem(r.label, vscode.TreeItemCollapsibleState.None);
    item.description = r.description;
    item.tooltip = r.tooltip;
    if (r.kind === 'gap') {
      item.iconPath = new vscode.ThemeIcon('trash', new vscode.ThemeColor('gitDecoration.deletedResourceForeground'));
      item.contextValue = 'historyGap';
      return item;
    }
    item.id = `${node.target}\0${node.path}\0${r.slot}`;
    item.iconPath = new vscode.ThemeIcon('git-commit');
    item.contextValue = 'historyVersion';
    item.command = { command: Commands.compareVersions, title: 'Compare with the Previous Version', arguments: [node] };
    return item;
  }

  dispose(): void { this.changed.dispose(); }
}
