import { invalid } from '../errors';
import { daysOf, formatTime, type ScheduleWhen, type TimeOfDay, WEEKDAY_SHORT } from './spec';
import { addDays, formatDate, formatLocal, localParts, localToInstants } from './zone';

/** The part of a schedule that decides when it fires. */
export interface Timing { when: ScheduleWhen; time: TimeOfDay }

/**
 * The next `count` start times strictly after `after`, in the zone's local calendar.
 *
 * DST follows systemd's calendar rules (checked against `systemd-analyze calendar` in the tests):
 * a time that does not exist on a spring-forward night is skipped that night, and a time that
 * occurs twice on a fall-back night fires at its first occurrence only.
 */
export function nextRuns(timing: Timing, after: Date, zone: string, count = 1): Date[] {
  const result: Date[] = [];
  if (timing.when.kind === 'once') {
    const [y, m, d] = timing.when.date.split('-').map(Number) as [number, number, number];
    const first = localToInstants(y, m, d, timing.time.hour, timing.time.minute, zone)[0];
    if (first !== undefined && first.getTime() > after.getTime()) result.push(first);
    return result;
  }
  const days = daysOf(timing.when)!;
  const start = localParts(after, zone);
  // Two years of days is far more than any weekly pattern needs, even with gaps every day.
  for (let i = 0; i < 800 && result.length < count; i++) {
    const day = addDays(start, i);
    if (!days.includes(day.weekday as never)) continue;
    const first = localToInstants(day.year, day.month, day.day, timing.time.hour, timing.time.minute, zone)[0];
    if (first !== undefined && first.getTime() > after.getTime()) result.push(first);
  }
  return result;
}

/** Start times in `(from, to]`: the runs that should have happened in that window. */
export function runsBetween(timing: Timing, from: Date, to: Date, zone: string, limit = 1000): Date[] {
  const out: Date[] = [];
  let cursor = from;
  while (out.length < limit) {
    const [next] = nextRuns(timing, cursor, zone, 1);
    if (next === undefined || next.getTime() > to.getTime()) break;
    out.push(next);
    cursor = next;
  }
  return out;
}

/**
 * Scheduled starts since the newest run that produced a slot (or since the schedule was created)
 * that have no slot, allowing `graceMs` for a run that is still going. This is what the Slots view
 * and the status bar call "missed": failures are never silent.
 */
export function missedRuns(timing: Timing, lastRun: Date | undefined, createdAt: Date, now: Date, zone: string, graceMs = 6 * 3600_000): Date[] {
  const from = lastRun !== undefined && lastRun.getTime() > createdAt.getTime() ? lastRun : createdAt;
  return runsBetween(timing, from, new Date(now.getTime() - graceMs), zone);
}

/**
 * Refuses a one-off start that is not in the future, saying why; repeating schedules always have
 * a next run unless the time never exists (cannot happen with whole hours and minutes).
 */
export function checkFuture(timing: Timing, now: Date, zone: string): Date {
  const [next] = nextRuns(timing, now, zone, 1);
  if (next !== undefined) return next;
  if (timing.when.kind === 'once') {
    const [y, m, d] = timing.when.date.split('-').map(Number) as [number, number, number];
    const exists = localToInstants(y, m, d, timing.time.hour, timing.time.minute, zone).length > 0;
    if (!exists) {
      throw invalid(`${timing.when.date} ${formatTime(timing.time)} does not exist in ${zone}: the clocks jump forward over it that night.`, 'Pick a time an hour later.');
    }
    throw invalid(`${timing.when.date} ${formatTime(timing.time)} is already past (it is now ${formatLocal(now, zone)} in ${zone}).`, 'Pick a later time; a one-off schedule must start in the future.');
  }
  throw invalid(`The schedule never runs in ${zone}.`);
}

/**
 * Daylight-saving nights in the next year on which the chosen time is skipped or repeats, as
 * sentences for the wizard ("02:30 does not exist on 2027-03-28 in Europe/Berlin …").
 */
export function dstNotes(timing: Timing, from: Date, zone: string): string[] {
  const notes: string[] = [];
  const days = daysOf(timing.when);
  const start = localParts(from, zone);
  const t = formatTime(timing.time);
  for (let i = 0; i < 366; i++) {
    const day = addDays(start, i);
    if (timing.when.kind === 'once' ? formatDate(day) !== timing.when.date : !days!.includes(day.weekday as never)) continue;
    const n = localToInstants(day.year, day.month, day.day, timing.time.hour, timing.time.minute, zone).length;
    const label = `${WEEKDAY_SHORT[day.weekday]} ${formatDate(day)}`;
    if (n === 0) notes.push(`${t} does not exist on ${label} in ${zone} (clocks go forward): systemd skips that night's run and other schedulers may move it; a time outside the skipped hour avoids this.`);
    if (n === 2) notes.push(`${t} happens twice on ${label} in ${zone} (clocks go back): the backup runs once, at the first ${t}.`);
  }
  return notes;
}
