import { readFile, rm } from 'node:fs/promises';
import { ShadowSlotsError } from '../../core/errors';
import type { ScheduleSpec } from '../../core/schedule/spec';
import type { SchedulerPlatform } from '../../core/schedule/wizard';
import type { EngineCommand } from './engineCommand';
import { writeFileAtomic } from '../fsutil';

/** One schedule this tool registered, as recorded in `schedules.json`. */
export interface ScheduleEntry {
  id: string;
  platform: SchedulerPlatform;
  spec: ScheduleSpec;
  profileName: string;
  source: string;
  target: string;
  slots: number;
  profileFile: string;
  /** The node and cli.js the job runs (Run Now uses the very same). */
  engine: EngineCommand;
  /** The zone the times mean (the user's zone when created). */
  zone: string;
  createdAt: string;
  /** Files written for the platform (unit files, plist); the crontab line is found by its marker. */
  files: string[];
}

interface RegistryFile { format: 1; schedules: ScheduleEntry[] }

export async function readRegistry(file: string): Promise<ScheduleEntry[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  let raw: RegistryFile;
  try {
    raw = JSON.parse(text) as RegistryFile;
  } catch (error) {
    throw new ShadowSlotsError('ring-corrupt', `The schedule registry ${file} is not valid JSON.`, { hint: 'Fix or delete the file; schedules already registered stay in place.', cause: error });
  }
  if (raw.format !== 1 || !Array.isArray(raw.schedules)) throw new ShadowSlotsError('ring-corrupt', `The schedule registry ${file} has an unknown format.`);
  return raw.schedules;
}

/** Writes the registry atomically and durably, so a crash never leaves half a file or none. */
export async function writeRegistry(file: string, schedules: ScheduleEntry[]): Promise<void> {
  await writeFileAtomic(file, JSON.stringify({ format: 1, schedules: [...schedules].sort((a, b) => a.id.localeCompare(b.id)) } satisfies RegistryFile, null, 2) + '\n', { makeFolders: true });
}

/** The file's current bytes, or undefined when it does not exist: what a rollback restores. */
export async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function restoreFile(file: string, previous: Buffer | undefined): Promise<void> {
  if (previous === undefined) await rm(file, { force: true });
  else await writeFileAtomic(file, previous, { makeFolders: true });
}
