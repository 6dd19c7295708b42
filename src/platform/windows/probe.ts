import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ShadowSlotsError } from '../../core/errors';
import type { TargetFilesystem } from '../../core/windows/helperProfile';
import { run } from '../runner';
import { powershellPath } from './helperPlan';

/** Facts about the Windows machine the planner needs; each comes from a documented source. */
export function systemRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env['SystemRoot'] ?? env['windir'] ?? 'C:\\Windows';
}

export function programData(env: NodeJS.ProcessEnv = process.env): string {
  return env['ProgramData'] ?? 'C:\\ProgramData';
}

/** Parses `whoami /user /fo csv /nh`: `"pc\alice","S-1-5-21-…-1001"`. */
export function parseWhoamiUser(output: string): { name: string; sid: string } | undefined {
  const m = /^"((?:[^"]|"")*)","(S-1-[\d-]+)"\s*$/m.exec(output.trim());
  return m ? { name: m[1]!.replace(/""/g, '"'), sid: m[2]! } : undefined;
}

export async function currentUser(signal?: AbortSignal): Promise<{ name: string; sid: string }> {
  const whoami = path.win32.join(systemRoot(), 'System32', 'whoami.exe');
  const result = await run(whoami, ['/user', '/fo', 'csv', '/nh'], signal ? { signal } : {});
  const user = parseWhoamiUser(result.stdout);
  if (!user) throw new ShadowSlotsError('internal', `Could not read the current user's SID from whoami: ${result.stdout.trim().slice(0, 200)}`);
  return user;
}

const FILESYSTEMS: readonly TargetFilesystem[] = ['NTFS', 'ReFS', 'FAT32', 'FAT', 'exFAT'];

/** The file system of the volume holding `dir` (Get-Volume); 'unknown' for network shares. */
export async function windowsFileSystem(dir: string, signal?: AbortSignal): Promise<TargetFilesystem> {
  if (dir.startsWith('\\\\')) return 'unknown';
  // The path travels as an environment variable: data, never part of the command text.
  const result = await run(powershellPath(systemRoot()), ['-NoProfile', '-NonInteractive', '-Command', '(Get-Volume -FilePath $env:SHADOW_SLOTS_PATH).FileSystemType'], {
    env: { SHADOW_SLOTS_PATH: dir }, ...(signal ? { signal } : {}),
  });
  const type = result.stdout.trim();
  return (FILESYSTEMS as readonly string[]).find((f) => f.toLowerCase() === type.toLowerCase()) as TargetFilesystem | undefined ?? 'unknown';
}

/** existsSync for the rsync search; a separate export so tests can inject their own. */
export function fileExists(file: string): boolean {
  return existsSync(file);
}
