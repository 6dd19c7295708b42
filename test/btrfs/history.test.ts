// File history, change marks and find on a copy-on-write ring on a real btrfs file system (loop
// device). Unchanged files keep their inode numbers across btrfs snapshots and changed ones are
// rewritten in place, so versions must be told apart by the checksums each slot records, never by
// inode (issue 17).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { btrfsLoop, btrfsUnavailable } from '../helpers/btrfsLoop';
import { sixDays } from '../helpers/cowScenario';
import { tempDir } from '../helpers/tmp';
import { runCli } from '../helpers/cli';
import type { FileHistory, FindResult } from '../../src/core/slotHistory';

const skip = btrfsUnavailable() ?? false;

test('a btrfs ring: each day\'s version of a file once, told apart by checksum; an unchanged file is one version; a deleted file is found and has its history', { skip }, async (t) => {
  const mnt = await btrfsLoop(t);
  const target = join(mnt, 'ring');
  await mkdir(target);
  const source = join(await tempDir(t), 'project');
  await mkdir(join(source, 'src'), { recursive: true });
  await sixDays(source, () => runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--slots', '4', '--json']));
  const history = async (path: string): Promise<FileHistory> => {
    const r = await runCli(['history', '--target', target, '--path', path, '--json'], { SHADOW_SLOTS_CACHE_DIR: join(mnt, 'cache') });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as FileHistory;
  };
  // Days 3 to 6 are in slots 3 to 0, a new notes.txt each day (rewritten in place: same inode).
  const notes = await history('notes.txt');
  assert.deepEqual(notes.versions.map((v) => v.slots.map((s) => s.number)), [[0], [1], [2], [3]]);
  assert.deepEqual(notes.versions.map((v) => v.toldApartBy), ['checksum', 'checksum', 'checksum', null]);
  assert.deepEqual(notes.versions.map((v) => v.sameAsCurrent), [true, false, false, false]);
  const keep = await history('src/keep.txt');
  assert.deepEqual(keep.versions.map((v) => v.slots.map((s) => s.number)), [[0, 1, 2, 3]]);
  const gone = await history('src/only-day-3.txt');
  assert.deepEqual(gone.versions.map((v) => v.slots.map((s) => s.number)), [[3]]);
  assert.deepEqual(gone.gaps.map((g) => g.slots.map((s) => s.number)), [[0, 1, 2]]);
  const found = await runCli(['find', '--target', target, 'only day', '--json'], { SHADOW_SLOTS_CACHE_DIR: join(mnt, 'cache') });
  assert.equal(found.code, 0, found.stderr);
  const f = JSON.parse(found.stdout) as FindResult;
  assert.deepEqual(f.results.map((r) => [r.path, r.slots, r.inSource]), [['src/only-day-3.txt', [[3, 3]], false]]);
});
