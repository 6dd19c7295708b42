import * as vscode from 'vscode';
import type { SlotSummary } from '../../rpc/protocol';
import { listSlotDirectory } from '../../platform/listing';
import { Commands } from '../commandIds';
import type { RingModel } from '../ringModel';
import { describeEntry, describeSlot, orderSlots, type EntryNodeView, type IconRef } from './slotNodeData';
import { slotUri } from './slotFileSystem';
import * as path from 'node:path';

/** A slot of the ring (root level). */
export class SlotNode {
  readonly kind = 'slot';
  constructor(readonly target: string, readonly slot: SlotSummary) {}
  get fsPath(): string { return this.slot.path; }
}

/** A file or folder inside a slot; `parent` links back so reveal and Restore know the slot. */
export class EntryNode {
  readonly kind = 'entry';
  constructor(readonly parent: SlotNode | EntryNode, readonly view: EntryNodeView) {}
  get slotNode(): SlotNode { return this.parent.kind === 'slot' ? this.parent : this.parent.slotNode; }
  get fsPath(): string { return path.join(this.slotNode.fsPath, ...this.view.relPath.split('/')); }
}

/** Shown instead of children when listing failed, so the reason is where the user looks. */
export class MessageNode {
  readonly kind = 'message';
  constructor(readonly message: string, readonly parent: SlotNode | EntryNode | undefined) {}
}

export type SlotsNode = SlotNode | EntryNode | MessageNode;

function themeIcon(icon: IconRef): vscode.ThemeIcon {
  return new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
}

/**
 * The Slots view. Root nodes come from the engine's listing (RingModel); a slot's folders are
 * read lazily, one folder per expansion (listSlotDirectory), so a huge slot costs nothing until
 * opened. Exposed to the tests through the extension's API: what they see is what the view renders.
 */
export class SlotsTreeProvider implements vscode.TreeDataProvider<SlotsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<SlotsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sub: vscode.Disposable;

  constructor(private readonly ring: RingModel) {
    this.sub = ring.onDidChange(() => this.changed.fire(undefined));
  }

  getChildren(element?: SlotsNode): vscode.ProviderResult<SlotsNode[]> {
    if (!element) {
      const listing = this.ring.listing;
      if (this.ring.error) return [new MessageNode(this.ring.error, undefined)];
      // Empty: the view's welcome content (package.json viewsWelcome) explains what to do.
      if (!listing) return [];
      return orderSlots(listing).map((s) => new SlotNode(listing.target, s));
    }
    if (element.kind === 'message') return [];
    return this.children(element);
  }

  private async children(element: SlotNode | EntryNode): Promise<SlotsNode[]> {
    const parentRel = element.kind === 'slot' ? '' : element.view.relPath;
    try {
      const entries = await listSlotDirectory(element.fsPath);
      if (entries.length === 0) return [new MessageNode('(empty folder)', element)];
      return entries.map((e) => new EntryNode(element, describeEntry(e, parentRel)));
    } catch (error) {
      return [new MessageNode(`Cannot read ${element.fsPath}: ${(error as Error).message}`, element)];
    }
  }

  getParent(element: SlotsNode): SlotsNode | undefined {
    return element.kind === 'slot' ? undefined : element.parent;
  }

  getTreeItem(element: SlotsNode): vscode.TreeItem {
    if (element.kind === 'message') {
      const item = new vscode.TreeItem(element.message, vscode.TreeItemCollapsibleState.None);
      item.iconPath = new vscode.ThemeIcon(element.parent ? 'info' : 'error');
      item.contextValue = 'message';
      return item;
    }
    if (element.kind === 'slot') {
      const v = describeSlot(element.slot, new Date());
      const item = new vscode.TreeItem(v.label, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `slot/${element.slot.id}`;
      item.description = v.description;
      item.tooltip = new vscode.MarkdownString(v.tooltip);
      item.contextValue = v.contextValue;
      item.iconPath = themeIcon(v.icon);
      return item;
    }
    const v = element.view;
    const item = new vscode.TreeItem(v.label, v.expandable ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = `slot/${element.slotNode.slot.id}/${v.relPath}`;
    item.description = v.description;
    item.tooltip = v.tooltip;
    item.contextValue = v.contextValue;
    const slotNumber = element.slotNode.slot.number;
    if (slotNumber !== null) {
      // The slot URI gives file-type icons from the theme and opens read-only.
      item.resourceUri = slotUri({ target: element.slotNode.target, slot: slotNumber, relPath: v.relPath });
    }
    if (typeof v.icon === 'string') item.iconPath = v.icon === 'folder' ? vscode.ThemeIcon.Folder : vscode.ThemeIcon.File;
    else item.iconPath = themeIcon(v.icon);
    if (v.contextValue === 'slotFile') {
      item.command = { command: Commands.openSlotFile, title: 'Open', arguments: [element] };
    }
    return item;
  }

  dispose(): void {
    this.sub.dispose();
    this.changed.dispose();
  }
}
