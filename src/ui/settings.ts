import * as vscode from 'vscode';
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import type { ProfileInput } from '../core/profile';

/** The filter-rules file a workspace uses when the setting names none (docs/filters.md). */
export const DEFAULT_FILTER_FILE = '.shadowslots-filter';

export const SECTION = 'shadowSlots';

/** The settings as the user wrote them; the engine validates them (see ValidateProfileRequest). */
export interface ShadowSlotsSettings {
  target: string;
  slots: number | undefined;
  excludes: string[];
  snapshot: string;
  /** auto | links | cow: how slots are stored on the target. */
  targetMode: string;
  rsyncPath: string;
  staleAfterHours: number;
  /** As written: absolute, relative to the folder, or '' (then `.shadowslots-filter` if present). */
  filterFile: string;
}

/**
 * Where Configure Backup Target saves its choice: `shadowSlots.targets` in the user settings,
 * keyed by the backed-up folder, never the folder's own `.vscode/settings.json`. That file is part
 * of the folder: it would be backed up into every slot, shared through version control with a
 * path of this machine, and a restore of an old copy would silently move the ring. A plain global
 * `shadowSlots.target` would be worse: every other folder opened would back up into the same ring.
 * The setting is machine-scoped, so Settings Sync does not carry a path to another computer.
 */
export const TARGETS_KEY = 'targets';

/** Where a folder's target comes from, in the order it wins. */
export type TargetOrigin = 'folder settings' | 'user settings (per folder)' | 'user settings' | 'none';

/**
 * The folder's target: an explicit `shadowSlots.target` in the workspace or folder settings wins,
 * then this folder's entry in the user's `shadowSlots.targets`, then a global `shadowSlots.target`.
 */
export function targetFor(folder: vscode.WorkspaceFolder | undefined): { target: string; origin: TargetOrigin } {
  const c = vscode.workspace.getConfiguration(SECTION, folder?.uri);
  const inspected = c.inspect<string>('target');
  const local = (inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? '').trim();
  if (local !== '') return { target: local, origin: 'folder settings' };
  const mapped = folder ? (c.get<Record<string, unknown>>(TARGETS_KEY) ?? {})[folder.uri.fsPath] : undefined;
  if (typeof mapped === 'string' && mapped.trim() !== '') return { target: mapped.trim(), origin: 'user settings (per folder)' };
  const global = (inspected?.globalValue ?? '').trim();
  return global !== '' ? { target: global, origin: 'user settings' } : { target: '', origin: 'none' };
}

/** Saves the folder's target where it already lives (folder settings if the user put it there), else per folder in the user settings. */
export async function saveTarget(folder: vscode.WorkspaceFolder | undefined, target: string): Promise<TargetOrigin> {
  const c = vscode.workspace.getConfiguration(SECTION, folder?.uri);
  const { origin } = targetFor(folder);
  if (!folder) {
    await c.update('target', target, vscode.ConfigurationTarget.Global);
    return 'user settings';
  }
  if (origin === 'folder settings') {
    const inspected = c.inspect<string>('target');
    await c.update('target', target, inspected?.workspaceFolderValue !== undefined ? vscode.ConfigurationTarget.WorkspaceFolder : vscode.ConfigurationTarget.Workspace);
    return origin;
  }
  const map = { ...(c.inspect<Record<string, string>>(TARGETS_KEY)?.globalValue ?? {}), [folder.uri.fsPath]: target };
  await c.update(TARGETS_KEY, map, vscode.ConfigurationTarget.Global);
  return 'user settings (per folder)';
}

export function readSettings(scope?: vscode.ConfigurationScope): ShadowSlotsSettings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  const uri = scope instanceof vscode.Uri ? scope : scope && 'uri' in scope ? scope.uri : undefined;
  const folder = (uri ? vscode.workspace.getWorkspaceFolder(uri) : undefined) ?? sourceFolder();
  return {
    target: targetFor(folder).target,
    slots: c.get<number>('slots'),
    excludes: c.get<string[]>('excludes') ?? [],
    snapshot: c.get<string>('snapshot') ?? 'auto',
    targetMode: c.get<string>('targetMode') ?? 'auto',
    rsyncPath: c.get<string>('rsyncPath') ?? '',
    staleAfterHours: c.get<number>('staleAfterHours') ?? 36,
    filterFile: (c.get<string>('filterFile') ?? '').trim(),
  };
}

/** The folder that is backed up: the first workspace folder on disk. */
export function sourceFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
}

/** The profile the engine runs, straight from the settings; values stay untrusted until validated. */
export function profileFromSettings(settings: ShadowSlotsSettings, source: string): ProfileInput {
  return {
    source,
    target: settings.target,
    slots: settings.slots,
    excludes: settings.excludes,
    snapshot: settings.snapshot,
    targetMode: settings.targetMode,
    rsyncPath: settings.rsyncPath === '' ? undefined : settings.rsyncPath,
    filterFile: filterFileFor(settings.filterFile, source),
  };
}

function filterFileFor(setting: string, source: string): string | undefined {
  if (setting !== '') return path.isAbsolute(setting) ? setting : path.join(source, setting);
  const implicit = path.join(source, DEFAULT_FILTER_FILE);
  return existsSync(implicit) ? implicit : undefined;
}

/** The workspace's profile, or undefined without a folder. */
export function workspaceProfile(): ProfileInput | undefined {
  const folder = sourceFolder();
  return folder ? profileFromSettings(readSettings(folder.uri), folder.uri.fsPath) : undefined;
}
