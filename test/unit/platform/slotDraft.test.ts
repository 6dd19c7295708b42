import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseListedLine } from '../../../src/core/rsyncOutput';
import { SlotRecorder, type HashedEntry } from '../../../src/core/slotRecord';
import { formatSumLine, SUMS_HEADER } from '../../../src/core/sums';
import { playDraft, SyncLineReader } from '../../../src/platform/slotDraft';
import { tempDir } from '../../helpers/tmp';

const line = (path: string, hash: string) => formatSumLine({ hash, size: 1, mtimeMs: 1, ino: 1, path });

/** Both phases over files, as a backup runs them (phase 1 fed line by line, phase 2 after). */
async function record(dir: string, previous: string | null, listed: string[], content: Record<string, HashedEntry | null> = {}, sumsAs: 'list' | 'patch' = 'list') {
  const draftFile = join(dir, 'draft');
  const out: string[] = [];
  const reader = previous !== null ? new SyncLineReader(previous) : null;
  const recorder = new SlotRecorder(reader, false, (l) => out.push(l));
  for (const l of listed) recorder.add(parseListedLine(l)!);
  recorder.end();
  reader?.close();
  await writeFile(draftFile, out.join(''));
  const hashed: string[] = [];
  const counts = await playDraft({
    draft: draftFile,
    previousSums: previous,
    sumsFile: join(dir, 'sums.tsv'),
    sumsAs,
    changeLog: join(dir, 'changes.log'),
    hashEntry: async (path, kind) => {
      hashed.push(path);
      return path in content ? content[path]! : { hash: kind === 'symlink' ? `link:${path}` : `new-${path}`, size: 2, mtimeMs: 2, ino: 2 };
    },
  });
  return { counts, hashed, sums: await readFile(join(dir, 'sums.tsv'), 'utf8'), changes: await readFile(join(dir, 'changes.log'), 'utf8') };
}

test('playDraft copies the previous lines byte for byte, hashes the rest, and writes the change log in rsync\'s order', async (t) => {
  const dir = await tempDir(t);
  const previous = join(dir, 'previous.tsv');
  // A damaged line and a last line without its newline: skipped, and still copied whole.
  await writeFile(previous, `${SUMS_HEADER}\n${line('a', 'A')}${line('b é', 'B')}not a sums line\n${line('gone', 'G')}${line('lnk', 'link:L')}${line('d/x', 'X')}${line('d/y', 'Y').trimEnd()}`);
  const result = await record(dir, previous, ['hf          a', 'hf          b é', '>f+++++++++ c', 'hL          lnk', '>f+++++++++ vanished', 'cd+++++++++ d/', '>f.st...... d/x', 'hf          d/y'], { vanished: null });
  assert.deepEqual(result.hashed, ['c', 'vanished', 'd/x']);
  assert.equal(result.sums, `${SUMS_HEADER}\n${line('a', 'A')}${line('b é', 'B')}${formatSumLine({ hash: 'new-c', size: 2, mtimeMs: 2, ino: 2, path: 'c' })}${line('lnk', 'link:L')}${formatSumLine({ hash: 'new-d/x', size: 2, mtimeMs: 2, ino: 2, path: 'd/x' })}${line('d/y', 'Y')}`);
  assert.equal(result.changes, '+ "c"\n- "gone"\n+ "d/"\n~ "d/x"\n');
  assert.deepEqual(result.counts, { files: 5, entries: 6, created: 1, changed: 1, deleted: 1, hashed: 2, carried: 4, sumsBytes: Buffer.byteLength(result.sums) });

  // As a patch for a server that holds the previous list: applied to that list (by this test's own
  // reading of the format), it gives the same bytes, and says how many.
  const patch = await record(dir, previous, ['hf          a', 'hf          b é', '>f+++++++++ c', 'hL          lnk', '>f+++++++++ vanished', 'cd+++++++++ d/', '>f.st...... d/x', 'hf          d/y'], { vanished: null }, 'patch');
  assert.equal(patch.changes, result.changes);
  assert.deepEqual(patch.counts, result.counts);
  assert.equal(applyPatch(await readFile(previous), patch.sums).toString('utf8'), result.sums);
  assert.doesNotMatch(patch.sums, /"a"|"b é"|"lnk"|"d\/y"/, 'carried lines do not travel');
});

/** `l LINE` / `c N` (copy the next N lines) / `s N` (skip them), as the server's awk applies them. */
function applyPatch(previous: Buffer, patch: string): Buffer {
  const lines = previous.toString('utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let at = 0;
  let out = '';
  for (const op of patch.split('\n').filter(Boolean)) {
    const n = Number(op.slice(2));
    if (op.startsWith('l ')) out += `${op.slice(2)}\n`;
    else if (op.startsWith('c ')) { for (let i = 0; i < n; i++) out += `${lines[at++]!}\n`; }
    else if (op.startsWith('s ')) at += n;
    else throw new Error(`bad op ${op}`);
  }
  return Buffer.from(out, 'utf8');
}

test('playDraft over runs longer than a read, with a long line: the same bytes come out', async (t) => {
  const dir = await tempDir(t);
  const previous = join(dir, 'previous.tsv');
  const paths = Array.from({ length: 30_000 }, (_, i) => `f${String(i).padStart(6, '0')}-ünï`);
  paths.splice(100, 0, `long-${'x'.repeat(300_000)}`);
  paths.sort();
  const lines = paths.map((p, i) => line(p, `h${i}`));
  await writeFile(previous, SUMS_HEADER + '\n' + lines.join(''));
  const result = await record(dir, previous, paths.map((p) => `hf          ${p}`));
  assert.equal(result.sums, SUMS_HEADER + '\n' + lines.join(''));
  assert.equal(result.counts.carried, paths.length);
  assert.equal(result.changes, '');
});

test('playDraft without a previous list: every entry hashed, rsync\'s marks, deletions unknown', async (t) => {
  const dir = await tempDir(t);
  const result = await record(dir, null, ['hf          a', '>f+++++++++ b', '>f.st...... c']);
  assert.deepEqual(result.hashed, ['a', 'b', 'c']);
  assert.equal(result.changes, '+ "b"\n~ "c"\n');
  assert.equal(result.counts.deleted, null);
});
