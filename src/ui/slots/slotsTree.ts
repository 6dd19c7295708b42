import * as vscode from 'vscode';
import type { SlotSummary } from '../../rpc/protocol';
import type { SlotDirEntry } from '../../rpc/protocol';
import { describeEngineError } from '../engineErrors';
import { Commands } from '../commandIds';
import type { RingModel } from '../ringModel';
import type { AgeClock } from '../ageClock';
import type { VerifyMarks } from './verifyMarks';
import { readSettings } from '../settings';
import { describeEntry, describeSlot, orderSlots, type EntryNodeView, type IconRef } from './slotNodeData';
import { slotUri } from './slotFileSystem';
import * as path from 'node:path';
import { localZone } from '../../core/schedule/zone';
import { scheduleGroupData, type ScheduleGroupData, type ScheduleNodeData } from '../schedule/scheduleNodes';

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
  constructor(readonly message: string, readonly parent: SlotNode | EntryNode | undefined, readonly icon: 'info' | 'error' = parent ? 'info' : 'error') {}
}

/** The "Schedules" node above the slots: the schedules that fill this ring. */
export class ScheduleGroupNode {
  readonly kind = 'scheduleGroup';
  readonly schedules: ScheduleNode[];
  constructor(readonly view: ScheduleGroupData, data: ScheduleNodeData[]) {
    this.schedules = data.map((d) => new ScheduleNode(this, d));
  }
}

/** One schedule; the schedule commands take it as their argument (its `scheduleId`). */
export class ScheduleNode {
  readonly kind = 'schedule';
  constructor(readonly parent: ScheduleGroupNode, readonly data: ScheduleNodeData) {}
  get scheduleId(): string { return this.data.id; }
}

export type SlotsNode = SlotNode | EntryNode | MessageNode | ScheduleGroupNode | ScheduleNode;

/** Where the view gets the schedules of its ring (the schedule feature, src/ui/schedule). */
export interface ScheduleSource {
  schedulesFor(target: string): Promise<ScheduleNodeData[]>;
  readonly onDidChange: vscode.Event<void>;
}

/** How the tree lists a slot's folder: through the engine, wherever the ring lives. */
export interface FolderReader {
  slotFolder(target: string, slot: number | string, path: string): Promise<SlotDirEntry[]>;
}

function themeIcon(icon: IconRef): vscode.ThemeIcon {
  return new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
}

/**
 * The Slots view. Root nodes come from the engine's listing (RingModel); a slot's folders are
 * read lazily by the engine, one folder per expansion, wherever the ring lives, so a huge slot
 * costs nothing until opened. Exposed to the tests through the extension's API: what they see is what the view renders.
 */
