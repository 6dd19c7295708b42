import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guessFlavor, locateWindowsRsync, RSYNC_INSTALL_HINT } from '../../../src/core/windows/rsyncLocate';
import { checkWindowsPath, splitVolume, toRsyncPath } from '../../../src/core/windows/paths';
import { ShadowSlotsError } from '../../../src/core/errors';

const only = (...files: string[]) => {
  const set = new Set(files.map((f) => f.toLowerCase()));
  const asked: string[] = [];
  return { exists: (f: string) => { asked.push(f); return set.has(f.toLowerCase()); }, asked };
};

test('search order: setting, then PATH, then MSYS2, Cygwin, cwRsync folders', () => {
  const all = ['D:\\tools\\rsync.exe', 'E:\\bin\\rsync.exe', 'C:\\msys64\\usr\\bin\\rsync.exe', 'C:\\cygwin64\\bin\\rsync.exe', 'C:\\Program Files\\cwRsync\\bin\\rsync.exe'];
  assert.deepEqual(locateWindowsRsync({ setting: 'D:\\tools\\rsync.exe', pathEnv: 'E:\\bin', ...only(...all) }), { path: 'D:\\tools\\rsync.exe', flavor: 'cygwin', from: 'setting' });
  assert.deepEqual(locateWindowsRsync({ pathEnv: 'C:\\Windows\\System32;relative\\dir;"E:\\bin"', ...only(...all) }), { path: 'E:\\bin\\rsync.exe', flavor: 'cygwin', from: 'PATH' });
  assert.deepEqual(locateWindowsRsync({ pathEnv: '', ...only(...all.slice(2)) }), { path: 'C:\\msys64\\usr\\bin\\rsync.exe', flavor: 'msys2', from: 'MSYS2' });
  assert.deepEqual(locateWindowsRsync({ ...only(...all.slice(3)) }), { path: 'C:\\cygwin64\\bin\\rsync.exe', flavor: 'cygwin', from: 'Cygwin' });
  assert.deepEqual(locateWindowsRsync({ ...only(all[4]!) }), { path: 'C:\\Program Files\\cwRsync\\bin\\rsync.exe', flavor: 'cygwin', from: 'cwRsync' });
  assert.equal(locateWindowsRsync({ flavor: 'msys2', ...only(all[4]!) }).flavor, 'msys2', 'an explicit flavor wins');
});

test('relative PATH entries and System32 are never searched', () => {
  const probe = only();
  assert.throws(() => locateWindowsRsync({ pathEnv: '.;bin;C:\\Windows\\System32;C:\\Users\\me\\AppData\\Local\\Microsoft\\WindowsApps', ...probe }));
  assert.ok(!probe.asked.some((f) => /^(\.|bin)\\|system32|windowsapps/i.test(f)), probe.asked.join(', '));
});

test('nothing found: a preflight error with install instructions', () => {
  try {
    locateWindowsRsync({ pathEnv: 'C:\\x', ...only() });
    assert.fail('expected an error');
  } catch (error) {
    assert.ok(error instanceof ShadowSlotsError);
    assert.equal(error.code, 'preflight');
    assert.equal(error.hint, RSYNC_INSTALL_HINT);
    assert.match(error.hint!, /pacman -S rsync/);
    assert.match(error.hint!, /Cygwin/);
    assert.match(error.hint!, /cwRsync/);
  }
  assert.throws(() => locateWindowsRsync({ setting: 'D:\\missing\\rsync.exe', ...only() }), /configured rsync D:\\missing\\rsync.exe does not exist/);
});

test('flavor guess from the folder', () => {
  assert.equal(guessFlavor('C:\\msys64\\usr\\bin\\rsync.exe'), 'msys2');
  assert.equal(guessFlavor('C:\\Program Files\\Git\\usr\\bin\\rsync.exe'), 'msys2');
  assert.equal(guessFlavor('C:\\cygwin64\\bin\\rsync.exe'), 'cygwin');
  assert.equal(guessFlavor('C:\\ProgramData\\chocolatey\\lib\\rsync\\tools\\bin\\rsync.exe'), 'cygwin');
});

test('path conversion for Cygwin/cwRsync and MSYS2', () => {
  assert.equal(toRsyncPath('C:\\Users\\Ünï Code\\R&D 100%', 'cygwin'), '/cygdrive/c/Users/Ünï Code/R&D 100%');
  assert.equal(toRsyncPath('C:\\Users\\Ünï Code\\R&D 100%', 'msys2'), '/c/Users/Ünï Code/R&D 100%');
  assert.equal(toRsyncPath('D:\\', 'cygwin'), '/cygdrive/d');
  assert.equal(toRsyncPath('d:/mixed/slashes/', 'msys2'), '/d/mixed/slashes');
  assert.equal(toRsyncPath('\\\\nas\\share\\dir', 'cygwin'), '//nas/share/dir');
  assert.equal(toRsyncPath('\\\\nas\\share', 'msys2'), '//nas/share');
  assert.deepEqual(splitVolume('c:\\Users\\me\\src'), { volume: 'C:\\', relative: 'Users\\me\\src' });
  assert.deepEqual(splitVolume('D:\\'), { volume: 'D:\\', relative: '' });
  assert.throws(() => splitVolume('\\\\nas\\share\\x'), /not on a local drive/);
  assert.throws(() => checkWindowsPath('\\\\?\\C:\\x'), /device prefix/);
  assert.throws(() => checkWindowsPath('C:\\a*b'), /does not allow/);
  assert.throws(() => checkWindowsPath('/posix/path'), /not an absolute Windows path/);
});
