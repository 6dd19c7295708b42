import { formatTime, type ScheduleConditions, type ScheduleSpec, type ScheduleWhen, WEEKDAY_SHORT } from './spec';

/** What a summary says about the ring the schedule fills. */
export interface RingFacts { slots: number; target: string }

export function describeWhen(when: ScheduleWhen): string {
  switch (when.kind) {
    case 'daily': return 'Every day';
    case 'weekdays': return 'Weekdays';
    case 'days': {
      const names = when.days.map((d) => WEEKDAY_SHORT[d]);
      return names.length === 1 ? `Every ${names[0]}` : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
    }
    case 'once': return `Once on ${when.date}`;
  }
}

/** The one-line summary of the review step and the Slots view: "Weekdays at 23:30, keeps 16 slots on F:\Backups\proj". */
export function summarize(spec: Pick<ScheduleSpec, 'when' | 'time'>, ring: RingFacts): string {
  const slots = ring.slots === 1 ? '1 slot' : `${ring.slots} slots`;
  return `${describeWhen(spec.when)} at ${formatTime(spec.time)}, keeps ${slots} on ${ring.target}`;
}

/**
 * The conditions as the review lists them, one short line each (a QuickPick row does not wrap):
 * "Only on AC power", "Does not wake the computer", "Catches up a missed start", "No time limit".
 * `fixedBy` names the scheduler on the lines it decides itself, e.g. "(cron cannot do otherwise)".
 */
export function conditionLines(c: ScheduleConditions, fixed: ReadonlySet<keyof ScheduleConditions> = new Set(), fixedBy = ''): string[] {
  const tag = (k: keyof ScheduleConditions, text: string) => (fixed.has(k) && fixedBy ? `${text} (${fixedBy} cannot do otherwise)` : text);
  return [
    tag('runOnBattery', c.runOnBattery ? 'Runs on battery power too' : 'Runs only on AC power'),
    tag('wakeToRun', c.wakeToRun ? 'Wakes the computer to run' : 'Does not wake the computer'),
    tag('catchUp', c.catchUp ? 'Catches up a start missed while off or asleep' : 'Skips a start missed while off or asleep'),
    tag('stopAfterHours', c.stopAfterHours > 0 ? `Stops a run after ${c.stopAfterHours} h` : 'No time limit'),
  ];
}

export function describeAccount(account: ScheduleSpec['account']): string {
  switch (account) {
    case 'user': return 'as you, while you are logged on (network drives work)';
    case 'user-s4u': return 'as you, whether logged on or not (no network drives)';
    case 'system': return 'as SYSTEM (the computer account on the network)';
  }
}
