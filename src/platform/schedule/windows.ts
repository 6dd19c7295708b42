import { describeWhen } from '../../core/schedule/summary';
import { daysOf, formatTime, type ScheduleSpec, WEEKDAY_LONG } from '../../core/schedule/spec';
import { localParts, formatDate } from '../../core/schedule/zone';
import type { TaskPrincipal, TaskSpec, TaskTrigger } from '../windows/taskSpec';
import { buildTaskXml, encodeTaskXml } from '../windows/taskXml';
import type { JobCommand } from './engineCommand';

/** The Task Scheduler task of a schedule: `\Shadow Slots\schedule-<id>`. */
export function taskPath(id: string): string {
  return `\\Shadow Slots\\schedule-${id}`;
}

/**
 * The TaskSpec for a schedule. Calendar triggers carry a local StartBoundary without an offset,
 * so Task Scheduler keeps the wall-clock time across DST changes, as the user chose it.
 */
export function scheduleTaskSpec(spec: ScheduleSpec, job: JobCommand, userId: string, label: string, now: Date, zone: string): TaskSpec {
  const time = `${formatTime(spec.time)}:00`;
  let trigger: TaskTrigger;
  if (spec.when.kind === 'once') {
    trigger = { kind: 'once', start: `${spec.when.date}T${time}` };
  } else {
    const start = `${formatDate(localParts(now, zone))}T${time}`;
    const days = daysOf(spec.when)!;
    trigger = days.length === 7 ? { kind: 'daily', start }
      : { kind: 'weekly', start, days: days.map((d) => WEEKDAY_LONG[d]!) };
  }
  const principal: TaskPrincipal = spec.account === 'system' ? { kind: 'system' }
    : spec.account === 'user-s4u' ? { kind: 's4u', userId } : { kind: 'interactive', userId };
  return {
    path: taskPath(spec.id),
    description: `Shadow Slots backup of ${label}: ${describeWhen(spec.when)} at ${formatTime(spec.time)}. Created by shadow-slots schedule.`,
    author: 'Shadow Slots',
    principal,
    runLevel: 'LeastPrivilege',
    triggers: [trigger],
    action: { command: job.command, arguments: job.args },
    settings: { ...spec.conditions },
  };
}

export function buildScheduleTaskXml(task: TaskSpec): { xml: string; bytes: Buffer } {
  const xml = buildTaskXml(task);
  return { xml, bytes: encodeTaskXml(xml) };
}
