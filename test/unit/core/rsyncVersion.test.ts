// The one rsync version parser (engine, server probe, Windows helper plan) and its floors. Its
// rules are helper.ps1's Get-RsyncVersion/Test-VersionBelow (the golden pairs of
// test/unit/windows/helperGolden.test.ts run the same texts through both on Windows).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatRsyncVersion, HELPER_SSH_MIN_RSYNC, MIN_RSYNC_VERSION, parseRsyncVersion, versionAtLeast, type RsyncVersion } from '../../../src/core/rsyncVersion';

const root = join(import.meta.dirname, '..', '..', '..');

test('real rsync --version first lines give their version', () => {
  const cases: Array<[string, RsyncVersion]> = [
    ['rsync  version 3.2.7  protocol version 31', [3, 2, 7]],
    ['rsync  version 3.4.1  protocol version 32\nCopyright (C) 1996-2025 by Andrew Tridgell, Wayne Davison, and others.', [3, 4, 1]],
    ['rsync  version 2.6.9  protocol version 29', [2, 6, 9]],
    ['rsync version v3.1.0 protocol', [3, 1, 0]],
    // The server probe's line: "rsync " and then rsync's own first line.
    ['rsync rsync  version 3.2.7  protocol version 31', [3, 2, 7]],
    ['rsync  version 3.4', [3, 4, 0]],
  ];
  for (const [text, version] of cases) assert.deepEqual(parseRsyncVersion(text), version, text);
});

test('hostile or foreign outputs: no version, or the digits rsync printed and never more', () => {
  for (const text of [
    'openrsync: protocol version 29', // macOS's openrsync names no rsync version of its own
    '', 'no version here', 'rsync: command not found', 'rsync  version', 'rsync  version 3', 'rsync  version .4.0',
    'rsync  version 99999.0.0', 'rsync  version 12345678901234567890.1.0', 'Rsync  Version 3.4.0', 'rsync  version \uff13.\uff14.\uff10',
  ]) {
    assert.equal(parseRsyncVersion(text), null, JSON.stringify(text));
  }
  // A fifth digit is never read: a field is at most 9999, so nothing overflows or compares oddly.
  assert.deepEqual(parseRsyncVersion('rsync  version 3.99999999999999999999.0'), [3, 9999, 0]);
  assert.deepEqual(parseRsyncVersion('rsync  version 3.4.123456'), [3, 4, 1234]);
  assert.deepEqual(parseRsyncVersion('rsync  version 9999.9999.9999'), [9999, 9999, 9999]);
  // A pre-release is its release number: 3.4.0pre1 counts as 3.4.0 (as helper.ps1 reads it).
  assert.deepEqual(parseRsyncVersion('rsync  version 3.4.0pre1  protocol version 32'), [3, 4, 0]);
  assert.deepEqual(parseRsyncVersion('rsync  version 3.3.0pre1'), [3, 3, 0]);
  // Extra fields, a later "version" and a second line cannot move the first version.
  assert.deepEqual(parseRsyncVersion('rsync  version 3.2.7.1  protocol version 31 extra 9.9.9'), [3, 2, 7]);
  assert.deepEqual(parseRsyncVersion('rsync  version 3.1.3  protocol version 31\nrsync  version 3.4.1'), [3, 1, 3]);
  assert.deepEqual(parseRsyncVersion('warning: x\r\nrsync\tversion\t3.2.3\r\n'), [3, 2, 3], 'any blank between the words, CRLF lines');
  // The word is found inside another: what a program prints about itself is its own claim anyway.
  assert.deepEqual(parseRsyncVersion('openrsync  version 3.4.1'), [3, 4, 1]);
});

test('versionAtLeast compares field by field; the floors are 3.1.0 (engine, server) and 3.4.0 (helper to a server)', () => {
  assert.deepEqual(MIN_RSYNC_VERSION, [3, 1, 0]);
  assert.deepEqual(HELPER_SSH_MIN_RSYNC, [3, 4, 0]);
  const at = (v: RsyncVersion, floor: RsyncVersion) => versionAtLeast(v, floor);
  assert.equal(at([3, 1, 0], MIN_RSYNC_VERSION), true, 'the floor itself');
  assert.equal(at([3, 0, 9], MIN_RSYNC_VERSION), false);
  assert.equal(at([2, 6, 9], MIN_RSYNC_VERSION), false, 'macOS\'s old rsync');
  assert.equal(at([2, 99, 99], MIN_RSYNC_VERSION), false, 'the major number decides first');
  assert.equal(at([4, 0, 0], MIN_RSYNC_VERSION), true);
  assert.equal(at([3, 10, 0], [3, 4, 0]), true, 'numbers, not strings: 10 > 4');
  assert.equal(at([3, 3, 9999], HELPER_SSH_MIN_RSYNC), false);
  assert.equal(at([3, 4, 0], HELPER_SSH_MIN_RSYNC), true);
  assert.equal(at([3, 2, 7], HELPER_SSH_MIN_RSYNC), false);
  assert.equal(at(parseRsyncVersion('rsync  version 3.4.0pre1')!, HELPER_SSH_MIN_RSYNC), true, 'a 3.4.0 pre-release passes the 3.4.0 floor, as in helper.ps1');
  assert.equal(formatRsyncVersion([3, 4, 1]), '3.4.1');
  assert.equal(formatRsyncVersion(parseRsyncVersion('rsync  version 3.4')!), '3.4.0');
});

test('helper.ps1 reads versions with the same pattern and holds the server and its own rsync to the same floors', () => {
  const helper = readFileSync(join(root, 'src/platform/windows/assets/helper.ps1'), 'utf8');
  const source = readFileSync(join(root, 'src/core/rsyncVersion.ts'), 'utf8');
  const pattern = /^function Get-RsyncVersion[\s\S]*?\[regex\]::Match\(\$Text, '([^']+)'\)/m.exec(helper)?.[1];
  assert.ok(pattern, 'Get-RsyncVersion found');
  assert.ok(source.includes(`/${pattern}/.exec(text)`), 'the same regular expression');
  assert.match(helper, /Test-VersionBelow \$localRsync @\(3, 4, 0\)/);
  assert.match(helper, /Test-VersionBelow \$serverRsync @\(3, 1, 0\)/);
});
