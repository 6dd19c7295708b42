import { invalid } from '../errors';

/** Days as JavaScript numbers them (0 = Sunday), so Date#getDay and Intl agree with the spec. */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;
export const WEEKDAY_KEYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export const WEEKDAY_SHORT = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
export const WEEKDAY_LONG = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
export const WORK_WEEK: Weekday[] = [1, 2, 3, 4, 5];
export const ALL_DAYS: Weekday[] = [0, 1, 2, 3, 4, 5, 6];

/** When a schedule fires, in the user's local calendar. */
export type ScheduleWhen =
  | { kind: 'daily' }
  | { kind: 'weekdays' }
  | { kind: 'days'; days: Weekday[] }
  /** A single run on a local calendar date `YYYY-MM-DD` (the recipe's "try it two minutes ahead"). */
  | { kind: 'once'; date: string };

export interface TimeOfDay { hour: number; minute: number }

/**
 * Who runs the job. Only Windows distinguishes: `user` = this user while logged on (network
 * drives work), `user-s4u` = this user whether logged on or not (no network credentials),
 * `system` = LocalSystem. Elsewhere the job always runs as the user who created it.
 */
export const ACCOUNTS = ['user', 'user-s4u', 'system'] as const;
export type ScheduleAccount = (typeof ACCOUNTS)[number];

export interface ScheduleConditions {
  runOnBattery: boolean;
  wakeToRun: boolean;
  /** Run as soon as possible after a missed start (systemd Persistent=, Task StartWhenAvailable). */
  catchUp: boolean;
  /** Stop a run that takes longer than this many hours; 0 = no limit. */
  stopAfterHours: number;
}

export const DEFAULT_CONDITIONS: ScheduleConditions = { runOnBattery: false, wakeToRun: false, catchUp: true, stopAfterHours: 0 };
export const MAX_STOP_AFTER_HOURS = 72;

/** A validated schedule: what the wizard and `schedule create` produce and the registry stores. */
export interface ScheduleSpec {
  /** Names the artefacts (unit files, task, label, crontab marker): `[a-z0-9][a-z0-9-]*`. */
  id: string;
  when: ScheduleWhen;
  time: TimeOfDay;
  conditions: ScheduleConditions;
  account: ScheduleAccount;
}

export const SCHEDULE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Parses a 24-hour `HH:MM` (also `H:MM`); anything else (25:61, 7pm, 23.30) is refused. */
export function parseTime(text: string): TimeOfDay {
  const m = /^\s*(\d{1,2}):(\d{2})\s*$/.exec(text);
  if (!m) throw invalid(`The time ${JSON.stringify(text)} is not a 24-hour time HH:MM.`, 'Write it like 23:30 or 07:05.');
  const hour = Number(m[1]);
  const minute = Number(m[2]);
  if (hour > 23) throw invalid(`The time ${text.trim()} has hour ${hour}; hours go from 00 to 23.`, 'Write it like 23:30 or 07:05.');
  if (minute > 59) throw invalid(`The time ${text.trim()} has minute ${minute}; minutes go from 00 to 59.`, 'Write it like 23:30 or 07:05.');
  return { hour, minute };
}

export function formatTime(t: TimeOfDay): string {
  return `${String(t.hour).padStart(2, '0')}:${String(t.minute).padStart(2, '0')}`;
}

