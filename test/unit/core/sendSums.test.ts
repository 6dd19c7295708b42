import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FolderRuns, outermost, parseSendChangeLog, UntrustedChangesError } from '../../../src/core/sendSums';
import { compareRsyncOrder } from '../../../src/core/rsyncOrder';
import { SendChangeTracker } from '../../../src/core/sendStream';

test('a received slot\'s change log parses into gone and made paths, folders without their slash, hostile names intact', () => {
  const hostile = 'sp ace $(x) `y`; & "q" \\ ü\n%.txt';
  const log = ['+ "new/"', '+ "new/inner"', `+ ${JSON.stringify(hostile)}`, '~ "d/a"', '- "gone/"', '- "gone/x"', '- "f"', '+ "f/"', ''].join('\n');
  const { gone, made } = parseSendChangeLog(log);
  assert.deepEqual([...gone].sort(), ['f', 'gone', 'gone/x']);
  assert.deepEqual([...made].sort(), ['d/a', 'f', 'new', 'new/inner', hostile].sort());
  assert.deepEqual(parseSendChangeLog(''), { gone: new Set(), made: new Set() });
});

test('a change log with anything else in it is not trusted: unknown marks, damaged JSON, paths leaving the slot', () => {
  for (const bad of ['? "x"', '+ x', '+ "x', '+ 1', '+ ""', '+ "/etc/passwd"', '- "a/../../b"', '~ "a//b"', '+ "./a"', '+ "a"\n\n- "b"', 'garbage']) {
    assert.throws(() => parseSendChangeLog(bad), UntrustedChangesError, JSON.stringify(bad));
  }
});

test('folder runs: outermost folders in rsync order, asked in rsync order, cover exactly what is below them', () => {
  assert.deepEqual(outermost(['a/b', 'a', 'a.c', 'z/y', 'z/y/x', 'a0']), ['a.c', 'a', 'a0', 'z/y']);
  const paths = ['B', 'a', 'a-c', 'a.c', 'a.b/y', 'a.c/x', 'a/x', 'a/b/deep', 'a0/z', 'ab', 'z/q', 'z/y/1', 'z/y/x/2', 'z/yy/3'].sort(compareRsyncOrder);
  const runs = new FolderRuns(['a', 'a/b', 'z/y', 'a.c']);
  const covered = paths.filter((p) => runs.covers(p));
  assert.deepEqual(covered.sort(), ['a.c/x', 'a/b/deep', 'a/x', 'z/y/1', 'z/y/x/2']);
  assert.equal(new FolderRuns([]).covers('anything'), false);
});

test('the send stream\'s retimed paths: times set on an object that kept its name and content (a hard link\'s other name, folders), none of the made or moved ones', () => {
  const retimedOf = (fixture: string): string[] => {
    const tracker = new SendChangeTracker();
    for (const line of readFileSync(join(__dirname, '..', '..', 'fixtures', 'btrfs', fixture), 'utf8').split('\n')) tracker.feed(line);
    return tracker.retimed();
  };
  assert.deepEqual(retimedOf('receive-dump-moves.txt'), ['stay', 'stay/s']);
  // Every retimed object there was also written or made; the root's times are never listed.
  assert.deepEqual(retimedOf('receive-dump-incremental.txt'), []);
  const tracker = new SendChangeTracker();
  for (const line of ['snapshot ./s2 uuid=x transid=1 parent_uuid=y parent_transid=1', 'utimes ./s2/touched\\ only atime=a mtime=b ctime=c', 'utimes ./s2/ atime=a mtime=b ctime=c']) tracker.feed(line);
  assert.deepEqual(tracker.retimed(), ['touched only']);
  assert.deepEqual(tracker.changes(), [], 'times alone are not a change of content');
});
