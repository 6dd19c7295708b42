import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareNamesInFolder, compareRsyncOrder } from '../../../src/core/rsyncOrder';
import { decodeRsyncName, decodeRsyncNameStrict, parseItemizedLine, parseListedLine } from '../../../src/core/rsyncOutput';
import { ListOrderError, parsePending, settleEntry, SlotRecorder } from '../../../src/core/slotRecord';
import { formatSumLine, SUMS_HEADER } from '../../../src/core/sums';

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

/** A previous list (format 2) as raw lines, read on demand as SlotRecorder does. */
function previousList(entries: Array<{ path: string; hash: string; size?: number; mtimeMs?: number }>): { next(): string | undefined } {
  const lines = [SUMS_HEADER, ...entries.map((e) => formatSumLine({ hash: e.hash, size: e.size ?? 1, mtimeMs: e.mtimeMs ?? 1000, ino: 7, path: e.path }).slice(0, -1))];
  let i = 0;
  return { next: () => lines[i++] };
}

function draftOf(listed: string[], previous: { next(): string | undefined } | null, keptIsPrevious = false): string[] {
  const out: string[] = [];
  const recorder = new SlotRecorder(previous, keptIsPrevious, (line) => out.push(line.trimEnd()));
  for (const line of listed) recorder.add(parseListedLine(line)!);
  recorder.end();
  return out;
}

test('SlotRecorder: linked entries become runs of previous lines to copy; new, changed and gone entries are spelled out', () => {
  const draft = draftOf([
    'cd          ./',
    'hf          a0',
    'hf          a1',
    '>f+++++++++ added',
    '>f+++++++++ lnk', // was a symlink: a new entry at an old path
    'hL          sl',
    '>f.st...... a/f',
    'cd+++++++++ b/',
    '>f+++++++++ b/new',
    'hf          z/keep',
  ], previousList([
    { path: 'a0', hash: 'A0' }, { path: 'a1', hash: 'A1' }, { path: 'gone', hash: 'G' }, { path: 'lnk', hash: 'link:L' }, { path: 'sl', hash: 'link:S' },
    { path: 'a/f', hash: 'F' }, { path: 'a/x/g', hash: 'XG' }, { path: 'z/keep', hash: 'K' }, { path: 'zz/old', hash: 'ZO' },
  ]));
  assert.deepEqual(draft, [
    's 1', // the header
    'c 2',
    '? wf+ "added"',
    '- "gone"',
    '? wf+p "lnk"',
    'c 1',
    '? wf.p "a/f"',
    '= + "b/"',
    '- "a/x/g"',
    '? wf+ "b/new"',
    'c 1',
    '- "zz/old"',
  ]);
});

test('SlotRecorder: an entry rsync kept is the previous slot\'s only when the destination held that slot', () => {
  const lines = ['.f          copied-before', 'hf          linked', '.f          same'];
  const prev = () => previousList([{ path: 'copied-before', hash: 'OLD' }, { path: 'linked', hash: 'L' }, { path: 'same', hash: 'S' }]);
  assert.deepEqual(draftOf(lines, prev(), false), ['s 1', '? kf.p "copied-before"', 'c 1', '? kf.p "same"']);
  assert.deepEqual(draftOf(lines, prev(), true), ['s 1', 'c 3']);
});

test('SlotRecorder without a previous list: every file and symlink is hashed; devices and undecodable names keep rsync\'s mark', () => {
  assert.deepEqual(draftOf(['hf          a', '>f+++++++++ b', '.f          d', 'cD+++++++++ dev', '>f+++++++++ bad\\#377'], null), [
    '? hf. "a"', '? wf+ "b"', '? kf. "d"', '= + "dev"', '= + "bad\ufffd"',
  ]);
});

test('SlotRecorder refuses output that is not in rsync\'s order, from either side', () => {
  assert.throws(() => draftOf(['hf          b', 'hf          a'], null), ListOrderError);
  assert.throws(() => draftOf(['hf          a/x', 'hf          b'], null), ListOrderError, 'a file after a folder of the same folder');
  assert.throws(() => draftOf(['hf          a'], previousList([{ path: 'b', hash: 'B' }, { path: 'a', hash: 'A' }])), ListOrderError);
  // Entries that match the previous list skip their own comparison: a reordering is still caught.
  const abc = () => previousList([{ path: 'a', hash: 'A' }, { path: 'b', hash: 'B' }, { path: 'c', hash: 'C' }]);
  assert.throws(() => draftOf(['hf          a', 'hf          c', 'hf          b'], abc()), ListOrderError);
  assert.throws(() => draftOf(['hf          b', 'hf          a'], abc()), ListOrderError);
  assert.throws(() => draftOf(['hf          a', 'hf          a'], abc()), ListOrderError);
  assert.deepEqual(draftOf(['hf          a', 'hf          c'], abc()), ['s 1', 'c 1', '- "b"', 'c 1']);
});

test('escaped names decode to their bytes in one pass, raw UTF-8 included, and invalid UTF-8 is flagged', () => {
  assert.deepEqual(decodeRsyncNameStrict('caf\\#303\\#251/\\#343\\#203\\#207\\#343\\#203\\#274\\#343\\#202\\#277'), { path: 'café/データ', valid: true });
  assert.deepEqual(decodeRsyncNameStrict('é\\#303\\#251 \u{1F600}'), { path: 'éé \u{1F600}', valid: true });
  assert.deepEqual(decodeRsyncNameStrict('a\\#134#134b\\#012'), { path: 'a\\#134b\n', valid: true });
  assert.deepEqual(decodeRsyncNameStrict('bad\\#377'), { path: 'bad\ufffd', valid: false });
  assert.equal(decodeRsyncName('no escapes \\# here'), 'no escapes \\# here');
});

test('settleEntry: the mark relative to the previous slot, and nothing for an entry that is gone', () => {
  const hashed = { hash: 'H', size: 3, mtimeMs: 5, ino: 1 };
  const previous = formatSumLine({ hash: 'H', size: 3, mtimeMs: 5, ino: 9, path: 'p' }).slice(0, -1);
  const settle = (line: string, before: string | null, h = hashed as typeof hashed | null, listed = true) => settleEntry(parsePending(line), before, h, listed);
  assert.deepEqual(settle('? wf+ "p"', null), { sum: formatSumLine({ ...hashed, path: 'p' }), change: '+ "p"\n' });
  assert.equal(settle('? wf.p "p"', previous).change, '~ "p"\n', 'written by this run: a new version even with the same content');
  assert.equal(settle('? kf.p "p"', previous).change, null, 'kept, and nothing recorded differs');
  assert.equal(settle('? kf.p "p"', previous, { ...hashed, mtimeMs: 6 }).change, '~ "p"\n');
  assert.equal(settle('? kL.p "p"', previous).change, '~ "p"\n', 'a symlink where a file was');
  assert.deepEqual(settle('? wf.p "p"', previous, null), { sum: null, change: '- "p"\n' });
  assert.deepEqual(settle('? wf+ "p"', null, null), { sum: null, change: null });
  assert.equal(settle('? hf. "p"', null, hashed, false).change, null, 'no previous list: rsync\'s own mark');
  assert.equal(settle('? wf. "p"', null, hashed, false).change, '~ "p"\n');
  assert.deepEqual(parsePending('? kL+p "a \\"b\\" c"'), { how: 'k', kind: 'symlink', created: true, hasPrevious: true, path: 'a "b" c' });
});