/** Parses a local calendar date `YYYY-MM-DD` and checks that the day exists. */
export function parseDate(text: string): string {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/.exec(text);
  if (!m) throw invalid(`The date ${JSON.stringify(text)} is not a date YYYY-MM-DD.`, 'Write it like 2026-12-24.');
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(y, mo - 1, d));
  if (mo < 1 || mo > 12 || probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d) {
    throw invalid(`The date ${text.trim()} does not exist.`, 'Check the month and day.');
  }
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/** Parses a day list like `mon,wed,fri` (also full names, any case, spaces allowed). */
export function parseDays(text: string): Weekday[] {
  const parts = text.split(',').map((p) => p.trim().toLowerCase()).filter((p) => p.length > 0);
  if (parts.length === 0) throw invalid('No days were given.', 'Name at least one day, e.g. mon,wed,fri.');
  const days = parts.map((p) => {
    const i = WEEKDAY_KEYS.findIndex((k, n) => p === k || p === WEEKDAY_LONG[n]!.toLowerCase());
    if (i < 0) throw invalid(`"${p}" is not a day of the week.`, 'Use mon, tue, wed, thu, fri, sat, sun separated by commas.');
    return i as Weekday;
  });
  return normaliseDays(days);
}

export function normaliseDays(days: readonly number[]): Weekday[] {
  const set = [...new Set(days)].sort((a, b) => a - b);
  if (set.length === 0) throw invalid('The schedule has no days of the week.', 'Choose at least one day.');
  for (const d of set) if (!Number.isInteger(d) || d < 0 || d > 6) throw invalid(`Day number ${d} is not a day of the week (0 = Sunday … 6 = Saturday).`);
  return set as Weekday[];
}

/**
 * Parses the CLI's `--when`: `daily`, `weekdays`, `once` or a day list. A day list that is exactly
 * the work week or every day is stored as `weekdays` / `daily`, so summaries and artefacts are simple.
 */
export function parseWhen(text: string, onceDate?: string): ScheduleWhen {
  const t = text.trim().toLowerCase();
  if (t === 'daily' || t === 'every-day') return { kind: 'daily' };
  if (t === 'weekdays') return { kind: 'weekdays' };
  if (t === 'once') {
    if (onceDate === undefined) throw invalid('A one-off schedule needs a date.', 'Give the time as "YYYY-MM-DD HH:MM" or only HH:MM for today.');
    return { kind: 'once', date: parseDate(onceDate) };
  }
  if (t === '') throw invalid('--when is missing.', 'Use daily, weekdays, once or days like mon,wed,fri.');
  return whenFromDays(parseDays(t));
}

export function whenFromDays(days: readonly number[]): ScheduleWhen {
  const d = normaliseDays(days);
  if (d.length === 7) return { kind: 'daily' };
  if (d.join() === WORK_WEEK.join()) return { kind: 'weekdays' };
  return { kind: 'days', days: d };
}

/** The weekdays a repeating schedule fires on; undefined for a one-off. */
export function daysOf(when: ScheduleWhen): Weekday[] | undefined {
  switch (when.kind) {
    case 'daily': return ALL_DAYS;
    case 'weekdays': return WORK_WEEK;
    case 'days': return when.days;
    case 'once': return undefined;
  }
}

export function parseStopAfter(value: string | number): number {
  const n = typeof value === 'number' ? value : /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n < 0 || n > MAX_STOP_AFTER_HOURS || !Number.isInteger(n)) {
    throw invalid(`"Stop after" ${JSON.stringify(value)} is not a whole number of hours from 0 to ${MAX_STOP_AFTER_HOURS}.`, 'Use 0 for no limit, or e.g. 4.');
  }
  return n;
}

export function parseAccount(value: string): ScheduleAccount {
  if ((ACCOUNTS as readonly string[]).includes(value)) return value as ScheduleAccount;
  throw invalid(`The account ${JSON.stringify(value)} is not known.`, 'Use user (while logged on), user-s4u (whether logged on or not) or system.');
}

export function validateScheduleId(value: string): string {
  if (!SCHEDULE_ID_PATTERN.test(value)) {
    throw invalid(`The schedule id ${JSON.stringify(value)} is not valid.`, 'Use 1–40 lowercase letters, digits or dashes, starting with a letter or digit.');
  }
  return value;
}

/** A schedule id from a profile name: lowercase ASCII, dashes, never empty. */
export function scheduleIdFor(profileName: string): string {
  const slug = profileName.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
    .replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '');
  return slug.length > 0 ? slug : 'default';
}
