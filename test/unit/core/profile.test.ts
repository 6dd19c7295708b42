import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateProfile, type Profile } from '../../../src/core/profile';
import { ShadowSlotsError } from '../../../src/core/errors';

const ok = { source: '/home/dev/project', target: '/mnt/backup/project' };

function rejects(input: Record<string, unknown>, pattern: RegExp, flavor: 'posix' | 'win32' = 'posix') {
  assert.throws(() => validateProfile(input, flavor), (error: unknown) => {
    assert.ok(error instanceof ShadowSlotsError, 'a ShadowSlotsError');
    assert.equal(error.code, 'invalid-input');
    assert.match(error.message, pattern);
    return true;
  });
}

test('defaults: 16 slots, auto snapshot, no excludes', () => {
  const { profile, notes } = validateProfile(ok, 'posix');
  assert.equal(profile.slots, 16);
  assert.equal(profile.snapshot, 'auto');
  assert.deepEqual(profile.excludes, []);
  assert.equal(profile.name, 'project');
  assert.deepEqual(notes, []);
});

test('paths: missing, relative, "..", trailing slashes normalised', () => {
  rejects({ target: '/t' }, /source folder is missing/);
  rejects({ source: 'rel/path', target: '/t' }, /not absolute/);
  rejects({ source: '/a/../b', target: '/t' }, /contains "\.\."/);
  rejects({ source: '/a\nb', target: '/t' }, /line break/);
  rejects({ source: 42, target: '/t' }, /must be a path/);
  assert.equal(validateProfile({ source: '/a/b/', target: '/t//' }, 'posix').profile.target, '/t');
});

test('target equal to, or containing, the source is refused', () => {
  rejects({ source: '/data', target: '/data' }, /is the source itself/);
  rejects({ source: '/data/project', target: '/data' }, /inside the target/);
  rejects({ source: 'C:\\Work', target: 'c:\\work' }, /is the source itself/, 'win32');
});

test('a target inside the source is excluded automatically, and the user is told', () => {
  const { profile, notes } = validateProfile({ source: '/data', target: '/data/backups/ring' }, 'posix');
  assert.deepEqual(profile.excludes, ['/backups/ring/']);
  assert.match(notes[0]!, /excluded from the backup automatically/);
});

test('slot counts out of range', () => {
  for (const slots of [0, -1, 1e9, Number.NaN, 2.5, '10^9', 'many', true]) rejects({ ...ok, slots }, /slot count/);
  assert.equal(validateProfile({ ...ok, slots: '8' }, 'posix').profile.slots, 8);
  assert.equal(validateProfile({ ...ok, slots: 1 }, 'posix').profile.slots, 1);
});

test('snapshot methods', () => {
  rejects({ ...ok, snapshot: 'zfs' }, /not known/);
  assert.equal(validateProfile({ ...ok, snapshot: 'btrfs' }, 'posix').profile.snapshot, 'btrfs');
});

test('extra rsync arguments that break the ring are refused with the reason', () => {
  rejects({ ...ok, rsyncArgs: ['--inplace'] }, /shared inode/);
  rejects({ ...ok, rsyncArgs: ['--append'] }, /shared inode/);
  rejects({ ...ok, rsyncArgs: ['--link-dest=/x'] }, /chooses the --link-dest/);
  rejects({ ...ok, rsyncArgs: ['--remove-source-files'] }, /delete your source/);
  rejects({ ...ok, rsyncArgs: ['-n'] }, /dry run/);
  rejects({ ...ok, rsyncArgs: ['/etc'] }, /not an option/);
  for (const arg of ['--remove-sent-files', '-f- *', '-F', '--log-format=%n', '-i', '--existing', '--no-r', '--ignore-existing', '--max-delete=1', '-vHa']) {
    rejects({ ...ok, rsyncArgs: [arg] }, /not one Shadow Slots allows|not allowed/);
  }
  assert.deepEqual(validateProfile({ ...ok, rsyncArgs: ['--no-specials', '-H', '-HAX', '--bwlimit=4000', '--chmod=D755'] }, 'posix').profile.rsyncArgs, ['--no-specials', '-H', '-HAX', '--bwlimit=4000', '--chmod=D755']);
});

