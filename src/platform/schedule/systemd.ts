import { invalid } from '../../core/errors';
import { daysOf, formatTime, type ScheduleSpec, WEEKDAY_SHORT } from '../../core/schedule/spec';
import type { JobCommand } from './engineCommand';

/**
 * systemd user timer + service for a schedule. Quoting follows systemd.syntax(7) and
 * systemd.service(5) "Command lines": every word is double-quoted with C escapes, `%` is doubled
 * (specifiers) everywhere, and `$` is doubled in the arguments only — systemd expands variables
 * in arguments but not in the executable path, where `$$` would stay two characters.
 */
export interface SystemdUnits {
  serviceName: string;
  timerName: string;
  service: string;
  timer: string;
}

export function unitBaseName(id: string): string {
  return `shadow-slots-${id}`;
}

function cEscape(value: string): string {
  return value.replace(/[\\"\t\n]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\t': '\\t', '\n': '\\n' })[c]!);
}

/** One ExecStart= word; `executable` marks the first word (no `$` expansion there). */
export function systemdWord(value: string, executable: boolean): string {
  if (value.includes('\0')) throw invalid('A value for a systemd unit contains a NUL character.');
  let v = cEscape(value).replace(/%/g, '%%');
  if (!executable) v = v.replace(/\$/g, '$$$$');
  return `"${v}"`;
}

/**
 * systemd refuses an executable path holding a quote or a backslash ("Executable name contains
 * special characters"), whatever the quoting. Such a path is handed to a fixed `/bin/sh` script
 * as `$0` instead: the script text is constant and every value stays a separate argument.
 */
export const SH_EXEC = ['/bin/sh', '-c', 'exec "$0" "$@"'] as const;

export function execStart(job: JobCommand): string {
  const argv = /['"\\]/.test(job.command) ? [...SH_EXEC, job.command, ...job.args] : [job.command, ...job.args];
  return argv.map((a, i) => systemdWord(a, i === 0)).join(' ');
}

/** Free text for Description=: specifiers escaped, line breaks flattened (a unit line cannot hold them). */
export function systemdText(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim().replace(/%/g, '%%').replace(/\\$/, '\\ .');
}

/** The OnCalendar= value: `Mon..Fri *-*-* 23:30:00`, `*-*-* 02:00:00`, `2026-11-26 07:02:00`. */
export function onCalendar(spec: Pick<ScheduleSpec, 'when' | 'time'>): string {
  const time = `${formatTime(spec.time)}:00`;
  if (spec.when.kind === 'once') return `${spec.when.date} ${time}`;
  const days = daysOf(spec.when)!;
  if (days.length === 7) return `*-*-* ${time}`;
  if (spec.when.kind === 'weekdays') return `Mon..Fri *-*-* ${time}`;
  return `${days.map((d) => WEEKDAY_SHORT[d]).join(',')} *-*-* ${time}`;
}

export function buildSystemdUnits(spec: ScheduleSpec, job: JobCommand, label: string): SystemdUnits {
  const base = unitBaseName(spec.id);
  const c = spec.conditions;
  const service = [
    '# Written by Shadow Slots (schedule ' + spec.id + '); remove with: shadow-slots schedule remove --id ' + spec.id,
    '[Unit]',
    `Description=${systemdText(`Shadow Slots backup: ${label}`)}`,
    ...(c.runOnBattery ? [] : ['# Skip the run while on battery (an unmet condition is not a failure).', 'ConditionACPower=true']),
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${execStart(job)}`,
    // oneshot services have no runtime limit but the start timeout, which covers the whole run.
    `TimeoutStartSec=${c.stopAfterHours > 0 ? `${c.stopAfterHours}h` : 'infinity'}`,
    'Nice=10',
    'IOSchedulingClass=idle',
    '',
  ].join('\n');
  const timer = [
    '# Written by Shadow Slots (schedule ' + spec.id + ')',
    '[Unit]',
    `Description=${systemdText(`Shadow Slots schedule: ${label}`)}`,
    '',
    '[Timer]',
    `OnCalendar=${onCalendar(spec)}`,
    `Persistent=${c.catchUp ? 'true' : 'false'}`,
    `WakeSystem=${c.wakeToRun ? 'true' : 'false'}`,
    'AccuracySec=1min',
    `Unit=${base}.service`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  return { serviceName: `${base}.service`, timerName: `${base}.timer`, service, timer };
}

/** What systemd cannot do for these conditions (shown by the wizard and the CLI). */
export function systemdNotes(spec: ScheduleSpec): string[] {
  const notes = ['A systemd user timer runs while you are logged in, or always after `loginctl enable-linger`.'];
  if (spec.conditions.wakeToRun) notes.push('WakeSystem= in a user timer needs permission to wake the machine; without it the run waits until the machine is awake.');
  return notes;
}
