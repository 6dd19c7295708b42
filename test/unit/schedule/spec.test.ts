import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShadowSlotsError } from '../../../src/core/errors';
import { parseAccount, parseDate, parseDays, parseStopAfter, parseTime, parseWhen, scheduleIdFor, validateScheduleId } from '../../../src/core/schedule/spec';

function refused(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof ShadowSlotsError && e.code === 'invalid-input' && pattern.test(e.message));
}

test('parseTime accepts 24-hour times and refuses everything else with the reason', () => {
  assert.deepEqual(parseTime('23:30'), { hour: 23, minute: 30 });
  assert.deepEqual(parseTime('0:05'), { hour: 0, minute: 5 });
  assert.deepEqual(parseTime(' 00:00 '), { hour: 0, minute: 0 });
  assert.deepEqual(parseTime('23:59'), { hour: 23, minute: 59 });
  refused(() => parseTime('25:61'), /hour 25/);
  refused(() => parseTime('24:00'), /hour 24/);
  refused(() => parseTime('12:60'), /minute 60/);
  for (const bad of ['7pm', '23.30', '2330', '', '12:5', '-1:00', '12:30:00']) refused(() => parseTime(bad), /not a 24-hour time/);
});

test('parseDays reads day lists and refuses an empty or unknown set', () => {
  assert.deepEqual(parseDays('mon,wed,fri'), [1, 3, 5]);
  assert.deepEqual(parseDays('Fri, MON, friday ,sun'), [0, 1, 5]);
  refused(() => parseDays(''), /No days/);
  refused(() => parseDays(' , ,'), /No days/);
  refused(() => parseDays('mon,funday'), /"funday" is not a day/);
});

test('parseWhen folds day lists that equal the work week or every day', () => {
  assert.deepEqual(parseWhen('daily'), { kind: 'daily' });
  assert.deepEqual(parseWhen('weekdays'), { kind: 'weekdays' });
  assert.deepEqual(parseWhen('fri,thu,wed,tue,mon'), { kind: 'weekdays' });
  assert.deepEqual(parseWhen('mon,tue,wed,thu,fri,sat,sun'), { kind: 'daily' });
  assert.deepEqual(parseWhen('sat,sun'), { kind: 'days', days: [0, 6] });
  assert.deepEqual(parseWhen('once', '2027-02-28'), { kind: 'once', date: '2027-02-28' });
  refused(() => parseWhen('once'), /needs a date/);
  refused(() => parseWhen('once', '2027-02-29'), /does not exist/);
  refused(() => parseWhen('hourly'), /"hourly" is not a day/);
});

test('parseDate checks that the day exists', () => {
  assert.equal(parseDate('2028-02-29'), '2028-02-29');
  refused(() => parseDate('2027-13-01'), /does not exist/);
  refused(() => parseDate('27-1-1'), /not a date/);
});

test('stop-after, account and ids are validated', () => {
  assert.equal(parseStopAfter('4'), 4);
  assert.equal(parseStopAfter(0), 0);
  refused(() => parseStopAfter('-1'), /whole number/);
  refused(() => parseStopAfter('1.5'), /whole number/);
  refused(() => parseStopAfter('73'), /whole number/);
  assert.equal(parseAccount('user-s4u'), 'user-s4u');
  refused(() => parseAccount('admin'), /not known/);
  assert.equal(validateScheduleId('proj-1'), 'proj-1');
  refused(() => validateScheduleId('../x'), /not valid/);
  refused(() => validateScheduleId('Proj'), /not valid/);
  assert.equal(scheduleIdFor('Mein Projekt (ü) 2'), 'mein-projekt-u-2');
  assert.equal(scheduleIdFor('日本語'), 'default');
});
