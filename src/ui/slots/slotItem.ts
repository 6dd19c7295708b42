import * as vscode from 'vscode';
import * as path from 'node:path';
import { parseSlotUri, SLOT_SCHEME } from './slotUri';
import { slotFsPath, slotUri } from './slotFileSystem';
import type { SlotsNode } from './slotsTree';
import type { SlotSummary } from '../../rpc/protocol';
import type { RingModel } from '../ringModel';
import { sourceFolder } from '../settings';

/** What a slot command acts on, whether it came from a tree node or a `shadow-slots:` URI. */
export interface SlotItem {
  target: string;
  slot: number;
  summary: SlotSummary | undefined;
  /** '' for the slot itself. */
  relPath: string;
  /** The item on disk inside the slot. */
  fsPath: string;
  kind: 'slot' | 'folder' | 'file' | 'other';
}

/** Resolves a command argument; undefined when it is not something inside a ring slot. */
export function toSlotItem(arg: unknown, ring: RingModel): SlotItem | undefined {
  const find = (target: string, n: number) => ring.listing?.target === target ? ring.listing.slots.find((s) => s.number === n) : undefined;
  if (arg instanceof vscode.Uri) {
    if (arg.scheme !== SLOT_SCHEME) return undefined;
    const ref = parseSlotUri(arg.path, arg.query);
    return { ...ref, summary: find(ref.target, ref.slot), fsPath: slotFsPath(ref), kind: ref.relPath === '' ? 'slot' : 'other' };
  }
  const node = arg as SlotsNode | undefined;
  if (!node || typeof node !== 'object' || !('kind' in node)) return undefined;
  if (node.kind === 'slot') {
    if (node.slot.number === null) return undefined;
    return { target: node.target, slot: node.slot.number, summary: node.slot, relPath: '', fsPath: node.fsPath, kind: 'slot' };
  }
  if (node.kind === 'entry') {
    const s = node.slotNode;
    if (s.slot.number === null) return undefined;
    const kind = node.view.contextValue === 'slotFolder' ? 'folder' : node.view.contextValue === 'slotFile' ? 'file' : 'other';
    return { target: s.target, slot: s.slot.number, summary: s.slot, relPath: node.view.relPath, fsPath: node.fsPath, kind };
  }
  return undefined;
}

/** The URI editors open for an item: its name carries the slot, e.g. `app (slot 2).ts`. */
export function itemUri(item: SlotItem): vscode.Uri {
  return slotUri({ target: item.target, slot: item.slot, relPath: item.relPath }, true);
}

/**
 * Where an item of a slot belongs in the workspace: the slot's root is the source folder it was
 * taken from (the manifest says which), falling back to the open workspace folder.
 */
export function workspacePathOf(item: SlotItem): string | undefined {
  const source = sourceRootOf(item);
  if (!source) return undefined;
  return item.relPath === '' ? source : path.join(source, ...item.relPath.split('/'));
}

/** The folder a slot's root corresponds to. */
export function sourceRootOf(item: SlotItem): string | undefined {
  return item.summary?.manifest?.source || sourceFolder()?.uri.fsPath;
}

/** Title suffix naming the slot by its time first, e.g. `2026-11-26 07:12 · slot 0`. */
export function slotTitle(item: SlotItem, format: (d: Date) => string): string {
  const m = item.summary?.manifest;
  return m ? `${format(new Date(m.endedAt ?? m.startedAt))} \u00b7 slot ${item.slot}` : `slot ${item.slot}`;
}

/** The item at `relPath` of a listed slot (the Explorer's folder commands start from a slot and a path). */
export function slotItemAt(target: string, slot: SlotSummary, relPath: string, kind: SlotItem['kind']): SlotItem {
  return { target, slot: slot.number!, summary: slot, relPath, fsPath: path.join(slot.path, ...relPath.split('/').filter((s) => s !== '')), kind };
}
