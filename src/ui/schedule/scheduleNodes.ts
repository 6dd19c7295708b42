import { formatLocal } from '../../core/schedule/zone';
import type { ScheduleListing } from '../../platform/schedule/service';

/**
 * What the Slots view shows for one schedule (no vscode import, so it is unit-testable).
 * contextValue encodes state for package.json when-clauses: `schedule:ok`, `schedule:missed`,
 * `schedule:unregistered`.
 */
export interface ScheduleNodeData {
  id: string;
  label: string;
  description: string;
  tooltip: string;
  contextValue: 'schedule:ok' | 'schedule:missed' | 'schedule:unregistered';
  icon: 'calendar' | 'warning' | 'error';
  /** ISO time of the next start; undefined for a one-off that has run. */
  nextRun: string | undefined;
  /** Scheduled starts that produced no complete slot. */
  missed: number;
}

export function scheduleNodeData(l: ScheduleListing): ScheduleNodeData {
  const zone = l.entry.zone;
  const next = l.nextRun ? `next ${formatLocal(new Date(l.nextRun), zone)}` : 'finished';
  const last = l.ring.lastRun ? `last ${formatLocal(new Date(l.ring.lastRun.startedAt), zone)} (${l.ring.lastRun.state})` : 'never run';
  const platformResult = 'lastResult' in l.platform && l.platform.lastResult ? `\nThe scheduler reports: ${l.platform.lastResult}` : '';
  const missed = l.missed.length;
  const state: ScheduleNodeData['contextValue'] = !l.platform.registered ? 'schedule:unregistered' : missed > 0 ? 'schedule:missed' : 'schedule:ok';
  return {
    id: l.entry.id,
    label: l.summary.replace(/, keeps .*$/, ''),
    description: state === 'schedule:unregistered' ? 'not registered' : missed > 0 ? `${missed} missed · ${next}` : next,
    tooltip: `${l.summary}\n${l.entry.platform}: ${next}, ${last}${platformResult}`
      + (missed > 0 ? `\nMissed: ${l.missed.map((m) => formatLocal(new Date(m), zone)).join(', ')}` : '')
      + (state === 'schedule:unregistered' ? `\nThe ${l.entry.platform} registration is gone: Edit the schedule to register it again, or Delete it.` : ''),
    contextValue: state,
    icon: state === 'schedule:unregistered' ? 'error' : missed > 0 ? 'warning' : 'calendar',
    nextRun: l.nextRun,
    missed,
  };
}

/** The schedules that fill the ring at `target`: a trailing separator and, on Windows, letter case do not matter. */
export function listingsForTarget(listings: ScheduleListing[], target: string, caseInsensitive = process.platform === 'win32'): ScheduleListing[] {
  const norm = (p: string) => (caseInsensitive ? p.toLowerCase() : p).replace(/[\\/]+$/, '');
  return listings.filter((l) => norm(l.entry.target) === norm(target));
}

/** The "Schedules" node at the top of the Slots view, above the slots; its children are the schedules. */
export interface ScheduleGroupData {
  label: string;
  description: string;
  tooltip: string;
  contextValue: 'schedules' | 'schedules:attention';
  icon: 'calendar' | 'warning';
}

/**
 * Undefined when the ring has no schedule (the view then shows slots only). The description
 * names what needs attention first (missed runs, a lost registration), else the soonest run.
 */
export function scheduleGroupData(nodes: ScheduleNodeData[], zone: string): ScheduleGroupData | undefined {
  if (nodes.length === 0) return undefined;
  const missed = nodes.reduce((n, s) => n + s.missed, 0);
  const unregistered = nodes.filter((s) => s.contextValue === 'schedule:unregistered').length;
  const soonest = nodes.map((s) => s.nextRun).filter((t): t is string => t !== undefined).sort()[0];
  const parts: string[] = [];
  if (unregistered > 0) parts.push(`${unregistered} not registered`);
  if (missed > 0) parts.push(`${missed} missed`);
  parts.push(soonest ? `next ${formatLocal(new Date(soonest), zone)}` : 'no run ahead');
  const attention = missed > 0 || unregistered > 0;
  return {
    label: nodes.length === 1 ? 'Schedule' : `Schedules (${nodes.length})`,
    description: parts.join(' \u00b7 '),
    tooltip: nodes.map((s) => s.tooltip.split('\n').slice(0, 2).join('\n')).join('\n\n'),
    contextValue: attention ? 'schedules:attention' : 'schedules',
    icon: attention ? 'warning' : 'calendar',
  };
}
