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

export function readSettings(scope?: vscode.ConfigurationScope): ShadowSlotsSettings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  return {
    target: (c.get<string>('target') ?? '').trim(),
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
