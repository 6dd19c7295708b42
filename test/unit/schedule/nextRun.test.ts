import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShadowSlotsError } from '../../../src/core/errors';
import { checkFuture, dstNotes, missedRuns, nextRuns, runsBetween } from '../../../src/core/schedule/nextRun';
import type { Timing } from '../../../src/core/schedule/nextRun';
import { formatLocal, localToInstants } from '../../../src/core/schedule/zone';
import { run } from '../../../src/platform/runner';

const BERLIN = 'Europe/Berlin';
const NY = 'America/New_York';
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const weekdays2330: Timing = { when: { kind: 'weekdays' }, time: { hour: 23, minute: 30 } };

test('weekdays at 23:30 skip the weekend, in local time', () => {
  // Friday 2026-11-27 12:00 in Berlin (UTC+1).
  const from = new Date('2026-11-27T11:00:00Z');
  assert.deepEqual(iso(nextRuns(weekdays2330, from, BERLIN, 3)), ['2026-11-27T22:30:00.000Z', '2026-11-30T22:30:00.000Z', '2026-12-01T22:30:00.000Z']);
  assert.deepEqual(iso(nextRuns(weekdays2330, from, NY, 2)), ['2026-11-28T04:30:00.000Z', '2026-12-01T04:30:00.000Z']);
});

test('around midnight: 00:00 is the next day, and a start exactly now is not "next"', () => {
  const midnight: Timing = { when: { kind: 'daily' }, time: { hour: 0, minute: 0 } };
  const at2359 = new Date('2026-11-26T22:59:00Z'); // 23:59 in Berlin
  assert.deepEqual(iso(nextRuns(midnight, at2359, BERLIN, 2)), ['2026-11-26T23:00:00.000Z', '2026-11-27T23:00:00.000Z']);
  const exactly = new Date('2026-11-26T23:00:00Z');
  assert.deepEqual(iso(nextRuns(midnight, exactly, BERLIN, 1)), ['2026-11-27T23:00:00.000Z']);
  // Saturday-only at 00:30, asked late on Friday local time (already Saturday in UTC+x? no: UTC is behind).
  const sat: Timing = { when: { kind: 'days', days: [6] }, time: { hour: 0, minute: 30 } };
  const fridayNightNY = new Date('2026-11-28T04:45:00Z'); // Fri 23:45 in New York, Sat in UTC
  assert.deepEqual(iso(nextRuns(sat, fridayNightNY, NY, 1)), ['2026-11-28T05:30:00.000Z']);
});

test('spring forward: a time inside the gap is skipped that night (as systemd does)', () => {
  const t: Timing = { when: { kind: 'daily' }, time: { hour: 2, minute: 30 } };
  // Berlin: 2027-03-28 02:00 CET → 03:00 CEST.
  assert.deepEqual(localToInstants(2027, 3, 28, 2, 30, BERLIN), []);
  const runs = iso(nextRuns(t, new Date('2027-03-27T12:00:00Z'), BERLIN, 2));
  assert.deepEqual(runs, ['2027-03-29T00:30:00.000Z', '2027-03-30T00:30:00.000Z']);
  // New York: 2027-03-14 02:00 EST → 03:00 EDT.
  assert.deepEqual(iso(nextRuns(t, new Date('2027-03-13T12:00:00Z'), NY, 2)), ['2027-03-15T06:30:00.000Z', '2027-03-16T06:30:00.000Z']);
  // 03:30 exists and moves one hour closer in UTC across the change.
  const t330: Timing = { when: { kind: 'daily' }, time: { hour: 3, minute: 30 } };
  assert.deepEqual(iso(nextRuns(t330, new Date('2027-03-27T12:00:00Z'), BERLIN, 2)), ['2027-03-28T01:30:00.000Z', '2027-03-29T01:30:00.000Z']);
});

test('fall back: a repeated time runs once, at its first occurrence', () => {
  const t: Timing = { when: { kind: 'daily' }, time: { hour: 2, minute: 30 } };
  assert.equal(localToInstants(2027, 10, 31, 2, 30, BERLIN).length, 2);
  assert.deepEqual(iso(nextRuns(t, new Date('2027-10-30T12:00:00Z'), BERLIN, 2)), ['2027-10-31T00:30:00.000Z', '2027-11-01T01:30:00.000Z']);
  // New York turns 02:00 EDT back to 01:00 EST, so there 01:30 repeats and 02:30 does not.
  const t130: Timing = { when: { kind: 'daily' }, time: { hour: 1, minute: 30 } };
  assert.deepEqual(iso(nextRuns(t130, new Date('2027-11-06T12:00:00Z'), NY, 2)), ['2027-11-07T05:30:00.000Z', '2027-11-08T06:30:00.000Z']);
  assert.deepEqual(iso(nextRuns(t, new Date('2027-11-06T12:00:00Z'), NY, 1)), ['2027-11-07T07:30:00.000Z']);
  // Asked between the two 02:30s, the second one is not a new run: next is the following day.
  assert.deepEqual(iso(nextRuns(t, new Date('2027-10-31T00:45:00Z'), BERLIN, 1)), ['2027-11-01T01:30:00.000Z']);
});

