import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRemoteTarget, looksRemote, parseRemoteTarget, remoteHostLabel } from '../../../src/core/remoteTarget';
import { validateProfile } from '../../../src/core/profile';
import { ShadowSlotsError } from '../../../src/core/errors';

test('both spellings of a remote target parse to the same parts', () => {
  assert.deepEqual(parseRemoteTarget('ssh://backup@nas.local:2222/srv/backups/laptop'), { user: 'backup', host: 'nas.local', port: 2222, path: '/srv/backups/laptop' });
  assert.deepEqual(parseRemoteTarget('ssh://nas/srv/b'), { user: null, host: 'nas', port: null, path: '/srv/b' });
  assert.deepEqual(parseRemoteTarget('backup@nas:/srv/b/'), { user: 'backup', host: 'nas', port: null, path: '/srv/b' });
  assert.deepEqual(parseRemoteTarget('nas:/srv//b/./c'), { user: null, host: 'nas', port: null, path: '/srv/b/c' });
  assert.deepEqual(parseRemoteTarget('ssh://u@[2001:db8::1]:22/x'), { user: 'u', host: '2001:db8::1', port: 22, path: '/x' });
  assert.deepEqual(parseRemoteTarget('[::1]:/x'), { user: null, host: '::1', port: null, path: '/x' });
});

test('hostile folder names on the server are kept literally (no %-decoding, no shell meaning)', () => {
  for (const name of ['with space', "it's", '$(touch x)', '`id`', 'a;b', 'a&b', '100%', '%41', 'back\\slash', 'ünïcødé ✓', '#x', '*']) {
    assert.equal(parseRemoteTarget(`ssh://h/srv/${name}`)!.path, `/srv/${name}`, name);
    assert.equal(parseRemoteTarget(`host:/srv/${name}`)!.path, `/srv/${name}`, name);
  }
});

test('local paths are never taken for remote targets', () => {
  for (const local of ['/mnt/backup', '/mnt/a:b', './x:y', 'C:\\Backups', 'C:/Backups', 'd:', '\\\\server\\share\\x', 'relative/dir', 'dir']) {
    assert.equal(looksRemote(local), false, local);
    assert.equal(parseRemoteTarget(local), null, local);
  }
});

function rejects(text: string, pattern: RegExp): void {
  assert.throws(() => parseRemoteTarget(text), (e: unknown) => e instanceof ShadowSlotsError && e.code === 'invalid-input' && pattern.test(e.message), text);
}

test('bad remote targets are refused with what to write instead', () => {
  rejects('nas:relative/path', /not absolute/);
  rejects('ssh://nas', /no folder/);
  rejects('ssh://nas:99999/x', /port/);
  rejects('ssh://nas:0/x', /port/);
  rejects('ssh://nas:abc/x', /host/);
  rejects('-oProxyCommand=evil:/x', /host/);
  rejects('ssh://-oProxyCommand=x/y', /host/);
  rejects('-l@nas:/x', /user name/);
  rejects('us er@nas:/x', /user name/);
  rejects('ssh://h$(x)/y', /host/);
  rejects('nas:/a/../b', /\.\./);
  rejects('nas:/a\nb', /line break/);
  rejects('nas:/a/ ', /spaces/);
  rejects('[zz]:/x', /IPv6/);
  rejects('nas:2222:/x', /not absolute/);
  // A one-letter host reads as a Windows drive: written with a user or as ssh:// it is remote.
  assert.equal(parseRemoteTarget('c:/x'), null);
  assert.equal(parseRemoteTarget('u@c:/x')!.host, 'c');
});

test('format and label: the ssh:// form when a port is needed', () => {
  assert.equal(formatRemoteTarget(parseRemoteTarget('ssh://u@h:2/x y')!), 'ssh://u@h:2/x y');
  assert.equal(formatRemoteTarget(parseRemoteTarget('ssh://u@h/x')!), 'u@h:/x');
  assert.equal(formatRemoteTarget(parseRemoteTarget('ssh://[::1]:2/x')!), 'ssh://[::1]:2/x');
  assert.equal(remoteHostLabel(parseRemoteTarget('ssh://u@h:2/x')!), 'u@h:2');
});

test('a profile accepts a remote target (normalised) and never compares it with the local source', () => {
  const { profile } = validateProfile({ source: '/srv/b', target: 'ssh://me@server:22/srv/b' });
  assert.equal(profile.target, 'ssh://me@server:22/srv/b');
  assert.equal(validateProfile({ source: '/home/x', target: 'me@server:/srv/b/' }).profile.target, 'me@server:/srv/b');
  assert.equal(validateProfile({ source: 'C:\\src', target: 'me@server:/srv/b' }, 'win32').profile.target, 'me@server:/srv/b');
  assert.equal(validateProfile({ source: 'C:\\src', target: 'C:\\ring' }, 'win32').profile.target, 'C:\\ring');
  assert.throws(() => validateProfile({ source: '/x', target: 'server:rel' }), /not absolute/);
  assert.equal(validateProfile({ source: '/x', target: 'host:/y', sshPath: '/usr/bin/ssh' }).profile.sshPath, '/usr/bin/ssh');
  assert.throws(() => validateProfile({ source: '/x', target: 'host:/y', sshPath: 'ssh' }), /not absolute/);
});
