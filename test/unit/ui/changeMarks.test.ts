// The Slots view's change marks and the File History / Find rows, from engine answers (no VS Code).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decorationOf, ghostViews, onlyChanged, struck } from '../../../src/ui/slots/changeMarkData';
import { foundRow, historyRows, slotRuns } from '../../../src/ui/history/historyData';
import { describeEntry, formatLocalTime } from '../../../src/ui/slots/slotNodeData';
import type { FileHistory, FileVersion, SlotChanges, SlotRef } from '../../../src/core/slotHistory';

const ref = (number: number, hoursAgo: number | null = null): SlotRef => ({ number, id: `id-${number}`, takenAt: hoursAgo === null ? null : new Date(Date.parse('2026-11-26T12:00:00Z') - hoursAgo * 3_600_000).toISOString() });
const now = new Date('2026-11-26T12:00:00Z');

const changes: SlotChanges = {
  comparedWith: ref(1, 24),
  total: 6,
  marks: [
    { name: 'new.ts', kind: 'file', change: 'added', size: 10, mtimeMs: 0, below: null },
    { name: 'app.ts', kind: 'file', change: 'changed', size: 20, mtimeMs: 0, below: null },
    { name: 'gone & "x".ts', kind: 'file', change: 'deleted', size: 2048, mtimeMs: Date.parse('2026-11-20T10:00:00Z'), below: null },
    { name: 'src', kind: 'folder', change: 'below', size: null, mtimeMs: null, below: { added: 1, changed: 2, deleted: 0 } },
    { name: 'old-dir', kind: 'folder', change: 'below', size: null, mtimeMs: null, below: { added: 0, changed: 0, deleted: 3 } },
  ],
};

test('decorations: git\'s letters and colours, the tooltip names the older slot and its time', () => {
  const since = `slot 1 (${formatLocalTime(new Date(changes.comparedWith!.takenAt!))})`;
  assert.deepEqual(decorationOf(changes.marks[0]!, changes.comparedWith!), { badge: 'A', color: 'gitDecoration.addedResourceForeground', tooltip: `added since ${since}` });
  assert.deepEqual(decorationOf(changes.marks[1]!, changes.comparedWith!), { badge: 'M', color: 'gitDecoration.modifiedResourceForeground', tooltip: `changed since ${since}` });
  assert.equal(decorationOf(changes.marks[2]!, changes.comparedWith!).badge, 'D');
  assert.equal(decorationOf(changes.marks[3]!, changes.comparedWith!).tooltip, `changes below since ${since}: 1 added, 2 changed`);
  assert.equal(decorationOf(changes.marks[0]!, ref(4)).tooltip, 'added since slot 4');
});

test('ghosts: deleted files and wholly deleted folders, opened from the older slot; listed names are never ghosts', () => {
  const listed = new Set(['new.ts', 'app.ts', 'src']);
  const ghosts = ghostViews(changes, 'lib', listed);
  assert.deepEqual(ghosts.map((g) => [g.relPath, g.contextValue, g.ghostOf, g.expandable]), [
    ['lib/gone & "x".ts', 'slotFile', 1, false],
    ['lib/old-dir', 'slotFolder', 1, true],
  ]);
  assert.equal(ghosts[0]!.label, struck('gone & "x".ts'));
  assert.match(ghosts[0]!.description, /^deleted · 2\.0 kB$/);
  assert.match(ghosts[0]!.tooltip, /slot 1 \(.*\) still has it/);
  assert.deepEqual(ghostViews(changes, '', new Set(['gone & "x".ts', 'old-dir'])), [], 'a name the slot lists (a file replaced by a folder) is not a ghost');
  assert.deepEqual(ghostViews({ ...changes, comparedWith: null }, '', new Set()), [], 'the oldest slot has nothing to compare with');
  assert.equal(struck('ab'), 'a\u0336b\u0336');
});

test('"show only changes" keeps marked rows only', () => {
  const views = ['new.ts', 'same.ts', 'src', 'docs'].map((name) => describeEntry({ name, kind: name.includes('.') ? 'file' : 'folder', size: 1, mtimeMs: 0 } as never, 'lib'));
  assert.deepEqual(onlyChanged(views, changes).map((v) => v.relPath), ['lib/new.ts', 'lib/src']);
});

const version = (slots: SlotRef[], size: number, extra: Partial<FileVersion> = {}): FileVersion => ({ slots, kind: 'file', size, mtimeMs: 0, toldApartBy: 'inode', sameContentAs: null, sameAsCurrent: false, ...extra });

test('history rows: each version once, newest first, with the deletions between them; the click compares with the next older version', () => {
  const h: FileHistory = {
    target: '/t', path: 'src/a.ts', current: null, notes: [],
    versions: [version([ref(0, 1), ref(1, 25)], 1500, { sameAsCurrent: true }), version([ref(4, 100)], 20, { sameContentAs: 0 }), version([ref(5, 125), ref(6, 150)], 10, { toldApartBy: null })],
    gaps: [{ slots: [ref(2, 50), ref(3, 75)] }, { slots: [ref(7, 175)] }],
  };
  const rows = historyRows(h, now);
  assert.deepEqual(rows.map((r) => [r.kind, r.slot, r.olderSlot]), [['version', 0, 4], ['gap', null, null], ['version', 4, 5], ['version', 5, null]]);
  assert.equal(rows[0]!.label, formatLocalTime(new Date(h.versions[0]!.slots[0]!.takenAt!)));
  assert.equal(rows[0]!.description, '1 h ago \u00b7 1.5 kB \u00b7 same as today');
  assert.match(rows[0]!.tooltip, /version 3 of 3\nIn slots 0\u20131/);
  assert.equal(rows[1]!.label, 'deleted');
  assert.equal(rows[1]!.description, 'not in slots 2\u20133');
  assert.match(rows[2]!.tooltip, /came back/);
  assert.doesNotMatch(rows[2]!.description, /same as today/);
});

test('slot runs and found rows', () => {
  assert.equal(slotRuns([0, 1, 2, 5, 7, 8]), '0\u20132, 5, 7\u20138');
  const row = foundRow({ path: 'src/old/gone.ts', kind: 'file', slots: [[3, 5]], newest: ref(3), inSource: false });
  assert.deepEqual(row, { label: '$(trash) gone.ts', description: 'src/old', detail: 'in slots 3\u20135 \u00b7 not in the workspace', path: 'src/old/gone.ts' });
  assert.equal(foundRow({ path: 'top.ts', kind: 'file', slots: [[0, 0]], newest: ref(0), inSource: true }).detail, 'in slot 0');
});
