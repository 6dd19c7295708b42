import { readdir } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../runner';
import type { Artefact } from './artefacts';
import { launchdLabel } from './launchd';
import type { PlatformStatus, Registrar } from './registrar';
import { readIfExists, restoreFile, type ScheduleEntry } from './registry';
import { writeFileAtomic } from '../fsutil';

/**
 * A LaunchAgent in ~/Library/LaunchAgents loaded into the user's GUI domain with
 * `launchctl bootstrap gui/<uid>`. Not exercised on this project's Linux CI (no launchd).
 */
export class LaunchdRegistrar implements Registrar {
  readonly platform = 'launchd' as const;
  private readonly domain = `gui/${os.userInfo().uid}`;

  constructor(private readonly agentsDir: string) {}

  private plistPath(id: string): string {
    return path.join(this.agentsDir, `${launchdLabel(id)}.plist`);
  }

  async install(entry: ScheduleEntry, artefacts: Artefact[]): Promise<void> {
    const file = this.plistPath(entry.id);
    const previous = await readIfExists(file);
    await run('launchctl', ['bootout', `${this.domain}/${launchdLabel(entry.id)}`], { okExitCodes: [0, 3, 5, 36, 113] }).catch(() => undefined);
    try {
      await writeFileAtomic(file, artefacts[0]!.content, { makeFolders: true });
      await run('launchctl', ['bootstrap', this.domain, file], { timeoutMs: 30_000 });
    } catch (error) {
      await restoreFile(file, previous);
      if (previous !== undefined) await run('launchctl', ['bootstrap', this.domain, file]).catch(() => undefined);
      throw error;
    }
  }

  async uninstall(entry: Pick<ScheduleEntry, 'id'>): Promise<void> {
    await run('launchctl', ['bootout', `${this.domain}/${launchdLabel(entry.id)}`], { okExitCodes: [0, 3, 5, 36, 113] }).catch(() => undefined);
    await restoreFile(this.plistPath(entry.id), undefined);
  }

  async status(entry: ScheduleEntry): Promise<PlatformStatus> {
    try {
      const out = (await run('launchctl', ['print', `${this.domain}/${launchdLabel(entry.id)}`], { timeoutMs: 15_000 })).stdout;
      const exit = /last exit code = (\S+)/.exec(out)?.[1];
      return { registered: true, ...(exit !== undefined ? { lastResult: exit === '0' ? 'success' : `exit ${exit}` } : {}) };
    } catch {
      return { registered: false };
    }
  }

  async ownIds(): Promise<string[]> {
    const names = await readdir(this.agentsDir).catch(() => [] as string[]);
    return names.map((n) => /^io\.shadow-slots\.schedule\.([a-z0-9][a-z0-9-]*)\.plist$/.exec(n)?.[1]).filter((x): x is string => x !== undefined);
  }
}
