import type { CliCommand } from '../command';

/**
 * Every sub-command, in the order `--help` lists them. Loaded on demand: a nightly `backup` does
 * not pay for initialising the schedule, Windows and filter modules (about 90 ms of start-up).
 */
export interface CommandEntry {
  name: string;
  load(): Promise<CliCommand>;
  /** Internal: runs, but is not listed in --help. */
  hidden?: true;
}

export const commands: CommandEntry[] = [
  { name: 'backup', load: async () => (await import('./backup')).backupCommand },
  { name: 'list', load: async () => (await import('./list')).listCommand },
  { name: 'restore', load: async () => (await import('./restore')).restoreCommand },
  { name: 'verify', load: async () => (await import('./verify')).verifyCommand },
  { name: 'label', load: async () => (await import('./label')).labelCommand },
  { name: 'delete-slot', load: async () => (await import('./deleteSlot')).deleteSlotCommand },
  { name: 'history', load: async () => (await import('./history')).historyCommand },
  { name: 'find', load: async () => (await import('./find')).findCommand },
  { name: 'schedule', load: async () => (await import('./schedule')).scheduleCommand },
  { name: 'helper', load: async () => (await import('./helper')).helperCommand },
  { name: 'filter', load: async () => (await import('./filter')).filterCommand },
  { name: 'preview', load: async () => (await import('./filter')).previewCommand },
  { name: 'purge', load: async () => (await import('./purge')).purgeCommand, hidden: true },
];