test('dstNotes names the nights on which the chosen time is skipped or repeats', () => {
  const notes = dstNotes({ when: { kind: 'daily' }, time: { hour: 2, minute: 30 } }, new Date('2027-01-01T00:00:00Z'), BERLIN);
  assert.equal(notes.length, 2);
  assert.match(notes[0]!, /02:30 does not exist on Sun 2027-03-28 in Europe\/Berlin/);
  assert.match(notes[1]!, /02:30 happens twice on Sun 2027-10-31/);
  assert.deepEqual(dstNotes(weekdays2330, new Date('2027-01-01T00:00:00Z'), BERLIN), []);
  // Weekdays never hit a Sunday change.
  assert.deepEqual(dstNotes({ when: { kind: 'weekdays' }, time: { hour: 2, minute: 30 } }, new Date('2027-01-01T00:00:00Z'), BERLIN), []);
});

test('a one-off time in the past is refused with the reason; in the future it is the only run', () => {
  const now = new Date('2026-11-26T07:00:00Z'); // 08:00 Berlin
  const past: Timing = { when: { kind: 'once', date: '2026-11-26' }, time: { hour: 7, minute: 59 } };
  assert.throws(() => checkFuture(past, now, BERLIN), (e: unknown) => e instanceof ShadowSlotsError && e.code === 'invalid-input'
    && e.message === '2026-11-26 07:59 is already past (it is now 2026-11-26 08:00 in Europe/Berlin).' && /later time/.test(e.hint ?? ''));
  const exactlyNow: Timing = { when: { kind: 'once', date: '2026-11-26' }, time: { hour: 8, minute: 0 } };
  assert.throws(() => checkFuture(exactlyNow, now, BERLIN), /already past/);
  const soon: Timing = { when: { kind: 'once', date: '2026-11-26' }, time: { hour: 8, minute: 2 } };
  assert.equal(checkFuture(soon, now, BERLIN).toISOString(), '2026-11-26T07:02:00.000Z');
  assert.deepEqual(iso(nextRuns(soon, now, BERLIN, 5)), ['2026-11-26T07:02:00.000Z']);
  const gap: Timing = { when: { kind: 'once', date: '2027-03-28' }, time: { hour: 2, minute: 15 } };
  assert.throws(() => checkFuture(gap, now, BERLIN), /does not exist in Europe\/Berlin/);
});

test('missed runs are the scheduled starts since the newest complete slot, minus a grace period', () => {
  const created = new Date('2026-11-20T00:00:00Z');
  const now = new Date('2026-11-26T12:00:00Z'); // Thursday
  // Last slot from Monday night's run: Tue and Wed nights are missed.
  const last = new Date('2026-11-23T22:30:05Z');
  assert.deepEqual(iso(missedRuns(weekdays2330, last, created, now, BERLIN)), ['2026-11-24T22:30:00.000Z', '2026-11-25T22:30:00.000Z']);
  // No slot at all: everything since creation counts (Fri 20th, Mon–Wed).
  assert.equal(missedRuns(weekdays2330, undefined, created, now, BERLIN).length, 4);
  // A run that started 1 hour ago is within the grace period.
  assert.deepEqual(missedRuns(weekdays2330, last, created, new Date('2026-11-24T23:30:00Z'), BERLIN), []);
  assert.equal(runsBetween(weekdays2330, created, now, BERLIN).length, 4);
});

test('the process TZ decides the local zone: the same code in a child with TZ set', async () => {
  for (const [zone, expected] of [[BERLIN, '2027-03-29T00:30:00.000Z'], [NY, '2027-03-29T06:30:00.000Z']] as const) {
    const script = `const { nextRuns } = require('./src/core/schedule/nextRun.ts'); const { localZone } = require('./src/core/schedule/zone.ts');
      const z = localZone(); const [n] = nextRuns({ when: { kind: 'daily' }, time: { hour: 2, minute: 30 } }, new Date('2027-03-28T12:00:00Z'), z, 1);
      process.stdout.write(JSON.stringify({ z, n: n.toISOString(), local: new Date(n).toString() }));`;
    const out = await run(process.execPath, ['--import', 'tsx', '-e', script], { env: { TZ: zone } });
    const r = JSON.parse(out.stdout) as { z: string; n: string; local: string };
    assert.equal(r.z, zone);
    assert.equal(r.n, expected);
    assert.match(r.local, / 02:30:00 /, 'the next run is 02:30 on the wall clock of the child');
  }
  assert.equal(formatLocal(new Date('2027-03-29T00:30:00Z'), BERLIN), '2027-03-29 02:30');
});
