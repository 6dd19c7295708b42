// The parsers of what a server prints (sshListing.ts), against literal output captured from rsync
// 3.5.0 in the C locale, GNU coreutils 9.1 and busybox 1.35 (Debian 12).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRsyncEscapes, normaliseFsName, parseDf, parseLsIdentity, parseRsyncListing, parseServerNow, parseSha256Lines, serverDevice } from '../../src/platform/target/sshListing';

const LISTING = [
  'drwxr-xr-x        4096 2026/12/03 12:15:33 .',
  '-rw-r--r--           5 2020/01/02 03:04:05 a b',
  '-rw-r--r--           1 2026/12/03 12:15:33 back\\#134#012slash',
  'prw-r--r--           0 2026/12/03 12:15:33 fifo',
  'lrwxrwxrwx           6 2026/12/03 12:15:33 li -> nk -> x -> y',
  '-rw-r--r--           1 2026/12/03 12:15:33 new\\#012line',
  '-rw-r--r--           1 2026/12/03 12:15:33 \\#303\\#274',
  'drwxr-xr-x        4096 2026/12/03 12:15:33 sub',
  // rsync 3.1 without --no-h groups digits; a name with leading spaces and a tab.
  '-rw-r--r--      12,345 2026/12/03 12:15:33   spaced\tname ',
  '',
].join('\n');

test('rsync --list-only: kinds, exact sizes, UTC times, escaped names and symlinks whose name and target hold " -> "', () => {
  const entries = parseRsyncListing(LISTING);
  assert.deepEqual(entries.map((e) => [e.path, e.kind, e.size, e.target]), [
    ['.', 'folder', 0, null],
    ['a b', 'file', 5, null],
    ['back\\#012slash', 'file', 1, null],
    ['fifo', 'other', 0, null],
    ['li -> nk', 'symlink', 6, 'x -> y'],
    ['new\nline', 'file', 1, null],
    ['ü', 'file', 1, null],
    ['sub', 'folder', 0, null],
    ['  spaced\tname ', 'file', 12345, null],
  ]);
  assert.equal(entries[1]!.mtimeMs, Date.UTC(2020, 0, 2, 3, 4, 5));
});

test('a symlink line whose target length does not fit is skipped, not misread', () => {
  assert.deepEqual(parseRsyncListing('lrwxrwxrwx          99 2026/12/03 12:15:33 a -> b\n'), []);
  assert.deepEqual(parseRsyncListing('rsync: [sender] link_stat "/x" failed: No such file or directory (2)\n'), []);
});

test('rsync escapes decode to the bytes of the name', () => {
  assert.deepEqual(decodeRsyncEscapes('a\\#012b'), Buffer.from('a\nb'));
  assert.deepEqual(decodeRsyncEscapes('\\#134#012'), Buffer.from('\\#012'));
  assert.equal(decodeRsyncEscapes('\\#342\\#234\\#223 ok').toString('utf8'), '✓ ok');
  assert.equal(decodeRsyncEscapes('plain \\ back\\slash').toString('utf8'), 'plain \\ back\\slash');
});

const HASH_A = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
const HASH_B = '8e35c2cd3bf6641bdb0e2050b76932cbb2e6034a0ddacc1d9bea82a6ba57f7cf';
const HASH_X = '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881';

test('sha256sum output read by the expected names: GNU escapes, busybox raw newlines, unreadable files left out', () => {
  const gnu = `${HASH_A}  a b\n\\${HASH_B}  back\\\\#012slash\n\\${HASH_X}  new\\nline\n`;
  assert.deepEqual([...parseSha256Lines(gnu, ['a b', 'back\\#012slash', 'new\nline', 'missing'])], [['a b', HASH_A], ['back\\#012slash', HASH_B], ['new\nline', HASH_X]]);
  const busybox = `${HASH_A}  a b\n${HASH_X}  new\nline\n`;
  assert.deepEqual([...parseSha256Lines(busybox, ['a b', 'gone', 'new\nline'])], [['a b', HASH_A], ['new\nline', HASH_X]]);
  // The same bytes are one file whose name imitates a second line, or two files: the names asked
  // for decide, never a split of the text.
  const ambiguous = `${HASH_A}  x\n${HASH_B}  y\n`;
  assert.deepEqual([...parseSha256Lines(ambiguous, [`x\n${HASH_B}  y`])], [[`x\n${HASH_B}  y`, HASH_A]]);
  assert.deepEqual([...parseSha256Lines(ambiguous, ['x', 'y'])], [['x', HASH_A], ['y', HASH_B]]);
  // coreutils 9 escapes a carriage return, older versions do not.
  assert.deepEqual([...parseSha256Lines(`\\${HASH_A}  c\\r\\nd\n`, ['c\r\nd'])], [['c\r\nd', HASH_A]]);
  assert.deepEqual([...parseSha256Lines(`\\${HASH_A}  c\r\\nd\n`, ['c\r\nd'])], [['c\r\nd', HASH_A]]);
});

test('df -P, ls -l -n -i, the server clock and file system names', () => {
  assert.deepEqual(parseDf('/dev/vda             264212084  37365008  69025904  35% /'), { totalBytes: 264212084 * 1024, freeBytes: 69025904 * 1024, mountPoint: '/' });
  assert.deepEqual(parseDf('//nas/share 1000 10 990 1% /mnt/with space'), { totalBytes: 1024000, freeBytes: 990 * 1024, mountPoint: '/mnt/with space' });
  assert.equal(parseDf('df: /x: No such file or directory'), null);
  assert.deepEqual(parseLsIdentity('4251578 -rw-r--r--    1 0        0                1 2026-12-03 12:12:23 +0000 a'), { ino: 4251578, nlink: 1 });
  assert.deepEqual(parseLsIdentity('  12 -rw-r--r--+ 3 1000 1000 5 Dec  3 12:12 name 99 99 99'), { ino: 12, nlink: 3 });
  assert.equal(parseServerNow('x\nnow 2026 12 03 12 15 33\n'), Date.UTC(2026, 11, 3, 12, 15, 33));
  assert.ok(Number.isNaN(parseServerNow('')));
  assert.deepEqual(['ext3', 'fuse.zfs-fuse', 'btrfs', 'smb3', ''].map(normaliseFsName), ['ext4', 'fuse', 'btrfs', 'smb2', 'unknown']);
  assert.equal(serverDevice('root@host:22', '/'), serverDevice('root@host:22', '/'));
  assert.notEqual(serverDevice('root@host:22', '/'), serverDevice('root@host:22', '/srv'));
  assert.ok(serverDevice('root@host:22', '/') > 2 ** 32);
});
