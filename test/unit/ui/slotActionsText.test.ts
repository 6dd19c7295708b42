// The words and rules of the slot actions (src/ui/slots/slotActionsText.ts, restoreDestination.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deleteConfirmation, repairOffer, repairedText } from '../../../src/ui/slots/slotActionsText';
import { folderNameProblem, newFolderName, restoreRefusal } from '../../../src/ui/slots/restoreDestination';
import type { RepairResult, SlotSummary } from '../../../src/rpc/protocol';
import type { SlotManifest } from '../../../src/core/manifest';

const manifest = (endedAt: string, label?: string) => ({ startedAt: endedAt, endedAt, ...(label ? { label } : {}) }) as unknown as SlotManifest;
const slot = (number: number, id: string, endedAt: string, extra: Partial<SlotSummary> = {}): SlotSummary => ({ number, id, state: 'complete', path: `/r/${number}`, manifest: manifest(endedAt), ...extra });

test('the delete confirmation names the backup by its time and label and says what is lost and what stays', () => {
  const s = slot(1, 'b', '2026-11-26T07:12:00Z', { manifest: manifest('2026-11-26T07:12:00Z', 'before the refactoring'), space: { id: 'b', exclusiveBytes: 12_300_000, sharedBytes: 0, method: 'links' } as SlotSummary['space'] });
  const c = deleteConfirmation(s, 3);
  assert.match(c.message, /^Delete the backup of .*\(slot 1\) \("before the refactoring"\)\?$/);
  assert.match(c.detail, /for good; it cannot be undone\. It frees about 12\.3 MB: the files no other backup holds\. The older backups move up one place; each keeps its time and label\. Files it shares with other backups stay in them\./);
  assert.equal(c.button, 'Delete Backup');
  const newest = deleteConfirmation(slot(0, 'a', '2026-11-27T07:12:00Z'), 3).detail;
  assert.match(newest, /It is the newest backup: the next one is built on the backup before it/);
  assert.doesNotMatch(deleteConfirmation(slot(2, 'c', '2026-11-25T07:12:00Z'), 3).detail, /move up/, 'the oldest has nothing after it');
  const shared = deleteConfirmation(slot(2, 'c', '2026-11-25T07:12:00Z', { space: { id: 'c', exclusiveBytes: 0, sharedBytes: 5, method: 'links' } as SlotSummary['space'] }), 3).detail;
  assert.match(shared, /It frees no space: every file it holds is also in another backup\./);
});

test('the repair offer: in place from the source for a hard-linked slot (naming the slots that share the file); delete for a read-only snapshot; nothing when no good copy exists', () => {
  const slots = [slot(0, 'a', '2026-11-27T07:12:00Z'), slot(1, 'b', '2026-11-26T07:12:00Z')];
  const base: RepairResult = { slot: 0, id: 'a', readOnly: false, repaired: 1, note: null, files: [{ path: 'a.txt', damage: 'changed', from: { kind: 'source', path: '/p/a.txt' }, sharedWith: [1], outcome: 'planned', note: null }] };
  const offer = repairOffer(base, slots);
  assert.equal(offer.repair, 'Repair 1 File');
  assert.match(offer.text, /^It can be repaired from the source, whose checksum still matches\. A repair in place also repairs the backup of .*\(slot 1\) holding the same file\.$/);
  const ro = repairOffer({ ...base, readOnly: true, files: [{ ...base.files[0]!, outcome: 'read-only', from: { kind: 'slot', number: 1, id: 'b' } }] }, slots);
  assert.equal(ro.repair, undefined);
  assert.equal(ro.delete, 'Delete Backup…');
  assert.match(ro.text, /read-only copy-on-write snapshot.*A good copy of "a\.txt" is in the backup of .*\(slot 1\)/);
  const none = repairOffer({ ...base, files: [{ ...base.files[0]!, from: null, outcome: 'no-good-copy' }] }, slots);
  assert.deepEqual(Object.keys(none), ['text']);
  assert.match(repairedText({ ...base, files: [{ ...base.files[0]!, outcome: 'repaired' }] }, 'x', true, slots), /^Repaired "a\.txt" from the source\. The same file is repaired in the backup of .*\(slot 1\) \(hard links\)\. The backup of x is intact again\.$/);
});

test('a whole slot is never restored into the folder being backed up or into the ring; a new folder name is offered and checked', () => {
  assert.match(restoreRefusal('/home/me/proj/old', '/home/me/proj', '/mnt/usb/ring')!, /inside the folder being backed up/);
  assert.match(restoreRefusal('/home/me/proj', '/home/me/proj', undefined)!, /inside the folder being backed up/);
  assert.match(restoreRefusal('/mnt/usb/ring/x', '/home/me/proj', '/mnt/usb/ring')!, /inside the backup target/);
  assert.equal(restoreRefusal('/home/me/proj-restored', '/home/me/proj', '/mnt/usb/ring'), undefined, 'a sibling whose name only starts the same is fine');
  const when = new Date(2026, 10, 26, 7, 5);
  assert.equal(newFolderName('/home/me/proj', when, new Set()), 'proj 2026-11-26 0705');
  assert.equal(newFolderName('/home/me/proj', when, new Set(['proj 2026-11-26 0705', 'proj 2026-11-26 0705 (2)'])), 'proj 2026-11-26 0705 (3)');
  assert.equal(folderNameProblem('ok name', new Set()), undefined);
  for (const bad of ['', ' x', '..', 'a/b', 'a\\b', 'a\nb']) assert.ok(folderNameProblem(bad, new Set()), JSON.stringify(bad));
  assert.match(folderNameProblem('taken', new Set(['taken']))!, /already exists/);
});
