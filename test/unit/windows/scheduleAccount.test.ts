// Found while fixing issue 12: a Task Scheduler schedule runs node.exe and cli.js from folders the
// user can change; as SYSTEM that would be the same hole the elevated helper had. The registrar
// refuses before anything is written or run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ShadowSlotsError } from '../../../src/core/errors';
import type { ScheduleSpec } from '../../../src/core/schedule/spec';
import { refuseSystemSchedule } from '../../../src/platform/schedule/windowsRegistrar';

const spec: ScheduleSpec = { id: 'proj', when: { kind: 'weekdays' }, time: { hour: 23, minute: 30 }, conditions: { runOnBattery: false, wakeToRun: false, catchUp: true, stopAfterHours: 0 }, account: 'system' };

test('a schedule is never registered to run as SYSTEM; the user accounts are', () => {
  assert.throws(() => refuseSystemSchedule({ spec }), (e: unknown) => e instanceof ShadowSlotsError && e.code === 'invalid-input' && /cannot run as SYSTEM/.test(e.message) && /user-s4u/.test(e.hint ?? ''));
  for (const account of ['user', 'user-s4u'] as const) assert.doesNotThrow(() => refuseSystemSchedule({ spec: { ...spec, account } }));
});
