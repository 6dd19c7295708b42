import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEntry, describeSlot, describeStatus, formatChanges, formatLocalTime, formatShortTime, listSome, newestComplete, nextRedrawDelay, orderSlots, slotLogName, slotName, tildePath } from '../../../src/ui/slots/slotNodeData';
import { listSlotDirectory } from '../../../src/platform/listing';
import { parseManifest, type SlotManifest } from '../../../src/core/manifest';
import type { RingListing, SlotSummary } from '../../../src/rpc/protocol';

const now = new Date('2026-11-26T12:00:00Z');

function manifest(over: Partial<SlotManifest> = {}): SlotManifest {
  // Through the real parser, as the engine's manifests are read.
  return parseManifest(JSON.stringify({
    format: 1, id: '20261126T113000Z-abcd', state: 'complete', profile: 'proj', source: '/home/dev/proj',
    startedAt: '2026-11-26T11:29:00Z', endedAt: '2026-11-26T11:30:00Z',
    snapshot: { method: 'btrfs', id: 'snap-1', warning: null },
    rsync: { argv: ['rsync', '-rltDx'], exitCode: 0, version: '3.5.0' },
    counts: { files: 120, dirs: 14, created: 3, changed: 2, deleted: 1, bytesSent: 4096, totalSize: 10 * 1024 * 1024 },
    warnings: [], changeLog: 'changes/x.log', checksums: null, adopted: false, linkDest: '/t/1',
    ...over,
  }));
}

function slot(number: number | null, state: SlotSummary['state'], m: SlotManifest | null = manifest()): SlotSummary {
  return { number, id: m?.id ?? `id-${number}`, state, path: `/t/${number ?? '.shadow-slots/incoming/x'}`, manifest: m };
}

