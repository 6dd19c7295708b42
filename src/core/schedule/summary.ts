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

/** The conditions in words, e.g. "only on AC power; catches up a missed start; stops after 4 h". */
export function describeConditions(c: ScheduleConditions): string {
  return [
    c.runOnBattery ? 'also on battery' : 'only on AC power',
    c.wakeToRun ? 'wakes the computer' : 'does not wake the computer',
    c.catchUp ? 'catches up a missed start' : 'skips a missed start',
    c.stopAfterHours > 0 ? `stops after ${c.stopAfterHours} h` : 'no time limit',
  ].join('; ');
}

export function describeAccount(account: ScheduleSpec['account']): string {
  switch (account) {
    case 'user': return 'as you, while you are logged on (network drives work)';
    case 'user-s4u': return 'as you, whether logged on or not (no network drives)';
    case 'system': return 'as SYSTEM (the computer account on the network)';
  }
}
