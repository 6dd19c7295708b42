import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildRsyncArgv } from '../../../src/core/rsyncArgs';
import { classifyRsyncExit, decodeRsyncName, isNoSpace, LineSplitter, parseItemizedLine, parseProgress2, parseStats, problemPaths } from '../../../src/core/rsyncOutput';

const fixture = (name: string) => readFileSync(join(__dirname, '..', '..', 'fixtures', 'rsync', name), 'utf8');

test('argv: the recipe plus machine-readable output, link-dest and literal excludes', () => {
  assert.deepEqual(buildRsyncArgv({ source: '/src', destination: '/t/.shadow-slots/incoming/x', linkDest: '/t/0', excludes: ['*.tmp', '/$(rm -rf ~)/'], extraArgs: ['-H'], timePrecision: 'nanoseconds' }), [
    '-rltDx', '--delete', '--modify-window=-1', '--link-dest=/t/0', '--out-format=%i %n', '--stats', '--info=progress2',
    '--exclude=*.tmp', '--exclude=/$(rm -rf ~)/', '-H', '--', '/src/', '/t/.shadow-slots/incoming/x/',
  ]);
});

test('argv: Windows rsync gets --chmod=ugo=rwX, FAT targets --modify-window=1, first slot has no link-dest', () => {
  const argv = buildRsyncArgv({ source: '/cygdrive/c/Users/me', destination: '/cygdrive/f/ring/in', excludes: [], extraArgs: [], windowsRsync: true, timePrecision: 'coarse', progress: false });
  assert.deepEqual(argv, ['-rtDx', '--delete', '--chmod=ugo=rwX', '--modify-window=1', '--out-format=%i %n', '--stats', '--', '/cygdrive/c/Users/me/', '/cygdrive/f/ring/in/']);
});

test('progress2 lines from real rsync', () => {
  assert.deepEqual(parseProgress2('          2,008  66%    1.95kB/s    0:00:00 (xfr#1, to-chk=1/8)'), { bytes: 2008, percent: 66, rate: 1997, etaSeconds: 0, transfers: 1, toCheck: 1, total: 8 });
  assert.deepEqual(parseProgress2('    153,092,108  41%   24.33MB/s    0:00:08 (xfr#3021, ir-chk=1027/20117)'), { bytes: 153092108, percent: 41, rate: 25511854, etaSeconds: 8, transfers: 3021, toCheck: 1027, total: 20117 });
  assert.equal(parseProgress2('          2,008  66%    0.00kB/s    0:00:00  ')?.percent, 66);
  assert.equal(parseProgress2('>f+++++++++ dir/f4'), undefined);
});

test('itemized lines: created, changed, deleted, escaped names', () => {
  assert.deepEqual(parseItemizedLine('>f+++++++++ dir/f4'), { change: 'created', kind: 'file', path: 'dir/f4' });
  assert.deepEqual(parseItemizedLine('>f.st...... dir/f2'), { change: 'changed', kind: 'file', path: 'dir/f2' });
  assert.deepEqual(parseItemizedLine('cd..t...... dir/'), { change: 'attributes', kind: 'dir', path: 'dir/' });
  assert.deepEqual(parseItemizedLine('cL+++++++++ link'), { change: 'created', kind: 'symlink', path: 'link' });
  assert.deepEqual(parseItemizedLine('*deleting   dir/f3'), { change: 'deleted', kind: 'other', path: 'dir/f3' });
  assert.deepEqual(parseItemizedLine('>f+++++++++ new\\#012line'), { change: 'created', kind: 'file', path: 'new\nline' });
  assert.equal(parseItemizedLine('created directory dst/1'), undefined);
  assert.equal(decodeRsyncName('caf\\#303\\#251'), 'café');
  assert.equal(decodeRsyncName('a\\#b'), 'a\\#b');
});

test('whole captured runs parse into the right counts', () => {
  const items = (text: string) => {
    const found: string[] = [];
    const s = new LineSplitter();
    const on = (line: string) => { const i = parseItemizedLine(line); if (i) found.push(`${i.change}:${i.path}`); };
    // Feed in odd-sized chunks: lines split across chunks must still parse.
    for (let i = 0; i < text.length; i += 7) s.push(text.slice(i, i + 7), on);
    s.end(on);
    return found;
  };
  const first = items(fixture('first-backup.out'));
  assert.ok(first.includes('created:new\nline'));
  assert.ok(first.includes('created:sp ace&$(x)'));
  assert.ok(first.includes('created:link'));
  const inc = items(fixture('incremental.out'));
  assert.deepEqual(inc.filter((x) => !x.startsWith('attributes')), ['changed:dir/f2', 'created:dir/f4']);
  const stats = parseStats(fixture('incremental.out'));
  assert.equal(stats.regularFiles, 5);
  assert.equal(stats.dirs, 2);
  assert.equal(stats.createdRegular, 1);
  assert.equal(stats.transferred, 2);
  assert.equal(stats.totalSize, 3019);
  assert.equal(stats.literalData, 2010);
  assert.deepEqual(items(fixture('deletions.out')), ['deleted:dir/f3']);
});

test('exit codes: only 0 and 24 may become a complete slot', () => {
  assert.equal(classifyRsyncExit(0).outcome, 'complete');
  assert.equal(classifyRsyncExit(24).outcome, 'complete-with-warnings');
  assert.equal(classifyRsyncExit(23).outcome, 'partial');
  // Only our own cancel is a cancellation; rsync killed by anything else must be reported as a failure.
  assert.equal(classifyRsyncExit(null, 'SIGTERM', true).outcome, 'cancelled');
  assert.equal(classifyRsyncExit(20).outcome, 'failed');
  assert.equal(classifyRsyncExit(null, 'SIGKILL').outcome, 'failed');
  assert.match(classifyRsyncExit(null, 'SIGKILL').message, /killed \(SIGKILL\)/);
  for (const code of [1, 2, 3, 5, 10, 11, 12, 22, 25, 30, 35, 99]) assert.equal(classifyRsyncExit(code).outcome, 'failed', `exit ${code}`);
});

test('stderr classification: no space, vanished and unreadable paths', () => {
  assert.ok(isNoSpace('rsync: [receiver] write failed on "/t/x": No space left on device (28)'));
  assert.ok(!isNoSpace('rsync error: some files/attrs were not transferred'));
  const { vanished, unreadable } = problemPaths([
    'file has vanished: "/src/tmp/a b.lock"',
    'rsync: [sender] send_files failed to open "/src/secret.key": Permission denied (13)',
    'rsync: [sender] opendir "/src/private" failed: Permission denied (13)',
  ].join('\n'));
  assert.deepEqual(vanished, ['/src/tmp/a b.lock']);
  assert.deepEqual(unreadable, ['/src/secret.key', '/src/private']);
});
