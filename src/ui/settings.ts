import * as vscode from 'vscode';
import type { ProfileInput } from '../core/profile';

export const SECTION = 'shadowSlots';

/** The settings as the user wrote them; the engine validates them (see ValidateProfileRequest). */
export interface ShadowSlotsSettings {
  target: string;
  slots: number | undefined;
  excludes: string[];
  snapshot: string;
  rsyncPath: string;
  staleAfterHours: number;
}

export function readSettings(scope?: vscode.ConfigurationScope): ShadowSlotsSettings {
  const c = vscode.workspace.getConfiguration(SECTION, scope);
  return {
    target: (c.get<string>('target') ?? '').trim(),
    slots: c.get<number>('slots'),
    excludes: c.get<string[]>('excludes') ?? [],
    snapshot: c.get<string>('snapshot') ?? 'auto',
    rsyncPath: c.get<string>('rsyncPath') ?? '',
    staleAfterHours: c.get<number>('staleAfterHours') ?? 36,
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
    rsyncPath: settings.rsyncPath === '' ? undefined : settings.rsyncPath,
  };
}
