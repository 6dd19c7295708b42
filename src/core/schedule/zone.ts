import { invalid } from '../errors';

/**
 * Local-time arithmetic in an explicit IANA zone through Intl, so next-run and DST answers do not
 * depend on the TZ of the process that computes them (the extension host, a test, the CLI).
 */
export interface LocalParts { year: number; month: number; day: number; hour: number; minute: number; second: number; weekday: number }

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', weekday: 'short',
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(zone, f);
  }
  return f;
}

const SHORT_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function validateZone(zone: string): string {
  try {
    formatter(zone);
  } catch {
    throw invalid(`The time zone ${JSON.stringify(zone)} is not known.`, 'Use an IANA zone such as Europe/Berlin.');
  }
  return zone;
}

/** The zone this process runs in (TZ, else the system's). */
export function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export function localParts(instant: Date, zone: string): LocalParts {
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(instant)) parts[p.type] = p.value;
  return {
    year: Number(parts['year']), month: Number(parts['month']), day: Number(parts['day']),
    hour: Number(parts['hour']), minute: Number(parts['minute']), second: Number(parts['second']),
    weekday: SHORT_DAYS.indexOf(parts['weekday'] ?? ''),
  };
}

/** Offset of the zone from UTC at an instant, in milliseconds (Berlin in winter: +3 600 000). */
export function zoneOffsetMs(instant: Date, zone: string): number {
  const p = localParts(instant, zone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

/**
 * Every instant at which the local wall clock shows this date and time: none when the time falls
 * into a spring-forward gap, two when it repeats at a fall-back, else one. Sorted, earliest first.
 */
export function localToInstants(year: number, month: number, day: number, hour: number, minute: number, zone: string): Date[] {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  const offsets = new Set<number>();
  for (const probe of [-36, -12, 0, 12, 36]) offsets.add(zoneOffsetMs(new Date(guess + probe * 3600_000), zone));
  const found = new Set<number>();
  for (const off of offsets) {
    const t = guess - off;
    const p = localParts(new Date(t), zone);
    if (p.year === year && p.month === month && p.day === day && p.hour === hour && p.minute === minute) found.add(t);
  }
  return [...found].sort((a, b) => a - b).map((t) => new Date(t));
}

/** A calendar date plus `days`, without touching any zone (dates are just Y-M-D). */
export function addDays(date: { year: number; month: number; day: number }, days: number): { year: number; month: number; day: number; weekday: number } {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday: d.getUTCDay() };
}

export function formatDate(d: { year: number; month: number; day: number }): string {
  return `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

/** Local `YYYY-MM-DD HH:MM` of an instant in a zone, for messages and summaries. */
export function formatLocal(instant: Date, zone: string): string {
  const p = localParts(instant, zone);
  return `${formatDate(p)} ${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
}
