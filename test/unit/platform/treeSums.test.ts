import { test } from 'node:test';
import assert from 'node:assert/strict';
import { link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { comparePaths, walkTree } from '../../../src/platform/treeWalk';
import { hashSlotEntry, readLineBatches, readSums, sortSumsToRsyncOrder, sumsOrderOf, writeSlotSums } from '../../../src/platform/treeSums';
import { compareRsyncOrder } from '../../../src/core/rsyncOrder';
import { formatSumLine, SUMS_HEADER } from '../../../src/core/sums';
import { readdir, readFile } from 'node:fs/promises';
import { ShadowSlotsError } from '../../../src/core/errors';
import { tempDir } from '../../helpers/tmp';

async function tree(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), content);
  }
}

async function walked(root: string, order?: 'rsync' | 'walk'): Promise<string[]> {
  const paths: string[] = [];
  for await (const entry of walkTree(root, undefined, order)) paths.push(entry.path);
  return paths;
}

test('walkTree visits a folder\'s files before its folders, in the order rsync lists them (compareRsyncOrder)', async (t) => {
  const root = await tempDir(t);
  await tree(root, { 'a/x': '1', 'a-c': '2', 'a/b/deep.txt': '3', 'B': '4', 'é.txt': '5', 'z z & $(q).md': '6', 'empty/.keep': '', 'a.b/y': '7', 'a0/z': '8' });
  await mkdir(join(root, 'only-a-folder'));
  await symlink('/nonexistent', join(root, 'link'));
  const paths = await walked(root);
  assert.deepEqual(paths, ['B', 'a-c', 'link', 'z z & $(q).md', 'é.txt', 'a.b/y', 'a/x', 'a/b/deep.txt', 'a0/z', 'empty/.keep']);
  assert.deepEqual([...paths].sort(compareRsyncOrder), paths);
});

test('walkTree in the walk order of format-1 checksum lists: folders at their name\'s place (comparePaths)', async (t) => {
  const root = await tempDir(t);
  await tree(root, { 'a/x': '1', 'a-c': '2', 'a/b/deep.txt': '3', 'B': '4', 'é.txt': '5', 'z z & $(q).md': '6', 'empty/.keep': '' });
  await mkdir(join(root, 'only-a-folder'));
  await symlink('/nonexistent', join(root, 'link'));
  const paths = await walked(root, 'walk');
  assert.deepEqual(paths, ['B', 'a/b/deep.txt', 'a/x', 'a-c', 'empty/.keep', 'link', 'z z & $(q).md', 'é.txt']);
  assert.deepEqual([...paths].sort(comparePaths), paths);
});

test('walkTree reports kind, size, inode and link count without following symlinks', async (t) => {
  const root = await tempDir(t);
  await tree(root, { 'f.txt': 'hello' });
  await link(join(root, 'f.txt'), join(root, 'g.txt'));
  await symlink('f.txt', join(root, 's'));
  const entries = [];
  for await (const entry of walkTree(root)) entries.push(entry);
  const [f, g, s] = entries;
  assert.deepEqual([f!.kind, f!.size, f!.nlink], ['file', 5, 2]);
  assert.equal(g!.ino, f!.ino);
  assert.deepEqual([s!.kind, s!.size], ['symlink', 'f.txt'.length]);
});

test('a cancelled walk throws instead of ending early, so a cut-short walk is never taken for the slot', async (t) => {
  const root = await tempDir(t);
  await tree(root, { 'a': '1', 'b': '2' });
  const controller = new AbortController();
  const seen: string[] = [];
  await assert.rejects(async () => {
    for await (const entry of walkTree(root, controller.signal)) {
      seen.push(entry.path);
      controller.abort();
    }
  }, (error: unknown) => error instanceof ShadowSlotsError && error.code === 'cancelled');
  assert.deepEqual(seen, ['a']);
});

test('writeSlotSums reuses the hashes of hard-linked files and names the previous slot\'s files that are gone', async (t) => {
  const dir = await tempDir(t);
  const older = join(dir, 'older');
  const newer = join(dir, 'newer');
  await tree(older, { 'keep.txt': 'k', 'gone.txt': 'g', 'dir/gone-too.txt': 'd', 'dir/kept.txt': 'kk', 'changed.txt': 'v1', 'z-last-gone': 'l' });
  const first = await writeSlotSums(older, join(dir, 'older.tsv'), null);
  assert.deepEqual(first, { files: 6, hashed: 6 });

  await mkdir(join(newer, 'dir'), { recursive: true });
  await link(join(older, 'keep.txt'), join(newer, 'keep.txt'));
  await link(join(older, 'dir/kept.txt'), join(newer, 'dir/kept.txt'));
  // changed.txt: same name, new inode (rsync wrote a new file), so its hash must not be reused.
  await tree(newer, { 'changed.txt': 'v2', 'added.txt': 'a' });
  await writeFile(join(newer, 'gone.txt.new'), 'x');
  const gone: string[] = [];
  const second = await writeSlotSums(newer, join(dir, 'newer.tsv'), join(dir, 'older.tsv'), undefined, (path) => { gone.push(path); return undefined; });
  assert.deepEqual(second, { files: 5, hashed: 3 });
  assert.deepEqual(gone, ['gone.txt', 'z-last-gone', 'dir/gone-too.txt']);

  const sums = new Map<string, string>();
  for await (const line of readSums(join(dir, 'newer.tsv'))) sums.set(line.path, line.hash);
  const oldSums = new Map<string, string>();
  for await (const line of readSums(join(dir, 'older.tsv'))) oldSums.set(line.path, line.hash);
  assert.equal(sums.get('keep.txt'), oldSums.get('keep.txt'));
  assert.notEqual(sums.get('changed.txt'), oldSums.get('changed.txt'));
  assert.deepEqual([...sums.keys()], ['added.txt', 'changed.txt', 'gone.txt.new', 'keep.txt', 'dir/kept.txt']);
  assert.equal(await sumsOrderOf(join(dir, 'newer.tsv')), 'rsync');
  assert.equal((await readFile(join(dir, 'newer.tsv'), 'utf8')).split('\n')[0], SUMS_HEADER);
});

