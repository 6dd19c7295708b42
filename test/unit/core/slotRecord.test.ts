import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareNamesInFolder, compareRsyncOrder } from '../../../src/core/rsyncOrder';
import { parseItemizedLine, parseListedLine, type ListedEntry } from '../../../src/core/rsyncOutput';
import { ListOrderError, recordSlot, type HashedEntry, type SlotRecordInput } from '../../../src/core/slotRecord';
import { formatSumLine, sumEntryOf, type SumEntry } from '../../../src/core/sums';

test('rsync order: non-folders before folders, folder names compared with their slash, UTF-8 byte order', () => {
  // As real rsync 3.5 lists a root holding these (see the integration test for the live check).
  const listed = ['a0', 'back\\slash', 'file1', 'lnk', 'new\nline', 'zz', 'é', '\u{1F600}', 'a-c/j', 'a.b/i', 'a/f', 'a/x/g', 'b/h', 'z/_'];
  assert.deepEqual([...listed].sort(compareRsyncOrder), listed);
  for (let i = 0; i + 1 < listed.length; i++) {
    assert.ok(compareRsyncOrder(listed[i]!, listed[i + 1]!) < 0, `${listed[i]} < ${listed[i + 1]}`);
    assert.ok(compareRsyncOrder(listed[i + 1]!, listed[i]!) > 0);
  }
  assert.equal(compareRsyncOrder('a/b', 'a/b'), 0);
  // A file and a folder of the same name (a type change between two slots): the file first.
  assert.ok(compareRsyncOrder('x', 'x/y') < 0);
  assert.ok(compareRsyncOrder('x/y', 'xa') > 0, 'the file xa before anything in folder x');
  // UTF-16 puts U+FF61 after U+1F600's surrogates, UTF-8 (and rsync) before.
  assert.ok('\uff61' > '\u{1F600}');
  assert.ok(compareRsyncOrder('\uff61', '\u{1F600}') < 0);
  assert.ok(compareNamesInFolder({ name: 'z', folder: false }, { name: 'a', folder: true }) < 0);
  assert.ok(compareNamesInFolder({ name: 'a.b', folder: true }, { name: 'a', folder: true }) < 0);
  assert.ok(compareNamesInFolder({ name: 'a', folder: true }, { name: 'a0', folder: true }) < 0);
});

test('-ii lines: the name starts at column 12, whatever it begins with', () => {
  assert.deepEqual(parseListedLine('hf           lead'), { how: 'linked', kind: 'file', created: false, path: ' lead' });
  assert.deepEqual(parseListedLine('.f          x'), { how: 'kept', kind: 'file', created: false, path: 'x' });
  assert.deepEqual(parseListedLine('>f+++++++++  lead'), { how: 'written', kind: 'file', created: true, path: ' lead' });
  assert.deepEqual(parseListedLine('>f.st...... a/f'), { how: 'written', kind: 'file', created: false, path: 'a/f' });
  assert.deepEqual(parseListedLine('cL+++++++++ l2'), { how: 'written', kind: 'symlink', created: true, path: 'l2' });
  assert.deepEqual(parseListedLine('hL          l2'), { how: 'linked', kind: 'symlink', created: false, path: 'l2' });
  assert.deepEqual(parseListedLine('cd+++++++++ file1.d/'), { how: 'written', kind: 'dir', created: true, path: 'file1.d/' });
  assert.deepEqual(parseListedLine('hf          back\\#134#134slash'), { how: 'linked', kind: 'file', created: false, path: 'back\\#134slash' });
  assert.deepEqual(parseListedLine('hf          new\\#012line'), { how: 'linked', kind: 'file', created: false, path: 'new\nline' });
  assert.deepEqual(parseListedLine('hf          bad\\#377name'), { how: 'linked', kind: 'file', created: false, path: 'bad\ufffdname', undecodable: true });
  assert.deepEqual(parseListedLine('hf          caf\\#303\\#251'), { how: 'linked', kind: 'file', created: false, path: 'café' });
  for (const other of ['*deleting   gone', 'created directory new', 'Number of files: 3', '  1,234  100%  1.00MB/s  0:00:00', 'hf', '']) {
    assert.equal(parseListedLine(other), undefined, other);
  }
  // The change-log parser reads the same column (it used to read " lead" as "lead").
  assert.deepEqual(parseItemizedLine('>f+++++++++  lead'), { change: 'created', kind: 'file', path: ' lead' });
  assert.deepEqual(parseItemizedLine('*deleting    zgone'), { change: 'deleted', kind: 'other', path: ' zgone' });
});

/** A previous list as recordSlot reads it, in batches of two so batch edges are crossed. */
function previousList(lines: Array<{ path: string; hash: string; size?: number; mtimeMs?: number }>): AsyncIterable<SumEntry[]> {
  const entries = lines.map((l) => sumEntryOf(formatSumLine({ hash: l.hash, size: l.size ?? 1, mtimeMs: l.mtimeMs ?? 1000, ino: 7, path: l.path }).slice(0, -1))!);
  return batches(entries, 2);
}

async function* batches<T>(items: T[], size: number): AsyncGenerator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

function listed(lines: string[]): AsyncIterable<ListedEntry[]> {
  return batches(lines.map((l) => parseListedLine(l)!), 3);
}

interface Outcome { sums: string[]; changes: string[]; hashedPaths: string[]; counts: Awaited<ReturnType<typeof recordSlot>> }

