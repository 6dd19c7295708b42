import * as os from 'node:os';
import { run, type RunResult } from '../runner';
import { jobCommand } from './engineCommand';
import { launchdLabel } from './launchd';
import type { ScheduleEntry } from './registry';
import { unitBaseName } from './systemd';
import { taskPath } from './windows';

/**
 * Starts a schedule's backup now, the way the scheduler would (same account, same elevation):
 * the platform is asked to start it where it can; for cron the job's own command is run here.
 * Resolves when the platform accepted the start (cron: when the backup finished).
 */
export async function runScheduleNow(entry: ScheduleEntry, signal?: AbortSignal): Promise<RunResult> {
  switch (entry.platform) {
    case 'systemd':
      return run('systemctl', ['--user', 'start', '--no-block', `${unitBaseName(entry.id)}.service`], { timeoutMs: 30_000 });
    case 'launchd':
      return run('launchctl', ['kickstart', `gui/${os.userInfo().uid}/${launchdLabel(entry.id)}`], { timeoutMs: 30_000 });
    case 'windows':
      return run('schtasks.exe', ['/Run', '/TN', taskPath(entry.id)], { timeoutMs: 60_000 });
    case 'cron': {
      const job = jobCommand(entry.engine, entry.profileFile);
      return run(job.command, job.args, { ...(signal ? { signal } : {}), okExitCodes: [0, 3] });
    }
  }
}
