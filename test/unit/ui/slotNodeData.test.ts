import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEntry, describeSlot, describeStatus, formatAge, formatChanges, formatLocalTime, newestComplete, orderSlots } from '../../../src/ui/slots/slotNodeData';
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

test('a complete slot node shows number, local time, age, changes and snapshot method', () => {
  const v = describeSlot(slot(0, 'complete'), now);
  assert.equal(v.label, `0 \u00b7 ${formatLocalTime(new Date('2026-11-26T11:30:00Z'))}`);
  assert.equal(v.description, '30 min ago \u00b7 +3 ~2 \u22121 \u00b7 btrfs snapshot');
  assert.equal(v.contextValue, 'slot:complete');
  assert.deepEqual(v.icon, { id: 'archive' });
  assert.equal(v.expandable, true);
  assert.match(v.tooltip, /Snapshot: btrfs \(snap-1\)/);
  assert.match(v.tooltip, /120 in 14 folders, 10 MiB/);
  assert.match(v.tooltip, /3 added, 2 changed, 1 deleted; 4.0 KiB copied/);
  assert.match(v.tooltip, /rsync exit code: 0 \(rsync 3\.5\.0\)/);
});

test('a live copy (no snapshot) is marked in the description, icon colour and tooltip', () => {
  const v = describeSlot(slot(2, 'complete', manifest({ snapshot: { method: 'none', id: null, warning: 'files could change while being read' } })), now);
  assert.match(v.description, /live copy \(no snapshot\)$/);
  assert.deepEqual(v.icon, { id: 'archive', color: 'list.warningForeground' });
  assert.match(v.tooltip, /Warning: files could change while being read/);
});

test('partial, in-progress and interrupted slots get their own contextValue and icon', () => {
  assert.equal(describeSlot(slot(null, 'partial'), now).contextValue, 'slot:partial');
  assert.equal(describeSlot(slot(null, 'partial'), now).icon.id, 'warning');
  const inProgress = describeSlot(slot(null, 'in-progress', manifest({ state: 'in-progress', endedAt: null, counts: null })), now);
  assert.equal(inProgress.contextValue, 'slot:in-progress');
  assert.equal(inProgress.icon.id, 'sync~spin');
  assert.match(inProgress.label, /^new slot \u00b7 /);
  assert.equal(inProgress.description, '31 min ago \u00b7 in progress');
  const interrupted = describeSlot(slot(null, 'interrupted', null), now);
  assert.equal(interrupted.label, 'new slot');
  assert.equal(interrupted.contextValue, 'slot:interrupted');
  assert.match(interrupted.tooltip, /Manifest: none/);
});

test('an adopted slot without a manifest still gets a node', () => {
  const v = describeSlot(slot(5, 'complete', null), now);
  assert.equal(v.label, '5');
  assert.equal(v.description, 'complete');
});

test('slots are ordered by number, slots outside the ring last; newest complete is the lowest complete number', () => {
  const listing: RingListing = { target: '/t', busy: false, notes: [], slots: [slot(null, 'in-progress'), slot(2, 'complete'), slot(0, 'partial'), slot(1, 'complete')] };
  assert.deepEqual(orderSlots(listing).map((s) => s.number), [0, 1, 2, null]);
  assert.equal(newestComplete(listing)?.number, 1);
});

test('relative ages and change stats read naturally', () => {
  assert.equal(formatAge(10_000), 'just now');
  assert.equal(formatAge(5 * 60_000), '5 min ago');
  assert.equal(formatAge(3 * 3_600_000), '3 h ago');
  assert.equal(formatAge(47 * 3_600_000), '47 h ago');
  assert.equal(formatAge(72 * 3_600_000), '3 days ago');
  assert.equal(formatAge(-1), 'in the future');
  assert.equal(formatChanges({ files: 0, dirs: 0, created: 10, changed: 0, deleted: 7, bytesSent: 0, totalSize: 0 }), '+10 ~0 \u22127');
});

test('the status bar: fresh is ok, older than the setting warns, a failure is an error', () => {
  const listing: RingListing = { target: '/t', busy: false, notes: [], slots: [slot(0, 'complete')] };
  assert.deepEqual(describeStatus(listing, undefined, 36, now).severity, 'ok');
  assert.equal(describeStatus(listing, undefined, 36, now).text, '$(archive) Backup 30 min ago');
  const later = new Date(now.getTime() + 40 * 3_600_000);
  const stale = describeStatus(listing, undefined, 36, later);
  assert.equal(stale.severity, 'warning');
  assert.match(stale.tooltip, /older than 36 h/);
  const failed = describeStatus(listing, 'rsync exited with 23', 36, now);
  assert.equal(failed.severity, 'error');
  assert.match(failed.tooltip, /rsync exited with 23/);
  assert.equal(describeStatus({ ...listing, slots: [] }, undefined, 36, now).severity, 'warning');
  assert.equal(describeStatus(undefined, undefined, 36, now).severity, 'ok', 'not configured is not an alarm');
  const missed = describeStatus(listing, undefined, 36, now, ['2026-11-25T22:30:00.000Z', '2026-11-24T22:30:00.000Z']);
  assert.equal(missed.text, '$(warning) Backup missed');
  assert.equal(missed.severity, 'warning');
  assert.match(missed.tooltip, /2 scheduled backups were missed or failed/);
  assert.equal(describeStatus(listing, 'boom', 36, now, ['2026-11-25T22:30:00.000Z']).severity, 'error', 'a failure outranks a missed run');
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
  assert.equal(level2[1]!.description, '2.0 KiB');
  const link = describeEntry({ name: 'l', kind: 'symlink', size: 3, mtimeMs: 0 }, 'src');
  assert.equal(link.contextValue, 'slotLink');
  assert.equal(link.description, 'link');
});
