import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listSlotDirectory } from '../../../src/platform/listing';

test('listSlotDirectory lists one level, folders first, with kind/size/mtime', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ss-listing-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'zeta', 'deep', 'deeper'), { recursive: true });
  await mkdir(join(dir, 'Alpha'));
  await writeFile(join(dir, 'b.txt'), 'hello');
  await writeFile(join(dir, 'A file with spaces & $(x).md'), '');
  await writeFile(join(dir, 'zeta', 'deep', 'inner.txt'), 'not listed');
  await symlink('/nonexistent/target', join(dir, 'dangling'));
  const when = new Date('2026-01-02T03:04:05Z');
  await utimes(join(dir, 'b.txt'), when, when);

  const entries = await listSlotDirectory(dir);
  assert.deepEqual(entries.map((e) => [e.name, e.kind]), [
    ['Alpha', 'folder'], ['zeta', 'folder'],
    ['A file with spaces & $(x).md', 'file'], ['b.txt', 'file'], ['dangling', 'symlink'],
  ]);
  const b = entries.find((e) => e.name === 'b.txt')!;
  assert.equal(b.size, 5);
  assert.equal(b.mtimeMs, when.getTime());
  assert.equal(entries.find((e) => e.name === 'zeta')!.size, 0);
  assert.equal(entries.find((e) => e.name === 'dangling')!.size, '/nonexistent/target'.length);
});

test('listSlotDirectory rejects a missing folder with ENOENT', async () => {
  await assert.rejects(listSlotDirectory('/nonexistent/shadow-slots/listing'), { code: 'ENOENT' });
});

// Its speed is measured by the benchmark (scenario 5), not here: a timed test only measures how busy the machine is.
test('listSlotDirectory lists a folder of 10,000 entries completely, folders first', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ss-listing-big-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 10_000; i++) writes.push(writeFile(join(dir, `f${String(i).padStart(5, '0')}.txt`), ''));
  for (let i = 0; i < 20; i++) writes.push(mkdir(join(dir, `d${i}`)));
  await Promise.all(writes);
  await listSlotDirectory(dir); // warm the dentry cache, as a user expanding a node twice would
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    const entries = await listSlotDirectory(dir);
    times.push(performance.now() - start);
    assert.equal(entries.length, 10_020);
    assert.equal(entries[0]!.kind, 'folder');
    assert.equal(entries[20]!.name, 'f00000.txt');
  }
  t.diagnostic(`10,020 entries: runs ${times.map((x) => x.toFixed(1)).join(', ')} ms`);
});