export class SlotsTreeProvider implements vscode.TreeDataProvider<SlotsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<SlotsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly sub: vscode.Disposable;
  private schedules: { source: ScheduleSource; sub: vscode.Disposable } | undefined;
  /** The slot rows last handed to the view: a tick redraws just them (expanded rows stay open). */
  private shown = new Map<string, SlotNode>();
  /** The time rows are drawn with; a clock tick sets it for every row at once. */
  private drawnAt: Date | undefined;

  constructor(private readonly ring: RingModel, private readonly clock: AgeClock, private readonly marks: VerifyMarks, private readonly reader: FolderReader) {
    this.sub = vscode.Disposable.from(
      ring.onDidChange(() => { this.drawnAt = undefined; this.changed.fire(undefined); }),
      clock.onDidTick((now) => {
        this.drawnAt = now;
        for (const node of this.shown.values()) this.changed.fire(node);
      }),
      marks.onDidChange((id) => { const node = this.shown.get(id); if (node) this.changed.fire(node); }),
    );
  }

  /** Shows the schedules of the ring above its slots, refreshed whenever they change. */
  showSchedules(source: ScheduleSource): vscode.Disposable {
    this.schedules?.sub.dispose();
    this.schedules = { source, sub: source.onDidChange(() => this.changed.fire(undefined)) };
    this.changed.fire(undefined);
    return new vscode.Disposable(() => {
      if (this.schedules?.source !== source) return;
      this.schedules.sub.dispose();
      this.schedules = undefined;
      this.changed.fire(undefined);
    });
  }

  getChildren(element?: SlotsNode): vscode.ProviderResult<SlotsNode[]> {
    if (!element) return this.roots();
    if (element.kind === 'message' || element.kind === 'schedule') return [];
    if (element.kind === 'scheduleGroup') return element.schedules;
    return this.children(element);
  }

  private async roots(): Promise<SlotsNode[]> {
    const listing = this.ring.listing;
    const target = listing?.target ?? (this.ring.error ? readSettings().target : '');
    const schedules = target === '' ? [] : await this.scheduleRoots(target);
    if (this.ring.error) return [...schedules, new MessageNode(this.ring.error, undefined)];
    // Empty: the view's welcome content (package.json viewsWelcome) explains what to do.
    if (!listing) return [];
    // With schedules on screen the welcome content (shown only for an empty tree) is hidden: say it here.
    if (listing.slots.length === 0 && schedules.length > 0) return [...schedules, new MessageNode('No slots yet: Back Up Now, or wait for the scheduled run.', undefined, 'info')];
    const slots = orderSlots(listing).map((s) => new SlotNode(listing.target, s));
    this.shown = new Map(slots.map((n) => [n.slot.id, n]));
    return [...schedules, ...slots];
  }

  private async scheduleRoots(target: string): Promise<SlotsNode[]> {
    if (!this.schedules) return [];
    try {
      const data = await this.schedules.source.schedulesFor(target);
      const group = scheduleGroupData(data, localZone());
      return group ? [new ScheduleGroupNode(group, data)] : [];
    } catch (error) {
      return [new MessageNode(`Cannot list the backup schedules: ${(error as Error).message}`, undefined)];
    }
  }

  private async children(element: SlotNode | EntryNode): Promise<SlotsNode[]> {
    const parentRel = element.kind === 'slot' ? '' : element.view.relPath;
    try {
      const slot = element.kind === 'slot' ? element.slot : element.slotNode.slot;
      const target = element.kind === 'slot' ? element.target : element.slotNode.target;
      // A complete slot by number; an unfinished run's folder by its id.
      const entries = await this.reader.slotFolder(target, slot.number ?? slot.id, parentRel);
      if (entries.length === 0) return [new MessageNode('(empty folder)', element)];
      return entries.map((e) => new EntryNode(element, describeEntry(e, parentRel)));
    } catch (error) {
      return [new MessageNode(`Cannot read ${parentRel || 'the slot'}: ${describeEngineError(error)}`, element)];
    }
  }

  getParent(element: SlotsNode): SlotsNode | undefined {
    return element.kind === 'slot' || element.kind === 'scheduleGroup' ? undefined : element.parent;
  }

  getTreeItem(element: SlotsNode): vscode.TreeItem {
    if (element.kind === 'scheduleGroup') {
      const v = element.view;
      const item = new vscode.TreeItem(v.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = 'schedules';
      item.description = v.description;
      item.tooltip = v.tooltip;
      item.contextValue = v.contextValue;
      item.iconPath = themeIcon(v.icon === 'warning' ? { id: 'warning', color: 'list.warningForeground' } : { id: 'calendar' });
      return item;
    }
    if (element.kind === 'schedule') {
      const d = element.data;
      const item = new vscode.TreeItem(d.label, vscode.TreeItemCollapsibleState.None);
      item.id = `schedule/${d.id}`;
      item.description = d.description;
      item.tooltip = d.tooltip;
      item.contextValue = d.contextValue;
      item.iconPath = themeIcon(d.icon === 'calendar' ? { id: 'calendar' } : { id: d.icon, color: d.icon === 'warning' ? 'list.warningForeground' : 'list.errorForeground' });
      return item;
    }
    if (element.kind === 'message') {
      const item = new vscode.TreeItem(element.message, vscode.TreeItemCollapsibleState.None);
      item.iconPath = new vscode.ThemeIcon(element.icon);
      item.contextValue = 'message';
      return item;
    }
    if (element.kind === 'slot') {
      const v = describeSlot(element.slot, this.drawnAt ?? this.clock.now(), this.marks.get(element.slot.id));
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
    this.schedules?.sub.dispose();
    this.changed.dispose();
  }
}
