// The "Schedules" node the Slots view shows above the slots (its data, without VS Code).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { scheduleGroupData, scheduleNodeData, type ScheduleNodeData } from '../../../src/ui/schedule/scheduleNodes';
import type { ScheduleEntry } from '../../../src/platform/schedule/registry';
import type { ScheduleListing } from '../../../src/platform/schedule/service';

const entry = (id: string): ScheduleEntry => ({
  id, platform: 'cron', spec: { id, when: { kind: 'daily' }, time: { hour: 3, minute: 17 }, conditions: { runOnBattery: false, wakeToRun: false, catchUp: true, stopAfterHours: 0 }, account: 'user' },
  profileName: id, source: '/src', target: '/mnt/b/proj', slots: 16, profileFile: `/c/${id}.json`, engine: { node: '/n', cli: '/c.js' }, zone: 'Europe/Berlin', createdAt: '2026-11-20T00:00:00Z', files: [],
});
const node = (id: string, over: Partial<ScheduleListing> = {}): ScheduleNodeData => scheduleNodeData({
  entry: entry(id), summary: 'Every day at 03:17, keeps 16 slots on /mnt/b/proj', nextRun: '2026-11-27T02:17:00.000Z', platform: { registered: true }, ring: {}, missed: [], ...over,
});

test('no schedule for the ring: no group node, the view shows slots only', () => {
  assert.equal(scheduleGroupData([], 'Europe/Berlin'), undefined);
});

test('one healthy schedule: "Schedule", its next run in the given zone, calendar icon', () => {
  const g = scheduleGroupData([node('proj')], 'Europe/Berlin')!;
  assert.deepEqual([g.label, g.description, g.contextValue, g.icon], ['Schedule', 'next 2026-11-27 03:17', 'schedules', 'calendar']);
  assert.match(g.tooltip, /^Every day at 03:17, keeps 16 slots on \/mnt\/b\/proj\ncron: next 2026-11-27 03:17, never run$/);
  assert.equal(scheduleGroupData([node('proj')], 'America/New_York')!.description, 'next 2026-11-26 21:17');
});

test('several schedules: the soonest next run; missed runs and lost registrations come first and mark the group', () => {
  const later = node('a', { nextRun: '2026-11-28T02:17:00.000Z' });
  const sooner = node('b', { nextRun: '2026-11-26T22:00:00.000Z', missed: ['2026-11-24T02:17:00.000Z', '2026-11-25T02:17:00.000Z'] });
  const gone = node('c', { platform: { registered: false } });
  const g = scheduleGroupData([later, sooner, gone], 'UTC')!;
  assert.deepEqual([g.label, g.description, g.contextValue, g.icon], ['Schedules (3)', '1 not registered · 2 missed · next 2026-11-26 22:00', 'schedules:attention', 'warning']);
  assert.equal(g.tooltip.split('\n\n').length, 3, 'one paragraph per schedule');
});

test('a one-off that has run has no next run; the group says so', () => {
  const g = scheduleGroupData([node('once', { nextRun: undefined })], 'UTC')!;
  assert.equal(g.description, 'no run ahead');
  assert.equal(node('once', { nextRun: undefined }).description, 'finished');
});

test('schedule nodes carry what the Slots view needs: id for the commands, state for the menus', () => {
  const n = node('proj', { missed: ['2026-11-25T02:17:00.000Z'] });
  assert.deepEqual([n.id, n.contextValue, n.missed, n.nextRun], ['proj', 'schedule:missed', 1, '2026-11-27T02:17:00.000Z']);
});
