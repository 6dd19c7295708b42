import { ShadowSlotsError } from '../../core/errors';
import { ProcessError, run } from '../runner';
import type { Artefact } from './artefacts';
import { cronIds, removeCronLine, upsertCronLine } from './cron';
import type { PlatformStatus, Registrar } from './registrar';
import type { ScheduleEntry } from './registry';

/**
 * The user's crontab, edited with `crontab -l` / `crontab -`. Each write replaces the whole table
 * in one step, so a failure leaves the previous table; only lines ending in our marker are touched.
 */
export class CronRegistrar implements Registrar {
  readonly platform = 'cron' as const;

  constructor(private readonly crontab = 'crontab') {}

  /** The current table; '' when the user has none ("no crontab for <user>", exit 1). */
  async read(): Promise<string> {
    try {
      return (await run(this.crontab, ['-l'], { timeoutMs: 15_000 })).stdout;
    } catch (error) {
      if (error instanceof ProcessError && error.exitCode === 1 && /no crontab/i.test(error.stderrTail)) return '';
      throw error;
    }
  }

  async write(text: string): Promise<void> {
    if (text.trim() === '') {
      await run(this.crontab, ['-r'], { timeoutMs: 15_000, okExitCodes: [0, 1] });
      return;
    }
    await run(this.crontab, ['-'], { input: text, timeoutMs: 15_000 });
  }

  async install(entry: ScheduleEntry, artefacts: Artefact[]): Promise<void> {
    const line = artefacts[0]?.text;
    if (line === undefined) throw new ShadowSlotsError('internal', 'No crontab line was generated.');
    const before = await this.read();
    await this.write(upsertCronLine(before, entry.id, line));
    const after = await this.read();
    if (!after.split('\n').includes(line)) {
      await this.write(before);
      throw new ShadowSlotsError('process', 'crontab accepted the new table but does not list the schedule; the previous table was restored.');
    }
  }

  async uninstall(entry: Pick<ScheduleEntry, 'id'>): Promise<void> {
    const before = await this.read();
    if (!cronIds(before).includes(entry.id)) return;
    await this.write(removeCronLine(before, entry.id));
  }

  async status(entry: ScheduleEntry): Promise<PlatformStatus> {
    return { registered: cronIds(await this.read()).includes(entry.id) };
  }

  async ownIds(): Promise<string[]> {
    return cronIds(await this.read());
  }
}
