import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeDumpPath, SendChangeTracker, type SendChange } from '../../../src/core/sendStream';

/** Dumps captured from btrfs-progs 6.2: `btrfs send --no-data [-p s1] s2 | btrfs receive --dump`. */
function changesOf(fixture: string): SendChange[] {
  const tracker = new SendChangeTracker();
  for (const line of readFileSync(join(__dirname, '..', '..', 'fixtures', 'btrfs', fixture), 'utf8').split('\n')) tracker.feed(line);
  return tracker.changes();
}
const brief = (c: SendChange[]) => c.map((x) => `${x.change === 'created' ? '+' : x.change === 'changed' ? '~' : '-'} ${x.path}`);

test('dump paths are decoded: C escapes, escaped spaces and backslashes, octal bytes of UTF-8', () => {
  assert.equal(decodeDumpPath('./s2/sp\\ ace'), './s2/sp ace');
  assert.equal(decodeDumpPath('tab\\tname'), 'tab\tname');
  assert.equal(decodeDumpPath('nl\\nname'), 'nl\nname');
  assert.equal(decodeDumpPath('back\\\\slash'), 'back\\slash');
  assert.equal(decodeDumpPath('\\303\\274n\\303\\257\\ \\342\\202\\254'), 'ünï €');
  assert.equal(decodeDumpPath('$(x)\\ `y`;&%'), '$(x) `y`;&%');
});

test('an incremental stream: created, changed and deleted paths with hostile names, a replaced symlink, a removed folder', () => {
  assert.deepEqual(brief(changesOf('receive-dump-incremental.txt')), [
    '+ $(x) `y`;&%', '- b', '+ back\\slash', '~ d/a', '- gone/', '- gone/x', '- keep', '+ kept', '~ link',
    '+ newdir/', '+ newdir/inner', '+ nl\nname', '+ q"uote\'s', '+ sp ace', '+ tab\tname', '~ touch', '+ ünï €',
  ]);
});

test('moves: a folder moved by one rename, a file replaced by rename-over, a new hard link', () => {
  assert.deepEqual(brief(changesOf('receive-dump-moves.txt')), [
    '+ hardlink', '- olddir/', '- olddir/sub/g', '~ replace-me', '+ stay/moved/', '+ stay/moved/sub/g',
  ]);
  const moved = changesOf('receive-dump-moves.txt').find((c) => c.path === 'stay/moved/');
  assert.equal(moved?.folder, true, 'a moved folder is marked: what it holds is not listed one by one');
});

test('a full stream (first slot) lists every object as created', () => {
  assert.deepEqual(brief(changesOf('receive-dump-full.txt')), ['+ b', '+ d/', '+ d/a', '+ gone/', '+ gone/x', '+ keep', '+ link', '+ touch']);
});
