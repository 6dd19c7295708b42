// The received slot's checksum list merged from the previous list and the change log, against the
// walk-based writer (the oracle: every file hashed), on a folder changed in place the way a
// received snapshot is (untouched files keep their inode). Real btrfs streams: test/btrfs/sendSums.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, link, mkdir, readFile, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSumsFromSend } from '../../../src/platform/sendSums';
import { writeSlotSums } from '../../../src/platform/treeSums';
import { UntrustedChangesError, type SendChangeSet } from '../../../src/core/sendSums';
import { SUMS_HEADER } from '../../../src/core/sums';
import { comparePaths } from '../../../src/platform/treeWalk';
import { run } from '../../../src/platform/runner';
import { tempDir } from '../../helpers/tmp';

const HOSTILE = 'sp ace $(x) `y`; & "q" \\ ü\n%.txt';

async function put(root: string, files: Record<string, string>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), content);
  }
}

/** A slot with its checksum list written by the walk, as the previous slot's. */
async function previousSlot(t: TestContext): Promise<{ dir: string; slot: string; previous: string }> {
  const dir = await tempDir(t);
  const slot = join(dir, 'slot');
  await put(slot, {
    'd/a': 'aaaa', 'same': 'XXXX', 'gone.txt': 'g', 'olddir/x': 'x', 'olddir/sub/y': 'y', 'mv/keep': 'k', 'mv/deep/k2': 'k2',
    't1': 'file to folder', 't2/in': 'folder to file', 't3': 'file to link', 'touched': 'only its time', 'h1': 'linked', 'fifo': 'soon a fifo',
    'a.b': '1', 'a0/z': '2', [`${HOSTILE}-old`]: 'hostile, unchanged', 'zz/untouched': 'u',
  });
  await link(join(slot, 'h1'), join(slot, 'a0', 'h2'));
  await symlink('d/a', join(slot, 'link'));
  const previous = join(dir, 'previous.tsv');
  await writeSlotSums(slot, previous, null);
  return { dir, slot, previous };
}

