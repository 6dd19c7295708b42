import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSlotUri, slotUriParts } from '../../../src/ui/slots/slotUri';
import { restoreConfirmation } from '../../../src/ui/slots/restoreText';

test('slot URIs round-trip targets and paths with hostile characters', () => {
  for (const ref of [
    { target: '/mnt/backup/proj', slot: 0, relPath: 'src/app.ts' },
    { target: '/mnt/b a&c?d=e#f%20/ünï', slot: 15, relPath: 'dir with space/$(x);\'"`.txt' },
    { target: 'D:\\Backups\\proj', slot: 3, relPath: '' },
  ]) {
    const parts = slotUriParts(ref);
    assert.equal(parts.scheme, 'shadow-slots');
    assert.ok(parts.path.startsWith(`/${ref.slot}`));
    assert.deepEqual(parseSlotUri(parts.path, parts.query), ref);
  }
});

test('titled slot URIs put the slot into the file name before the extension and round-trip exactly', () => {
  const cases: Array<[string, string]> = [
    ['src/app.ts', '/2/src/app (slot 2).ts'],
    ['archive.tar.gz', '/2/archive.tar (slot 2).gz'],
    ['.gitignore', '/2/.gitignore (slot 2)'],
    ['Makefile', '/2/Makefile (slot 2)'],
    ['x (slot 2).txt', '/2/x (slot 2) (slot 2).txt'],
    ['(slot 2)', '/2/(slot 2) (slot 2)'],
    ['d/a.b c', '/2/d/a (slot 2).b c'],
    ['ünï $(x);&.md', '/2/ünï $(x);& (slot 2).md'],
  ];
  for (const [relPath, expected] of cases) {
    const ref = { target: '/t', slot: 2, relPath };
    const parts = slotUriParts(ref, true);
    assert.equal(parts.path, expected);
    assert.deepEqual(parseSlotUri(parts.path, parts.query), ref, relPath);
    // The same name without the titled flag is taken literally.
    const plain = slotUriParts({ ...ref, relPath: 'x (slot 2).txt' });
    assert.equal(parseSlotUri(plain.path, plain.query).relPath, 'x (slot 2).txt');
  }
  assert.equal(slotUriParts({ target: '/t', slot: 0, relPath: '' }, true).path, '/0', 'a slot root has no name to title');
});

test('slot URIs that could leave the slot or lack a slot number are rejected', () => {
  const q = new URLSearchParams({ target: '/t' }).toString();
  assert.throws(() => parseSlotUri('/0/../1/x', q), /Invalid path/);
  assert.throws(() => parseSlotUri('/0/a/./b', q), /Invalid path/);
  assert.throws(() => parseSlotUri('/0/a\\..\\b', q), /Invalid path/);
  assert.throws(() => parseSlotUri('/x/a', q), /no slot number/);
  assert.throws(() => parseSlotUri('/01/a', q), /no slot number/);
  assert.throws(() => parseSlotUri('/0/a', ''), /no target/);
});

test('the restore confirmation names what is overwritten and promises the keep-aside', () => {
  const file = restoreConfirmation({ relPath: 'src/a.ts', kind: 'file', slotTitle: 'slot 2 \u00b7 2026-11-24 23:30', destination: '/w/src/a.ts', destinationExists: true });
  assert.equal(file.message, 'Restore the file "src/a.ts" from slot 2 \u00b7 2026-11-24 23:30?');
  assert.match(file.detail, /overwrites \/w\/src\/a\.ts/);
  assert.match(file.detail, /kept aside/);
  assert.equal(file.button, 'Overwrite and Restore');
  const folder = restoreConfirmation({ relPath: 'src', kind: 'folder', slotTitle: 'slot 0', destination: '/w/src', destinationExists: true });
  assert.match(folder.detail, /replaces the folder \/w\/src/);
  assert.match(folder.detail, /files added since are moved away/);
  const fresh = restoreConfirmation({ relPath: 'gone.txt', kind: 'file', slotTitle: 'slot 0', destination: '/w/gone.txt', destinationExists: false });
  assert.match(fresh.detail, /creates \/w\/gone\.txt; nothing is overwritten/);
  assert.equal(fresh.button, 'Restore');
});