test('sums of a tree larger than one read chunk come back whole, multibyte names across chunk edges included', async (t) => {
  const dir = await tempDir(t);
  const root = join(dir, 'slot');
  const files: Record<string, string> = {};
  // ~3,000 lines of ~130 bytes: more than one 256 KB read, with 2- and 3-byte characters in the names.
  for (let i = 0; i < 3000; i++) files[`Résumé-${i % 7}/写真-${String(i).padStart(5, '0')}-ünïcødé.txt`] = `content ${i}`;
  await tree(root, files);
  const result = await writeSlotSums(root, join(dir, 'sums.tsv'), null);
  assert.equal(result.files, 3000);
  let batches = 0;
  for await (const lines of readLineBatches(join(dir, 'sums.tsv'))) if (lines.length > 0) batches++;
  assert.ok(batches >= 2, `${batches} batches`);
  const walked: string[] = [];
  for await (const entry of walkTree(root)) walked.push(entry.path);
  const read: string[] = [];
  for await (const line of readSums(join(dir, 'sums.tsv'))) read.push(line.path);
  assert.deepEqual(read, walked);
});

test('a format-1 list (walk order, no header) is still read, and sorted into rsync\'s order for a merge', async (t) => {
  const dir = await tempDir(t);
  const paths = ['B', 'a/b/deep.txt', 'a/x', 'a-c', 'empty/.keep', 'link', 'z z & $(q).md', 'é.txt'];
  assert.deepEqual([...paths].sort(comparePaths), paths, 'walk order');
  // Enough lines for several sorted runs on disk (20,000 per run).
  const many = Array.from({ length: 45_000 }, (_, i) => `d${i % 97}/f${i}`).sort(comparePaths);
  const lines = [...paths, ...many].sort(comparePaths).map((p, i) => formatSumLine({ hash: `h${i}`, size: i, mtimeMs: 1, ino: i, path: p })).join('');
  await writeFile(join(dir, 'v1.tsv'), lines);
  assert.equal(await sumsOrderOf(join(dir, 'v1.tsv')), 'walk');
  const read: string[] = [];
  for await (const line of readSums(join(dir, 'v1.tsv'))) read.push(line.path);
  assert.equal(read.length, paths.length + many.length);
  await sortSumsToRsyncOrder(join(dir, 'v1.tsv'), join(dir, 'v2.tsv'));
  assert.equal(await sumsOrderOf(join(dir, 'v2.tsv')), 'rsync');
  const sorted: string[] = [];
  const byPath = new Map<string, string>();
  for await (const line of readSums(join(dir, 'v1.tsv'))) byPath.set(line.path, line.hash);
  for await (const line of readSums(join(dir, 'v2.tsv'))) {
    sorted.push(line.path);
    assert.equal(line.hash, byPath.get(line.path));
  }
  assert.deepEqual(sorted, [...read].sort(compareRsyncOrder));
  assert.deepEqual((await readdir(dir)).sort(), ['v1.tsv', 'v2.tsv'], 'no sorted runs left behind');
});

test('hashSlotEntry reports what a checksum line records, and null for an entry that is gone or of another kind', async (t) => {
  const root = await tempDir(t);
  await tree(root, { 'f.txt': 'hello' });
  await symlink('f.txt', join(root, 's'));
  const f = await hashSlotEntry(root, 'f.txt', 'file');
  assert.equal(f?.hash, '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  assert.equal(f?.size, 5);
  const s = await hashSlotEntry(root, 's', 'symlink');
  assert.match(s!.hash, /^link:[0-9a-f]{64}$/);
  assert.equal(await hashSlotEntry(root, 'missing', 'file'), null);
  assert.equal(await hashSlotEntry(root, 's', 'file'), null, 'a symlink is not opened as a file');
  assert.equal(await hashSlotEntry(root, 'f.txt', 'symlink'), null);
  assert.equal(await hashSlotEntry(root, 'f.txt/x', 'file'), null);
});