/** Every kind of change a send stream can make, applied in place; returns what its change log says. */
async function change(slot: string): Promise<{ changes: SendChangeSet; retimed: string[] }> {
  await appendFile(join(slot, 'd', 'a'), ' appended');
  await writeFile(join(slot, 'same'), 'YYYY');
  await rm(join(slot, 'gone.txt'));
  await rm(join(slot, 'olddir'), { recursive: true });
  await rename(join(slot, 'mv'), join(slot, 'moved'));
  await put(slot, { 'new dir/inner': 'n', 'new dir/deeper/more': 'm', [HOSTILE]: 'hostile, new' });
  await rm(join(slot, 't1'));
  await put(slot, { 't1/now-inside': 'i' });
  await rm(join(slot, 't2'), { recursive: true });
  await writeFile(join(slot, 't2'), 'now a file');
  await rm(join(slot, 't3'));
  await symlink('same', join(slot, 't3'));
  await utimes(join(slot, 'touched'), new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
  await appendFile(join(slot, 'h1'), ' and changed under both names');
  await rm(join(slot, 'fifo'));
  await run('mkfifo', [join(slot, 'fifo')]);
  return {
    changes: {
      gone: new Set(['gone.txt', 'olddir', 'olddir/x', 'olddir/sub/y', 'mv', 't1', 't2', 't2/in']),
      made: new Set(['d/a', 'same', 'moved', 'new dir', 'new dir/inner', 'new dir/deeper/more', HOSTILE, 't1', 't1/now-inside', 't2', 't3', 'h1', 'fifo']),
    },
    retimed: ['d', 'touched'],
  };
}

test('the merged list is the walk\'s, byte for byte: appends, same-size rewrites, deletes, moved and made folders, type changes, hard links, times, hostile names', async (t) => {
  const { dir, slot, previous } = await previousSlot(t);
  const { changes, retimed } = await change(slot);
  const merged = join(dir, 'merged.tsv');
  const counts = await writeSumsFromSend({ slotRoot: slot, previousSums: previous, changes, retimed, outFile: merged });
  const walked = join(dir, 'walked.tsv');
  const all = await writeSlotSums(slot, walked, null);
  assert.equal(await readFile(merged, 'utf8'), await readFile(walked, 'utf8'));
  // Hashed: the 9 files and links the log names (not the fifo), the moved folder's 2 and the
  // hard link's other name; carried: the 5 the log does not name; `touched` is stat'ed, not read.
  assert.deepEqual({ hashed: counts.hashed, carried: counts.carried, restated: counts.restated }, { hashed: 12, carried: 5, restated: 1 });
  assert.equal(counts.hashed + counts.carried + counts.restated, all.files);
  const sizes = (await readFile(walked, 'utf8')).split('\n').slice(1, -1).filter((l) => !l.startsWith('link:')).map((l) => Number(l.split('\t')[1]));
  assert.deepEqual({ files: counts.files, totalSize: counts.totalSize }, { files: sizes.length, totalSize: sizes.reduce((a, b) => a + b, 0) });
});

test('what the change log does not name is carried over, not read again: the merge never walks the slot', async (t) => {
  const { dir, slot, previous } = await previousSlot(t);
  // Changed behind the log's back (in a real received slot nothing changes without the stream).
  await writeFile(join(slot, 'zz', 'untouched'), 'U');
  const merged = join(dir, 'merged.tsv');
  const counts = await writeSumsFromSend({ slotRoot: slot, previousSums: previous, changes: { gone: new Set(), made: new Set() }, retimed: [], outFile: merged });
  assert.equal(counts.hashed, 0);
  assert.equal(await readFile(merged, 'utf8'), await readFile(previous, 'utf8'));
});

test('inputs that contradict each other or the slot are refused, so finalize walks instead', async (t) => {
  const { dir, slot, previous } = await previousSlot(t);
  const out = join(dir, 'out.tsv');
  const none = { gone: new Set<string>(), made: new Set<string>() };
  const refused = async (what: string, options: Partial<Parameters<typeof writeSumsFromSend>[0]>, message: RegExp): Promise<void> => {
    await assert.rejects(writeSumsFromSend({ slotRoot: slot, previousSums: previous, changes: none, retimed: [], outFile: out, ...options }), (error: unknown) => {
      assert.ok(error instanceof UntrustedChangesError, `${what}: ${String(error)}`);
      assert.match((error as Error).message, message, what);
      return true;
    });
  };
  await refused('a made path the slot lacks', { changes: { gone: new Set(), made: new Set(['not there']) } }, /names "not there", which the received slot does not have/);
  await refused('a gone path the slot has', { changes: { gone: new Set(['same']), made: new Set() } }, /says "same" is gone, but the received slot has it/);
  await refused('a retimed path the slot lacks', { retimed: ['nowhere'] }, /does not have/);
  await rm(join(slot, 't1'));
  await mkdir(join(slot, 't1'));
  await refused('a file that became a folder, logged as retimed only', { retimed: ['t1'] }, /"t1" is a folder now/);

  await refused('no previous list (it would read as empty)', { previousSums: join(dir, 'missing.tsv') }, /previous checksum list is missing/);
  const lines = (await readFile(previous, 'utf8')).split('\n').filter(Boolean);
  const variant = async (name: string, text: string): Promise<string> => { const f = join(dir, name); await writeFile(f, text); return f; };
  const body = lines.slice(1);
  await refused('a format-1 list', { previousSums: await variant('format1.tsv', [...body].sort((a, b) => comparePaths(JSON.parse(a.split('\t')[4]!) as string, JSON.parse(b.split('\t')[4]!) as string)).join('\n') + '\n') }, /format 1/);
  await refused('a damaged line', { previousSums: await variant('damaged.tsv', [SUMS_HEADER, body[0], 'garbage', ...body.slice(1)].join('\n') + '\n') }, /damaged line/);
  await refused('a list out of order', { previousSums: await variant('unordered.tsv', [SUMS_HEADER, ...[...body].reverse()].join('\n') + '\n') }, /not in rsync's order/);
});

test('a file changed under a name inside a moved folder is hashed again under its other names outside it', async (t) => {
  const dir = await tempDir(t);
  const slot = join(dir, 'slot');
  await put(slot, { 'outside': 'shared content', 'mv/other': 'o', 'z': 'z' });
  await link(join(slot, 'outside'), join(slot, 'mv', 'inside'));
  const previous = join(dir, 'previous.tsv');
  await writeSlotSums(slot, previous, null);
  await rename(join(slot, 'mv'), join(slot, 'moved'));
  await appendFile(join(slot, 'moved', 'inside'), ' changed');
  const merged = join(dir, 'merged.tsv');
  await writeSumsFromSend({ slotRoot: slot, previousSums: previous, changes: { gone: new Set(['mv', 'mv/inside']), made: new Set(['moved', 'moved/inside']) }, retimed: [], outFile: merged });
  const walked = join(dir, 'walked.tsv');
  await writeSlotSums(slot, walked, null);
  assert.equal(await readFile(merged, 'utf8'), await readFile(walked, 'utf8'));
});
