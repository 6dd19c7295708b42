import * as vscode from 'vscode';
import type { SlotChanges } from '../../core/slotHistory';
import type { RingModel } from '../ringModel';
import { describeEngineError } from '../engineErrors';
import { Commands } from '../commandIds';
import { parseSlotUri, SLOT_SCHEME } from './slotUri';
import { decorationOf, ghostViews, onlyChanged } from './changeMarkData';
import type { EntryNodeView } from './slotNodeData';

/** What the marks need of the engine. */
export interface ChangesReader {
  slotChanges(target: string, slot: number, path: string): Promise<SlotChanges>;
}

/** The context key of the Slots view's "show only changes" toggle (package.json view/title). */
export const ONLY_CHANGES_KEY = 'shadowSlots.onlyChanges';

/**
 * The change marks of the Slots view: letters and colours on slot URIs (a FileDecorationProvider,
 * so the tree, the editor tabs and breadcrumbs of slot files agree), ghost rows for deleted files,
 * and the "show only changes" filter. Each folder's marks are asked of the engine once and kept
 * until the ring changes (a backup renumbers every slot).
 */
export class ChangeMarks implements vscode.FileDecorationProvider, vscode.Disposable {
  private readonly cache = new Map<string, Promise<SlotChanges | undefined>>();
  private readonly decorationsChanged = new vscode.EventEmitter<undefined>();
  readonly onDidChangeFileDecorations = this.decorationsChanged.event;
  private readonly toggled = new vscode.EventEmitter<void>();
  /** Fires when "show only changes" is switched: the tree lists again. */
  readonly onDidToggle = this.toggled.event;
  private only = false;
  private readonly subs: vscode.Disposable[];

  constructor(private readonly reader: ChangesReader, ring: RingModel, private readonly log: vscode.LogOutputChannel) {
    this.subs = [
      vscode.window.registerFileDecorationProvider(this),
      ring.onDidChange(() => { this.cache.clear(); this.decorationsChanged.fire(undefined); }),
    ];
    void vscode.commands.executeCommand('setContext', ONLY_CHANGES_KEY, false);
  }

  get onlyChanges(): boolean { return this.only; }

  setOnlyChanges(on: boolean): void {
    this.only = on;
    void vscode.commands.executeCommand('setContext', ONLY_CHANGES_KEY, on);
    this.toggled.fire();
  }

  /** A folder's marks; undefined when the engine cannot say (the rows are then shown unmarked). */
  changes(target: string, slot: number, folder: string): Promise<SlotChanges | undefined> {
    const key = `${target}\0${slot}\0${folder}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.reader.slotChanges(target, slot, folder).catch((error: unknown) => {
        this.log.warn(`No change marks for ${folder || 'the root'} of slot ${slot}: ${describeEngineError(error)}`);
        this.cache.delete(key);
        return undefined;
      });
      this.cache.set(key, p);
    }
    return p;
  }

  /** The rows of a folder with its ghosts added (and, with "show only changes", unchanged rows left out). */
  async arrange(target: string, slot: number, folder: string, views: EntryNodeView[]): Promise<EntryNodeView[]> {
    const changes = await this.changes(target, slot, folder);
    if (!changes) return views;
    const kept = this.only && changes.comparedWith ? onlyChanged(views, changes) : views;
    return [...kept, ...ghostViews(changes, folder, new Set(views.map((v) => v.relPath.slice(v.relPath.lastIndexOf('/') + 1))))];
  }

  async provideFileDecoration(uri: vscode.Uri): Promise<vscode.FileDecoration | undefined> {
    // Editor tabs (titled URIs) stay unmarked: a tab keeps its slot number while a backup moves
    // every slot one down, so its mark would soon describe another slot's change.
    if (uri.scheme !== SLOT_SCHEME || new URLSearchParams(uri.query).get('titled') === '1') return undefined;
    let ref;
    try { ref = parseSlotUri(uri.path, uri.query); } catch { return undefined; }
    if (ref.relPath === '') return undefined;
    const cut = ref.relPath.lastIndexOf('/');
    const changes = await this.changes(ref.target, ref.slot, cut < 0 ? '' : ref.relPath.slice(0, cut));
    const mark = changes?.comparedWith ? changes.marks.find((m) => m.name === ref.relPath.slice(cut + 1)) : undefined;
    if (!mark || !changes?.comparedWith) return undefined;
    const d = decorationOf(mark, changes.comparedWith);
    return new vscode.FileDecoration(d.badge, d.tooltip, new vscode.ThemeColor(d.color));
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.decorationsChanged.dispose();
    this.toggled.dispose();
  }
}

/** The Slots view's title-bar toggle: show only what each slot's backup changed, or every file. */
export function registerChangeCommands(marks: ChangeMarks): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(Commands.showOnlyChanges, () => marks.setOnlyChanges(true)),
    vscode.commands.registerCommand(Commands.showAllFiles, () => marks.setOnlyChanges(false)),
  ];
}
