// Pure parts of the slot and target actions: where the target picker opens, what Verify says,
// how a folder differs from its copy in a slot, how long review lines are wrapped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pickerStart } from '../../../src/ui/backup/targetLocation';
import { verifyReport } from '../../../src/ui/slots/verifyText';
import { diffFolders } from '../../../src/ui/slots/folderDiff';
import { comparePickItem, slotPickItems } from '../../../src/ui/slots/pickItems';

test('the target picker never opens inside the folder being backed up', () => {
  const base = { workspace: '/home/me/proj', current: undefined, last: undefined, mediaRoots: [], home: '/home/me' };
  assert.equal(pickerStart(base), '/home/me');
  assert.equal(pickerStart({ ...base, current: '/mnt/usb/rings/proj' }), '/mnt/usb/rings', 'beside the current ring');
  assert.equal(pickerStart({ ...base, last: '/mnt/usb/rings/other' }), '/mnt/usb/rings', 'beside the last ring of any folder');
  assert.equal(pickerStart({ ...base, mediaRoots: ['/media/me'] }), '/media/me', 'removable media before home');
  assert.equal(pickerStart({ ...base, workspace: '/home/me' }), '/home', 'home is the workspace: its parent');
  assert.equal(pickerStart({ ...base, current: '/home/me/proj/backups' }), '/home/me', 'a current target inside the workspace is not where to start');
});

test('Verify names damaged files (the first few, then "and N more") and explains hard links; a clean slot says so', () => {
  const base = { slot: 0, checked: 40, extra: [] as string[], ok: false, verified: true, note: null };
  const damaged = verifyReport({ ...base, changed: ['a.txt', 'b c.txt', 'd/e.md', 'f', 'g'], missing: ['h'] }, '2026-11-26 07:12 (slot 0)');
  assert.equal(damaged.severity, 'error');
  assert.equal(damaged.message, 'The backup of 2026-11-26 07:12 (slot 0) is damaged: 6 files (5 changed, 1 missing): "a.txt", "b c.txt", "d/e.md" and 3 more. Backups share every file that did not change between them (hard links), so the same damage shows in every backup that holds this version of the file.');
  assert.match(damaged.log!, /changed \(5\):\n {2}a\.txt/);
  const clean = verifyReport({ ...base, ok: true, changed: [], missing: [] }, 'x (slot 1)');
  assert.equal(clean.message, 'The backup of x (slot 1) is intact: 40 files match the checksums recorded when it was made.');
  const one = verifyReport({ ...base, changed: ['only.txt'], missing: [] }, 'y');
  assert.match(one.message, /damaged: 1 file \(1 changed\): "only\.txt"\. /);
  assert.equal(verifyReport({ ...base, verified: false, changed: [], missing: [], note: 'no checksums were recorded' }, 'z').severity, 'warning');
});

test('a folder against its copy in a slot: changed, only in the slot, new (unless the backup excludes it)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ss-folder-diff-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const slot = join(dir, 'slot');
  const work = join(dir, 'work');
  for (const root of [slot, work]) {
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'same.txt'), 'same');
    await utimes(join(root, 'same.txt'), 1_700_000_000, 1_700_000_000);
  }
  await writeFile(join(slot, 'sub', 'changed.ts'), 'v1');
  await writeFile(join(work, 'sub', 'changed.ts'), 'version 2');
  await writeFile(join(slot, 'gone.md'), 'bye');
  await mkdir(join(slot, 'old dir'));
  await writeFile(join(slot, 'old dir', 'x'), 'x');
  await writeFile(join(work, 'new.txt'), 'new');
  await mkdir(join(work, 'node_modules', 'm'), { recursive: true });
  await writeFile(join(work, 'node_modules', 'm', 'i.js'), 'm');
  const diff = await diffFolders(slot, work, { excluded: (rel) => rel === 'node_modules' });
  assert.deepEqual(diff, { changed: ['sub/changed.ts'], onlyInSlot: ['gone.md', 'old dir/x'], onlyInWorkspace: ['new.txt'], truncated: false });
  const cut = await diffFolders(slot, work, { limit: 2 });
  assert.equal(cut.truncated, true);
  assert.equal(cut.changed.length + cut.onlyInSlot.length + cut.onlyInWorkspace.length, 2);
});

test('pickers name slots by when they were taken; Compare with Slot… labels the file\'s own time as such', () => {
  const at = (iso: string) => ({ format: 1 as const, id: `id-${iso}`, state: 'complete' as const, profile: 'p', source: '/w', startedAt: iso, endedAt: iso, snapshot: { method: 'none' as const, id: null, warning: null }, rsync: { argv: [], exitCode: 0, version: null }, counts: null, warnings: [], changeLog: null, checksums: null, adopted: false, linkDest: null });
  const slot = (n: number, iso: string) => ({ number: n, id: `id-${n}`, state: 'complete' as const, path: `/t/${n}`, manifest: at(iso) });
  const now = Date.parse('2026-11-26T12:00:00Z');
  const local = (iso: string) => { const d = new Date(iso); const p = (x: number) => String(x).padStart(2, '0'); return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`; };
  const [first] = slotPickItems([slot(1, '2026-11-26T09:00:00Z')], now);
  assert.equal(first!.label, `$(archive) ${local('2026-11-26T09:00:00Z')}`);
  assert.equal(first!.description, 'slot 1 · 3 h ago');
  const entry = comparePickItem({ summary: slot(0, '2026-11-26T11:00:00Z'), slot: 0, size: 1234, mtimeMs: Date.parse('2026-11-20T08:00:00Z'), alsoIn: [slot(1, '2026-11-25T23:30:00Z')] }, now);
  assert.equal(entry.label, `$(archive) Backup of ${local('2026-11-26T11:00:00Z')}`);
  assert.equal(entry.description, 'slot 0 · 1 h ago');
  assert.equal(entry.detail, `file modified ${local('2026-11-20T08:00:00Z')} · 1.2 kB · same version in 1 older backup: ${local('2026-11-25T23:30:00Z')}`);
});
