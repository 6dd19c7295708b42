import { invalid } from '../../core/errors';
import { daysOf, type ScheduleSpec } from '../../core/schedule/spec';
import type { JobCommand } from './engineCommand';

/**
 * A launchd agent (~/Library/LaunchAgents/<label>.plist). ProgramArguments is an array, so no
 * shell ever parses it; values only need XML escaping. launchd runs a StartCalendarInterval job
 * that was missed while the Mac slept as soon as it wakes (several missed starts coalesce into one).
 */
export function launchdLabel(id: string): string {
  return `io.shadow-slots.schedule.${id}`;
}

// eslint-disable-next-line no-control-regex
const ILLEGAL_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function plistString(value: string): string {
  if (ILLEGAL_XML.test(value) || value.includes('\r')) throw invalid(`The value ${JSON.stringify(value)} contains a character that a property list cannot hold.`, 'Rename the folder.');
  return `<string>${value.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!)}</string>`;
}

function calendarEntries(spec: Pick<ScheduleSpec, 'when' | 'time'>): Array<Record<string, number>> {
  const { hour, minute } = spec.time;
  if (spec.when.kind === 'once') {
    const [, month, day] = spec.when.date.split('-').map(Number) as [number, number, number];
    return [{ Month: month, Day: day, Hour: hour, Minute: minute }];
  }
  const days = daysOf(spec.when)!;
  if (days.length === 7) return [{ Hour: hour, Minute: minute }];
  return days.map((d) => ({ Weekday: d, Hour: hour, Minute: minute }));
}

export function buildLaunchdPlist(spec: ScheduleSpec, job: JobCommand, logFile: string): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  ${plistString(launchdLabel(spec.id))}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...[job.command, ...job.args].map((a) => `    ${plistString(a)}`),
    '  </array>',
    '  <key>StartCalendarInterval</key>',
    '  <array>',
  ];
  for (const entry of calendarEntries(spec)) {
    lines.push('    <dict>');
    for (const [k, v] of Object.entries(entry)) lines.push(`      <key>${k}</key>`, `      <integer>${v}</integer>`);
    lines.push('    </dict>');
  }
  lines.push(
    '  </array>',
    '  <key>RunAtLoad</key>',
    '  <false/>',
    '  <key>ProcessType</key>',
    '  <string>Background</string>',
    '  <key>LowPriorityIO</key>',
    '  <true/>',
    '  <key>StandardOutPath</key>',
    `  ${plistString(logFile)}`,
    '  <key>StandardErrorPath</key>',
    `  ${plistString(logFile)}`,
    '</dict>',
    '</plist>',
    '',
  );
  return lines.join('\n');
}

export function launchdNotes(spec: ScheduleSpec): string[] {
  const notes: string[] = [];
  if (!spec.conditions.catchUp) notes.push('launchd always runs a start missed during sleep once the Mac wakes; it cannot skip it.');
  if (spec.conditions.wakeToRun) notes.push('launchd cannot wake the Mac; use `sudo pmset repeat wake` for that.');
  if (!spec.conditions.runOnBattery) notes.push('launchd cannot skip runs on battery; the backup also runs on battery.');
  if (spec.conditions.stopAfterHours > 0) notes.push('launchd has no run-time limit; "stop after" is not applied.');
  if (spec.when.kind === 'once') notes.push('launchd has no year in a calendar interval: the one-off job is removed with `schedule remove` after it ran, or it repeats next year.');
  return notes;
}