test('exclude patterns are validated', () => {
  rejects({ ...ok, excludes: [''] }, /empty/);
  rejects({ ...ok, excludes: ['a\nb'] }, /line break/);
  rejects({ ...ok, excludes: ['[abc'] }, /without a matching/);
  rejects({ ...ok, excludes: ['*'] }, /whole source/);
  rejects({ ...ok, excludes: ['/'] }, /whole source/);
  rejects({ ...ok, excludes: [' node_modules'] }, /spaces/);
  rejects({ ...ok, excludes: ['- *.log'] }, /filter-rule prefix/);
  rejects({ ...ok, excludes: ['!'] }, /clear every earlier rule/);
  rejects({ ...ok, excludes: 'node_modules' }, /list/);
  assert.deepEqual(validateProfile({ ...ok, excludes: ['node_modules/', '*.tmp', '[ab]c', 'a\\[b'] }, 'posix').profile.excludes, ['node_modules/', '*.tmp', '[ab]c', 'a\\[b']);
});

test('Windows paths (validated on any OS for the helper planner)', () => {
  const { profile } = validateProfile({ source: 'C:\\Users\\dev\\proj', target: '\\\\nas\\backups\\proj' }, 'win32');
  assert.equal(profile.target, '\\\\nas\\backups\\proj');
  rejects({ source: 'C:proj', target: 'D:\\b' }, /not absolute/, 'win32');
  rejects({ source: '\\proj', target: 'D:\\b' }, /not absolute/, 'win32');
});

// Issue 19, defect 5: on POSIX `\` is an ordinary file-name character. Stripping it as a separator
// turned `/mnt/backup x \` into `/mnt/backup x ` — another folder, ending in the space the trim
// check exists to refuse.
test('POSIX paths keep a trailing backslash and backslashes around ".."; Windows strips its own separators', () => {
  assert.equal(validateProfile({ source: '/home/dev/p', target: '/mnt/backup x \\' }, 'posix').profile.target, '/mnt/backup x \\');
  assert.equal(validateProfile({ source: '/home/dev/p', target: '/mnt/b\\\\/' }, 'posix').profile.target, '/mnt/b\\\\');
  assert.equal(validateProfile({ source: '/home/dev/p', target: '/mnt/a\\..\\b' }, 'posix').profile.target, '/mnt/a\\..\\b', 'a\\..\\b is one POSIX name, not a parent reference');
  rejects({ source: '/home/dev/p', target: '/mnt/a/../b' }, /contains "\.\."/);
  assert.equal(validateProfile({ source: 'C:\\src', target: 'D:\\Backups\\proj\\' }, 'win32').profile.target, 'D:\\Backups\\proj');
  assert.equal(validateProfile({ source: 'C:\\src', target: 'D:/Backups/proj//' }, 'win32').profile.target, 'D:\\Backups\\proj');
  rejects({ source: 'C:\\src', target: 'D:\\a\\..\\b' }, /contains "\.\."/, 'win32');
  rejects({ source: 'C:\\src', target: 'D:/a/../b' }, /contains "\.\."/, 'win32');
});

test('only validateProfile makes a Profile: a hand-made object with every field does not type-check', () => {
  const handMade = { name: 'p', source: '/s', target: '/t', slots: 3, excludes: [], snapshot: 'none' as const, rsyncPath: undefined, rsyncArgs: [], filterFile: undefined, targetMode: 'auto' as const, sshPath: undefined };
  // @ts-expect-error The brand: code that takes a Profile never sees unvalidated input (npm run typecheck fails if this line compiles).
  const unchecked: Profile = handMade;
  assert.equal(unchecked.target, '/t');
  const { profile } = validateProfile({ source: '/s', target: '/t', slots: 3, snapshot: 'none' }, 'posix');
  assert.deepEqual({ ...profile }, { ...handMade, excludes: [], name: 's' }, 'the brand exists only for the compiler');
});
