import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { invalid } from '../../core/errors';
import * as os from 'node:os';
import * as path from 'node:path';
import { run } from '../runner';
import type { Artefact } from './artefacts';
import type { PlatformStatus, Registrar } from './registrar';
import type { ScheduleEntry } from './registry';
import { taskPath } from './windows';

/**
 * Task Scheduler through `schtasks /Create /XML … /F` (one atomic replace of the task; no
 * password on any command line). Tasks for SYSTEM or logged-off users need an elevated caller.
 * Not exercised on this project's Linux CI.
 */
export class WindowsRegistrar implements Registrar {
  readonly platform = 'windows' as const;

  async install(entry: ScheduleEntry, artefacts: Artefact[]): Promise<void> {
    refuseSystemSchedule(entry);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shadow-slots-task-'));
    try {
      const file = path.join(dir, 'task.xml');
      await writeFile(file, artefacts[0]!.content);
      await run('schtasks.exe', ['/Create', '/XML', file, '/TN', taskPath(entry.id), '/F'], { timeoutMs: 60_000 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async uninstall(entry: Pick<ScheduleEntry, 'id'>): Promise<void> {
    if (!(await this.exists(entry.id))) return;
    await run('schtasks.exe', ['/Delete', '/TN', taskPath(entry.id), '/F'], { timeoutMs: 60_000 });
  }

  private async exists(id: string): Promise<boolean> {
    return run('schtasks.exe', ['/Query', '/TN', taskPath(id)], { timeoutMs: 30_000 }).then(() => true, () => false);
  }

  async status(entry: ScheduleEntry): Promise<PlatformStatus> {
    // The task path reaches PowerShell through the environment, never through the script text.
    const script = '$p = $env:SHADOW_SLOTS_TASK; $i = $p.LastIndexOf("\\"); $t = Get-ScheduledTaskInfo -TaskPath $p.Substring(0, $i + 1) -TaskName $p.Substring($i + 1); '
      + '[pscustomobject]@{ next = $t.NextRunTime; last = $t.LastRunTime; result = $t.LastTaskResult; missed = $t.NumberOfMissedRuns } | ConvertTo-Json -Compress';
    try {
      const out = await run('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', script], { env: { SHADOW_SLOTS_TASK: taskPath(entry.id) }, timeoutMs: 30_000 });
      const info = JSON.parse(out.stdout) as { next?: string; last?: string; result?: number };
      const status: PlatformStatus = { registered: true };
      if (info.next) status.nextRun = info.next;
      if (info.last) status.lastRun = info.last;
      if (typeof info.result === 'number') status.lastResult = info.result === 0 ? 'success' : `0x${(info.result >>> 0).toString(16)}`;
      return status;
    } catch {
      return { registered: false };
    }
  }

  async ownIds(): Promise<string[]> {
    try {
      const out = await run('schtasks.exe', ['/Query', '/FO', 'CSV', '/NH'], { timeoutMs: 60_000 });
      const ids = new Set<string>();
      for (const m of out.stdout.matchAll(/"\\Shadow Slots\\schedule-([a-z0-9][a-z0-9-]*)"/g)) ids.add(m[1]!);
      return [...ids];
    } catch {
      return [];
    }
  }
}

/**
 * A schedule runs node.exe and the CLI from where they are installed - for the extension, the
 * user's own extensions folder, which any program running as that user can change. As SYSTEM
 * that would hand those programs SYSTEM's rights (the hole issue 12 closes for the elevated
 * helper), so a SYSTEM schedule is never registered.
 */
export function refuseSystemSchedule(entry: Pick<ScheduleEntry, 'spec'>): void {
  if (entry.spec.account === 'system') {
    throw invalid('A backup schedule cannot run as SYSTEM: it would run Node.js and the Shadow Slots CLI from folders you can change with SYSTEM\'s rights.',
      'Choose "user" (while logged on) or "user-s4u" (whether logged on or not). Shadow-copy backups run elevated through the elevated helper, which runs only files administrators installed.');
  }
}