test('a complete slot node: short local time, changes, age; the full story in the tooltip', () => {
  const v = describeSlot(slot(0, 'complete'), now);
  assert.equal(v.label, formatShortTime(new Date('2026-11-26T11:30:00Z'), now));
  assert.equal(v.description, '30 min ago \u00b7 +3 ~2 \u22121');
  assert.equal(v.contextValue, 'slot:complete');
  assert.deepEqual(v.icon, { id: 'archive' });
  assert.equal(v.expandable, true);
  assert.match(v.tooltip, /Snapshot: btrfs \(snap-1\)/);
  assert.match(v.tooltip, /120 in 14 folders, 10\.5 MB/);
  assert.match(v.tooltip, /3 added, 2 changed, 1 deleted; 4\.1 kB copied/);
  assert.match(v.tooltip, /rsync exit code: 0 \(rsync 3\.5\.0\)/);
  assert.match(v.tooltip, /\/t\/0` \(position 0, the newest\)/);
});

test('the slot row fits the default sidebar width: at most 40 characters of label and description, the state and age before the changes', () => {
  const live = manifest({ snapshot: { method: 'none', id: null, warning: 'files could change while being read' }, counts: { files: 4002, dirs: 3, created: 4002, changed: 0, deleted: 0, bytesSent: 63e6, totalSize: 63e6 } });
  for (const [s, at] of [[slot(0, 'complete', live), now], [slot(3, 'complete'), new Date('2026-12-20T12:00:00Z')], [slot(null, 'partial'), now]] as const) {
    const v = describeSlot(s, at);
    assert.ok(v.label.length + 1 + v.description.length <= 40, `${v.label} ${v.description}`);
  }
  assert.equal(describeSlot(slot(0, 'complete', live), now).description, 'live copy \u00b7 30 min ago \u00b7 +4002');
});

test('a live copy is marked in the row, icon colour and tooltip, and the tooltip says its warning once', () => {
  const warning = 'files could change while being read';
  const v = describeSlot(slot(2, 'complete', manifest({ snapshot: { method: 'none', id: null, warning }, warnings: [warning, 'another warning'] })), now);
  assert.match(v.description, /^live copy \u00b7 /);
  assert.deepEqual(v.icon, { id: 'archive', color: 'list.warningForeground' });
  assert.match(v.tooltip, /live copy \(no snapshot\)/);
  assert.equal(v.tooltip.split(warning).length - 1, 1, v.tooltip);
  assert.match(v.tooltip, /Warning: another warning/);
});

test('a slot Verify found damaged is marked in the row, its icon and tooltip, with the file names', () => {
  const v = describeSlot(slot(1, 'complete'), now, { changed: ['src/a.ts', 'b c.txt'], missing: ['gone.md'], at: '2026-11-26T11:59:00Z' });
  assert.match(v.description, /^damaged \u00b7 /);
  assert.deepEqual(v.icon, { id: 'error', color: 'list.errorForeground' });
  assert.match(v.tooltip, /found 3 files that differ .*`src\/a\.ts`, `b c\.txt` and `gone\.md`/);
  assert.doesNotMatch(describeSlot(slot(1, 'complete'), now, { changed: [], missing: [], at: '2026-11-26T11:59:00Z' }).description, /damaged/);
});

test('partial, in-progress and interrupted slots get their own contextValue and icon', () => {
  assert.equal(describeSlot(slot(null, 'partial'), now).contextValue, 'slot:partial');
  assert.equal(describeSlot(slot(null, 'partial'), now).icon.id, 'warning');
  const inProgress = describeSlot(slot(null, 'in-progress', manifest({ state: 'in-progress', endedAt: null, counts: null })), now);
  assert.equal(inProgress.contextValue, 'slot:in-progress');
  assert.equal(inProgress.icon.id, 'sync~spin');
  assert.equal(inProgress.label, formatShortTime(new Date('2026-11-26T11:29:00Z'), now));
  assert.equal(inProgress.description, 'in progress \u00b7 31 min ago');
  const interrupted = describeSlot(slot(null, 'interrupted', null), now);
  assert.equal(interrupted.label, 'new slot');
  assert.equal(interrupted.contextValue, 'slot:interrupted');
  assert.match(interrupted.tooltip, /Manifest: none/);
});

test('an adopted slot without a manifest still gets a node', () => {
  const v = describeSlot(slot(5, 'complete', null), now);
  assert.equal(v.label, 'slot 5');
  assert.equal(v.description, 'complete');
});

test('short times are relative to the day: the time alone today, Yesterday, a weekday, a date, another year', () => {
  const at = new Date(2026, 10, 26, 12, 0); // local Thu 26 Nov 2026
  assert.equal(formatShortTime(new Date(2026, 10, 26, 9, 5), at), '09:05');
  assert.equal(formatShortTime(new Date(2026, 10, 25, 23, 30), at), 'Yesterday 23:30');
  assert.equal(formatShortTime(new Date(2026, 10, 23, 23, 30), at), 'Mon 23:30');
  assert.equal(formatShortTime(new Date(2026, 9, 3, 23, 30), at), '3 Oct 23:30');
  assert.equal(formatShortTime(new Date(2025, 11, 31, 23, 30), at), '2025-12-31');
});

test('messages name a slot by its time, the number only as its present position; the log adds the id', () => {
  const s = slot(2, 'complete');
  assert.equal(slotName(s), `${formatLocalTime(new Date('2026-11-26T11:30:00Z'))} (slot 2)`);
  assert.equal(slotLogName(s), `${slotName(s)} [id 20261126T113000Z-abcd]`);
  assert.equal(slotName(slot(null, 'partial', null)), 'not in the ring');
  assert.equal(listSome(['a', 'b', 'c', 'd', 'e']), 'a, b, c and 2 more');
  assert.equal(listSome(['a', 'b']), 'a and b');
  assert.equal(tildePath('/home/dev/rings/proj', '/home/dev'), '~/rings/proj');
  assert.equal(tildePath('/home/devel/x', '/home/dev'), '/home/devel/x');
});

test('ages are redrawn exactly when their text changes: per minute, per hour, per day, and at midnight', () => {
  const at = new Date(2026, 10, 26, 12, 0, 0);
  const t = at.getTime();
  assert.equal(nextRedrawDelay([], at), Infinity);
  assert.equal(nextRedrawDelay([t - 10_000], at), 50_000, '"just now" becomes "1 min ago" 60 s after the slot');
  assert.equal(nextRedrawDelay([t - (59 * 60_000 + 55_000)], at), 5_000, '"59 min ago" becomes "1 h ago"');
  assert.equal(nextRedrawDelay([t - (3 * 3_600_000 + 60_000)], at), 3_540_000, 'hours change on the hour of the age');
  const lateEvening = new Date(2026, 10, 26, 23, 59, 30);
  assert.equal(nextRedrawDelay([lateEvening.getTime() - 5 * 3_600_000], lateEvening), 30_000, 'midnight turns "18:59" into "Yesterday 18:59"');
});

test('slots are ordered by number, slots outside the ring last; newest complete is the lowest complete number', () => {
  const listing: RingListing = { target: '/t', busy: false, notes: [], slots: [slot(null, 'in-progress'), slot(2, 'complete'), slot(0, 'partial'), slot(1, 'complete')] };
  assert.deepEqual(orderSlots(listing).map((s) => s.number), [0, 1, 2, null]);
  assert.equal(newestComplete(listing)?.number, 1);
});

test('change stats read like a diff stat, zero parts left out', () => {
  assert.equal(formatChanges({ files: 0, dirs: 0, created: 10, changed: 0, deleted: 7, bytesSent: 0, totalSize: 0 }), '+10 \u22127');
  assert.equal(formatChanges({ files: 5, dirs: 0, created: 0, changed: 0, deleted: 0, bytesSent: 0, totalSize: 0 }), 'no changes');
});

test('the status bar: fresh is ok, older than the setting warns, a failure is an error', () => {
  const listing: RingListing = { target: '/t', busy: false, notes: [], slots: [slot(0, 'complete')] };
  const status = (over: Partial<Parameters<typeof describeStatus>[0]> = {}) => describeStatus({ listing, configured: true, lastFailure: undefined, staleAfterHours: 36, now, ...over });
  assert.deepEqual(status().severity, 'ok');
  assert.equal(status().text, '$(archive) Backup 30 min ago');
  assert.match(status().tooltip, /Newest complete backup: \d{4}-\d\d-\d\d \d\d:\d\d, 30 min ago/);
  const stale = status({ now: new Date(now.getTime() + 40 * 3_600_000) });
  assert.equal(stale.severity, 'warning');
  assert.match(stale.tooltip, /older than 36 h/);
  const failed = status({ lastFailure: 'rsync exited with 23' });
  assert.equal(failed.severity, 'error');
  assert.match(failed.tooltip, /rsync exited with 23/);
  assert.equal(status({ listing: { ...listing, slots: [] } }).severity, 'warning');
  const missed = status({ missedRuns: ['2026-11-25T22:30:00.000Z', '2026-11-24T22:30:00.000Z'] });
  assert.equal(missed.text, '$(warning) Backup missed');
  assert.equal(missed.severity, 'warning');
  assert.match(missed.tooltip, /2 scheduled backups were missed or failed/);
  assert.equal(status({ lastFailure: 'boom', missedRuns: ['2026-11-25T22:30:00.000Z'] }).severity, 'error', 'a failure outranks a missed run');
});

test('before any target the status bar points to Configure Backup Target, not to Back Up Now', () => {
  const v = describeStatus({ listing: undefined, configured: false, lastFailure: undefined, staleAfterHours: 36, now });
  assert.equal(v.severity, 'ok', 'not configured is not an alarm');
  assert.equal(v.action, 'configure');
  assert.equal(v.text, '$(archive) No backup target');
  assert.match(v.tooltip, /no backup target is configured yet.*\nClick to choose the folder/s);
  assert.doesNotMatch(v.tooltip, /Back Up Now/);
});

test('lazy children: entries of one slot folder become folder/file/link nodes with slot-relative paths', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ss-tree-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'src', 'nested'), { recursive: true });
  await writeFile(join(dir, 'src', 'a b.ts'), 'x'.repeat(2048));
  await writeFile(join(dir, 'src', 'nested', 'deep.txt'), 'deep');
  const level1 = (await listSlotDirectory(dir)).map((e) => describeEntry(e, ''));
  assert.deepEqual(level1.map((n) => [n.label, n.contextValue, n.relPath, n.expandable]), [['src', 'slotFolder', 'src', true]]);
  const level2 = (await listSlotDirectory(join(dir, 'src'))).map((e) => describeEntry(e, 'src'));
  assert.deepEqual(level2.map((n) => [n.label, n.contextValue, n.relPath]), [['nested', 'slotFolder', 'src/nested'], ['a b.ts', 'slotFile', 'src/a b.ts']]);
  assert.equal(level2[1]!.description, '2.0 kB');
  const link = describeEntry({ name: 'l', kind: 'symlink', size: 3, mtimeMs: 0 }, 'src');
  assert.equal(link.contextValue, 'slotLink');
  assert.equal(link.description, 'link');
});
