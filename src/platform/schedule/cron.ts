import { invalid } from '../../core/errors';
import { daysOf, type ScheduleSpec } from '../../core/schedule/spec';
import type { JobCommand } from './engineCommand';

/**
 * A crontab line for a schedule, and the edits of a crontab text that touch only our lines.
 *
 * cron hands the command to `/bin/sh -c`, after turning every unescaped `%` into a line break
 * (crontab(5)) and removing its escapes: `\%` becomes `%` in every cron, and Debian's cron also
 * turns `\\` into `\` (its patch "Handle escapes in job input"), which Vixie cron and cronie do not.
 * So each word is single-quoted for sh, every `%` is written *outside* the quotes as `\%`, and
 * every backslash ends its quoted run (`\''`). The only backslashes in the line are then our `\%`
 * and ones followed by `'`, which both dialects leave alone. Inside single quotes nothing is special
 * to sh.
 */
export const CRON_MARKER = '# shadow-slots:id=';
const MARKER_RE = / # shadow-slots:id=([a-z0-9][a-z0-9-]*)$/;

export function cronWord(value: string): string {
  if (/[\0\n\r]/.test(value)) throw invalid(`The value ${JSON.stringify(value)} contains a line break, which a crontab line cannot hold.`, 'Rename the folder.');
  const quoted = (part: string) => `'${part.replace(/['\\]/g, (c) => (c === "'" ? "'\\''" : "\\''"))}'`;
  return value.split('%').map(quoted).join('\\%');
}

/** `MIN HOUR DOM MON DOW`; a one-off fires on its date and a year guard stops it repeating next year. */
export function cronTimeFields(spec: Pick<ScheduleSpec, 'when' | 'time'>): string {
  const { hour, minute } = spec.time;
  if (spec.when.kind === 'once') {
    const [, m, d] = spec.when.date.split('-').map(Number);
    return `${minute} ${hour} ${d} ${m} *`;
  }
  const days = daysOf(spec.when)!;
  return `${minute} ${hour} * * ${days.length === 7 ? '*' : days.join(',')}`;
}

export function buildCronLine(spec: ScheduleSpec, job: JobCommand, logFile: string): string {
  const words = [job.command, ...job.args].map(cronWord).join(' ');
  const parts: string[] = [];
  // Fixed text only: the year is a number we formatted; `\%` is cron's escape for date's format.
  if (spec.when.kind === 'once') parts.push(`[ "$(date +\\%Y)" = ${Number(spec.when.date.slice(0, 4))} ] &&`);
  if (spec.conditions.stopAfterHours > 0) parts.push(`timeout ${spec.conditions.stopAfterHours}h`);
  parts.push(words, `>>${cronWord(logFile)} 2>&1`);
  return `${cronTimeFields(spec)} ${parts.join(' ')} ${CRON_MARKER}${spec.id}`;
}

/** The ids of the schedules this tool put into a crontab text. */
export function cronIds(text: string): string[] {
  return text.split('\n').map((l) => MARKER_RE.exec(l)?.[1]).filter((x): x is string => x !== undefined);
}

/** The crontab with our line for `id` replaced by `line` (or appended); other lines untouched. */
export function upsertCronLine(text: string, id: string, line: string): string {
  const lines = splitLines(text).filter((l) => MARKER_RE.exec(l)?.[1] !== id);
  lines.push(line);
  return lines.join('\n') + '\n';
}

/** The crontab without our line for `id`; other lines untouched. */
export function removeCronLine(text: string, id: string): string {
  const lines = splitLines(text).filter((l) => MARKER_RE.exec(l)?.[1] !== id);
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function cronNotes(spec: ScheduleSpec): string[] {
  const notes: string[] = [];
  if (spec.conditions.catchUp) notes.push('cron cannot catch up a missed start (the computer was off or asleep); a systemd user timer can.');
  if (spec.conditions.wakeToRun) notes.push('cron cannot wake the computer.');
  if (!spec.conditions.runOnBattery) notes.push('cron cannot skip runs on battery; the backup also runs on battery.');
  return notes;
}