async function record(input: Omit<SlotRecordInput, 'writeSum' | 'writeChange' | 'hashEntry'> & { content?: Record<string, HashedEntry | null> }): Promise<Outcome> {
  const sums: string[] = [];
  const changes: string[] = [];
  const hashedPaths: string[] = [];
  const counts = await recordSlot({
    ...input,
    hashEntry: async (path, kind) => {
      hashedPaths.push(path);
      if (input.content && path in input.content) return input.content[path]!;
      return { hash: kind === 'symlink' ? `link:${path}` : `h(${path})`, size: 1, mtimeMs: 2000, ino: 9 };
    },
    writeSum: (line) => { sums.push(line); return undefined; },
    writeChange: (line) => { changes.push(line.trimEnd()); return undefined; },
  });
  return { sums, changes, hashedPaths, counts };
}

test('recordSlot carries linked entries, hashes written ones, and finds deletions and type changes against the previous list', async () => {
  const out = await record({
    listed: listed([
      'cd          ./',
      'hf          a0',
      '>f+++++++++ added',
      '>f+++++++++ lnk', // was a symlink: a new entry at an old path
      'hL          sl',
      '>f.st...... a/f',
      'cd+++++++++ b/',
      '>f+++++++++ b/new',
      'hf          z/keep',
    ]),
    previous: previousList([
      { path: 'a0', hash: 'A0' }, { path: 'gone', hash: 'G' }, { path: 'lnk', hash: 'link:L' }, { path: 'sl', hash: 'link:S' },
      { path: 'a/f', hash: 'F' }, { path: 'a/x/g', hash: 'XG' }, { path: 'z/keep', hash: 'K' }, { path: 'zz/old', hash: 'ZO' },
    ]),
    keptIsPrevious: false,
  });
  assert.deepEqual(out.hashedPaths, ['added', 'lnk', 'a/f', 'b/new']);
  assert.deepEqual(out.changes, ['+ "added"', '- "gone"', '~ "lnk"', '~ "a/f"', '+ "b/"', '- "a/x/g"', '+ "b/new"', '- "zz/old"']);
  assert.deepEqual(out.sums.map((l) => sumEntryOf(l.trimEnd())!.path), ['a0', 'added', 'lnk', 'sl', 'a/f', 'b/new', 'z/keep']);
  assert.equal(sumEntryOf(out.sums[0]!.trimEnd())!.hash, 'A0', 'carried line by line');
  assert.equal(sumEntryOf(out.sums[3]!.trimEnd())!.hash, 'link:S');
  assert.deepEqual(out.counts, { files: 6, entries: 7, created: 2, changed: 2, deleted: 3, hashed: 4, carried: 3 });
});

test('recordSlot: an entry rsync kept is hashed unless the destination held the previous slot', async () => {
  const lines = ['.f          copied-before', 'hf          linked', '.f          same'];
  const prev = [{ path: 'copied-before', hash: 'OLD' }, { path: 'linked', hash: 'L' }, { path: 'same', hash: 'h(same)', size: 1, mtimeMs: 2000 }];
  const resumed = await record({ listed: listed(lines), previous: previousList(prev), keptIsPrevious: false });
  assert.deepEqual(resumed.hashedPaths, ['copied-before', 'same']);
  // "same" hashes, sizes and times as before: a kept entry with nothing different is unchanged.
  assert.deepEqual(resumed.changes, ['~ "copied-before"']);
  const clean = await record({ listed: listed(lines), previous: previousList(prev), keptIsPrevious: true });
  assert.deepEqual(clean.hashedPaths, []);
  assert.deepEqual(clean.changes, []);
  assert.equal(clean.counts.carried, 3);
});

test('recordSlot: a listed entry that is gone is left out (and is a deletion when the previous slot had it)', async () => {
  const out = await record({
    listed: listed(['>f.st...... vanished', '>f+++++++++ vanished-new', 'hf          x']),
    previous: previousList([{ path: 'vanished', hash: 'V' }, { path: 'x', hash: 'X' }]),
    keptIsPrevious: false,
    content: { 'vanished': null, 'vanished-new': null },
  });
  assert.deepEqual(out.changes, ['- "vanished"']);
  assert.equal(out.sums.length, 1);
  assert.equal(out.counts.deleted, 1);
});

test('recordSlot without a previous list: everything hashed, rsync\'s own marks, deletions unknown', async () => {
  const out = await record({ listed: listed(['hf          a', '>f+++++++++ b', '>f.st...... c', '.f          d', 'cD+++++++++ dev', 'hf          bad\\#377']), previous: null, keptIsPrevious: false });
  assert.deepEqual(out.hashedPaths, ['a', 'b', 'c', 'd']);
  assert.deepEqual(out.changes, ['+ "b"', '~ "c"', '+ "dev"']);
  assert.equal(out.counts.deleted, null);
  assert.equal(out.counts.entries, 4, 'devices and undecodable names have no checksum');
});

test('recordSlot refuses output that is not in rsync\'s order, from either side', async () => {
  await assert.rejects(record({ listed: listed(['hf          b', 'hf          a']), previous: null, keptIsPrevious: false }), ListOrderError);
  await assert.rejects(record({ listed: listed(['hf          a/x', 'hf          b']), previous: null, keptIsPrevious: false }), ListOrderError, 'a file after a folder of the same folder');
  await assert.rejects(record({ listed: listed(['hf          a']), previous: previousList([{ path: 'b', hash: 'B' }, { path: 'a', hash: 'A' }]), keptIsPrevious: false }), ListOrderError);
});
