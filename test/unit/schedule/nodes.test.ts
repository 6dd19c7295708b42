import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ScheduleEntry } from '../../../src/platform/schedule/registry';
import { readRingRuns } from '../../../src/platform/schedule/ringStatus';
import type { ScheduleListing } from '../../../src/platform/schedule/service';
import { listingsForTarget, scheduleNodeData } from '../../../src/ui/schedule/scheduleNodes';

const entry: ScheduleEntry = {
  id: 'proj', platform: 'cron', spec: { id: 'proj', when: { kind: 'weekdays' }, time: { hour: 23, minute: 30 }, conditions: { runOnBattery: false, wakeToRun: false, catchUp: true, stopAfterHours: 0 }, account: 'user' },
  profileName: 'proj', source: '/src', target: '/mnt/b/proj', slots: 16, profileFile: '/c/p.json', engine: { node: '/n', cli: '/c.js' }, zone: 'Europe/Berlin', createdAt: '2026-11-20T00:00:00Z', files: [],
};
const listing = (over: Partial<ScheduleListing>): ScheduleListing => ({ entry, summary: 'Weekdays at 23:30, keeps 16 slots on /mnt/b/proj', nextRun: '2026-11-26T22:30:00.000Z', platform: { registered: true }, ring: {}, missed: [], ...over });

test('schedule nodes encode their state for when-clauses and say next/last/missed runs', () => {
  const ok = scheduleNodeData(listing({ ring: { lastRun: { startedAt: '2026-11-25T22:30:00Z', endedAt: '2026-11-25T22:41:00Z', state: 'complete' } } }));
  assert.deepEqual([ok.contextValue, ok.icon, ok.label, ok.description], ['schedule:ok', 'calendar', 'Weekdays at 23:30', 'next 2026-11-26 23:30']);
  assert.match(ok.tooltip, /cron: next 2026-11-26 23:30, last 2026-11-25 23:30 \(complete\)/);
  const missed = scheduleNodeData(listing({ missed: ['2026-11-24T22:30:00.000Z', '2026-11-25T22:30:00.000Z'], platform: { registered: true, lastResult: 'failed (exit 1)' } }));
  assert.deepEqual([missed.contextValue, missed.description], ['schedule:missed', '2 missed · next 2026-11-26 23:30']);
  assert.match(missed.tooltip, /Missed: 2026-11-24 23:30, 2026-11-25 23:30/);
  assert.match(missed.tooltip, /The scheduler reports: failed \(exit 1\)/);
  const gone = scheduleNodeData(listing({ platform: { registered: false } }));
  assert.deepEqual([gone.contextValue, gone.description, gone.icon], ['schedule:unregistered', 'not registered', 'error']);
  // The Slots view and the status bar's missed runs both match schedules to the ring this way.
  assert.deepEqual(listingsForTarget([listing({})], '/mnt/b/proj/').map((l) => l.entry.id), ['proj']);
  assert.deepEqual(listingsForTarget([listing({})], '/mnt/b/other'), []);
  assert.deepEqual(listingsForTarget([listing({ entry: { ...entry, target: 'F:\\Backups\\Proj' } })], 'f:\\backups\\proj', true).length, 1);
  const missedRuns = ['2026-11-25T22:30:00.000Z'];
  assert.deepEqual(listingsForTarget([listing({ missed: missedRuns })], '/mnt/b/proj/').flatMap((l) => l.missed), missedRuns);
});

test('last run and last complete slot come from the ring\'s manifests', async (t) => {
  const target = await mkdtemp(join(tmpdir(), 'ss-ring-'));
  t.after(() => rm(target, { recursive: true, force: true }));
  assert.deepEqual(await readRingRuns(target), {});
  const dir = join(target, '.shadow-slots', 'manifests');
  await mkdir(dir, { recursive: true });
  const manifest = (id: string, startedAt: string, state: string) => JSON.stringify({ format: 1, id, state, profile: 'p', source: '/s', startedAt, endedAt: null, snapshot: { method: 'none', id: null, warning: null }, rsync: { argv: [], exitCode: 0, version: null }, counts: null, warnings: [], changeLog: null, checksums: null, adopted: false, linkDest: null });
  await writeFile(join(dir, 'a.json'), manifest('a', '2026-11-24T22:30:00Z', 'complete'));
  await writeFile(join(dir, 'b.json'), manifest('b', '2026-11-25T22:30:00Z', 'partial'));
  await writeFile(join(dir, 'broken.json'), '{');
  const runs = await readRingRuns(target);
  assert.deepEqual(runs.lastRun, { startedAt: '2026-11-25T22:30:00Z', endedAt: null, state: 'partial' });
  assert.equal(runs.lastComplete?.startedAt, '2026-11-24T22:30:00Z');
});
