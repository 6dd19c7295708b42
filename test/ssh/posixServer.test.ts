// What the server must have (issue 15): sshd, rsync ≥ 3.1 and a POSIX sh with its utilities. Every
// file operation of the remote host runs here against three real servers: Debian's GNU tools with
// dash, a busybox-only PATH (busybox ash, as on a NAS), and busybox without the applets POSIX does
// not define (no stat, no sha256sum). The answers must equal what this machine's own file system
// calls say about the very same files (the server is on 127.0.0.1), for hostile names too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, statfsSync } from 'node:fs';
import { link, mkdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openTarget } from '../../src/platform/target/remoteHosts';
import type { SshHost } from '../../src/platform/target/sshHost';
import { localHost } from '../../src/platform/target/localHost';
import { HOSTILE_NAMES } from '../helpers/hostileNames';
import { SERVER_KINDS, startSshd, sshdUnavailable, useSshdEnv } from '../helpers/sshd';
import { tempDir } from '../helpers/tmp';

const NAMES = HOSTILE_NAMES.filter((n) => n !== '' && !n.includes('/') && n !== '.' && n !== '..');
/** Names that look like what the parsers split on. */
const TRICKY = ['a -> b', 'ends with ->', 'x\\#012y', 'x\\#134z', ' leading', 'trailing ', 'two\n\nlines', 'cr\rhere'];

for (const server of SERVER_KINDS) {
  test(`${server} server: listings, details, walks, checksums, space and temp files equal this machine's own view`, { skip: sshdUnavailable(server) ?? false, timeout: 120_000 }, async (t) => {
    const sshd = await startSshd(t, { server });
    useSshdEnv(t, sshd);
    const dir = await tempDir(t);
    const tree = join(dir, 'tree');
    await mkdir(join(tree, 'sub dir'), { recursive: true });
    const names = [...NAMES, ...TRICKY];
    for (const [i, name] of names.entries()) {
      await writeFile(join(tree, name), `content ${i} of ${JSON.stringify(name)}\n`.repeat(i + 1));
      // Whole seconds and a fraction: rsync lists whole seconds, and so must we.
      await utimes(join(tree, name), 1_600_000_000 + i * 3600 + 0.25, 1_600_000_000 + i * 3600 + 0.75);
    }
    await writeFile(join(tree, 'sub dir', 'nested'), 'nested');
    // Symlinks whose names and targets hold the listing's own separator, and a dangling one.
    await symlink('x -> y', join(tree, 'li -> nk'));
    await symlink('target\nwith newline', join(tree, 'link\nname'));
    await symlink('../nowhere', join(tree, 'dangling'));
    // Hard links: two names of one file, and a file with one link.
    await link(join(tree, 'plain'), join(tree, 'sub dir', 'plain again'));

    const opened = await openTarget(sshd.target(dir));
    t.after(() => opened.release());
    const host = opened.host as SshHost;

    // The server really is the one asked for.
    const tools = await host.run('sh', ['-c', 'for c in find ls df sha256sum stat rsync awk; do printf "%s=%s\\n" "$c" "$(command -v "$c")"; done; readlink /proc/$$/exe || ls -l /proc/$$/exe']);
    if (server === 'gnu') {
      assert.match(tools.stdout, /^find=\/usr\/bin\/find$/m);
    } else {
      for (const c of ['find', 'ls', 'df', 'awk']) assert.match(tools.stdout, new RegExp(`^${c}=${sshd.binDir}/${c}$`, 'm'), tools.stdout);
      assert.match(tools.stdout, /busybox/, 'the shell is busybox ash');
      if (server === 'busybox-bare') {
        assert.match(tools.stdout, /^sha256sum=$/m);
        assert.match(tools.stdout, /^stat=$/m);
      }
    }

    // list: every name, kind, size and whole-second mtime.
    const listed = await host.list(tree);
    const expected = readdirSync(tree).map((name) => {
      const s = lstatSync(join(tree, name));
      return { name, kind: s.isDirectory() ? 'folder' : s.isFile() ? 'file' : s.isSymbolicLink() ? 'symlink' : 'other', size: s.isDirectory() ? 0 : s.size, mtimeMs: Math.floor(s.mtimeMs / 1000) * 1000 };
    });
    const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    assert.deepEqual([...listed].sort(byName), expected.sort(byName));

    // listNames: the same names and kinds from the shell's own globbing, dot files and names that
    // are glob patterns themselves included; nothing for a folder that does not exist.
    const kindsOnly = (entries: Array<{ name: string; kind: string }>) => entries.map(({ name, kind }) => ({ name, kind })).sort(byName);
    assert.deepEqual(kindsOnly(await host.listNames(tree)), kindsOnly(expected));
    const dots = join(dir, 'dots');
    await mkdir(join(dots, '..folder'), { recursive: true });
    for (const name of ['.hidden', '..double', '...', '.\nnl', '.*', '*']) await writeFile(join(dots, name), name);
    await symlink('..folder', join(dots, '.to folder'));
    assert.deepEqual(kindsOnly(await host.listNames(dots)), kindsOnly(await localHost.listNames(dots)));
    assert.deepEqual(kindsOnly(await localHost.listNames(dots)).map((e) => `${e.kind} ${e.name}`),
      ['file *', 'file .\nnl', 'file .*', 'file ...', 'file ..double', 'folder ..folder', 'file .hidden', 'symlink .to folder']);
    assert.deepEqual(await host.listNames(join(dots, '..folder')), []);
    assert.deepEqual(await host.listNames(join(dir, 'no such folder')), []);
    // A symlink to a folder is followed, as readdir follows it.
    assert.deepEqual(kindsOnly(await host.listNames(join(dots, '.to folder'))), []);

    // stat: kind, size, time, inode and link count; the same file system for every path of it.
    for (const name of [...names, 'li -> nk', 'link\nname', 'dangling', 'sub dir']) {
      const path = join(tree, name);
      const s = lstatSync(path);
      const r = await host.stat(path);
      assert.ok(r, JSON.stringify(name));
      assert.deepEqual({ size: r.kind === 'folder' ? 0 : r.size, mtimeMs: r.mtimeMs, ino: r.ino, nlink: r.nlink },
        { size: s.isDirectory() ? 0 : s.size, mtimeMs: Math.floor(s.mtimeMs / 1000) * 1000, ino: s.ino, nlink: s.nlink }, JSON.stringify(name));
      assert.equal(r.dev, (await host.stat(tree))!.dev);
    }
    assert.equal((await host.stat(join(tree, 'plain')))!.nlink, 2);
    assert.equal(await host.stat(join(tree, 'nothing here')), null);
    assert.notEqual((await host.stat(tree))!.dev, lstatSync(tree).dev, 'a server device never equals a local one (compare checks dev + inode)');

    // walk: every file and symlink with its target, and which files have other links.
    const walked = await host.walk(tree);
    assert.deepEqual(walked.map((e) => e.path), [...names, 'li -> nk', 'link\nname', 'dangling', 'sub dir/nested', 'sub dir/plain again'].sort((a, b) => {
      const x = a.split('/'); const y = b.split('/');
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
      return x.length - y.length;
    }));
    for (const e of walked) {
      const path = join(tree, e.path);
      if (e.kind === 'symlink') assert.equal(e.target, readlinkSync(path), e.path);
      else assert.equal(e.linked, lstatSync(path).nlink > 1, e.path);
      assert.equal(e.size, lstatSync(path).size, e.path);
    }

    // Checksums: on the server where it has sha256sum, streamed here where it has none; equal to Node's.
    const files = walked.filter((e) => e.kind === 'file').map((e) => e.path);
    const hashes = await host.hashFiles(tree, [...files, 'vanished file']);
    for (const f of files) assert.equal(hashes.get(f), createHash('sha256').update(readFileSync(join(tree, f))).digest('hex'), JSON.stringify(f));
    assert.equal(hashes.has('vanished file'), false);

    // Space and the file system.
    const fs = await host.fileSystem(tree);
    const local = await localHost.fileSystem(tree);
    assert.equal(fs.type, local.type);
    assert.equal(fs.totalBytes, Math.floor(statfsSync(tree).blocks * statfsSync(tree).bsize / 1024) * 1024);
    assert.ok(Math.abs(fs.freeBytes - local.freeBytes) < 64 * 1024 * 1024, `${fs.freeBytes} vs ${local.freeBytes}`);
    assert.deepEqual(await host.linkUsage(tree), await localHost.linkUsage(tree));

    // Temp files of atomic writes are removed; a fresh lock draft is kept, an old one removed.
    const meta = join(dir, 'meta');
    await mkdir(meta);
    await writeFile(join(meta, 'ring.json.tmp-123-abcd0123'), 'torn');
    await writeFile(join(meta, 'lock.new-1-aaaaaa'), 'fresh');
    await writeFile(join(meta, 'lock.new-2-bbbbbb'), 'old');
    await utimes(join(meta, 'lock.new-2-bbbbbb'), new Date(Date.now() - 600_000), new Date(Date.now() - 600_000));
    await writeFile(join(meta, 'keep me'), 'x');
    assert.equal(await host.removeTornWrites(meta), 2);
    assert.deepEqual(readdirSync(meta).sort(), ['keep me', 'lock.new-1-aaaaaa']);

    // The lock's holder: an unreadable lock is judged by its age on the server's clock.
    const lock = join(meta, 'lock');
    await writeFile(lock, 'not json');
    assert.equal((await host.lockHolder(lock))?.live, true, 'a lock being written (young) is live');
    await utimes(lock, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    assert.equal((await host.lockHolder(lock))?.live, false, 'an old unreadable lock is stale');

    // A folder the owner cannot enter (mode 000, nested) is opened, then deleted.
    const closed = join(dir, 'closed');
    await mkdir(join(closed, 'a', 'b'), { recursive: true });
    await writeFile(join(closed, 'a', 'b', 'f'), 'x');
    await host.run('chmod', ['000', join(closed, 'a', 'b')]);
    await host.run('chmod', ['000', join(closed, 'a')]);
    await host.makeFoldersAccessible(closed);
    assert.equal(lstatSync(join(closed, 'a', 'b')).mode & 0o700, 0o700);
    await host.removeTree(closed);
    assert.equal(await host.exists(closed), false);
  });
}

test('a ring folder the server cannot read is an error, not an empty listing (the ring would forget its slots)', { skip: sshdUnavailable('busybox') ?? false, timeout: 60_000 }, async (t) => {
  const sshd = await startSshd(t, { server: 'busybox' });
  useSshdEnv(t, sshd);
  const dir = await tempDir(t);
  await mkdir(join(dir, '0'));
  const opened = await openTarget(sshd.target(dir));
  t.after(() => opened.release());
  const host = opened.host as SshHost;
  assert.deepEqual(await host.listNames(dir), [{ name: '0', kind: 'folder' }]);
  // Globbing skips a folder it cannot read in silence; the tests run as root, whom no permission
  // stops, so the server's ls reports what it reports to another user there (EACCES, or EIO on a share).
  await rm(join(sshd.binDir!, 'ls'));
  await writeFile(join(sshd.binDir!, 'ls'), "#!/bin/sh\necho \"ls: can't open '.': Permission denied\" >&2\nexit 1\n", { mode: 0o755 });
  await assert.rejects(host.listNames(dir), /Listing .* failed: ls: can't open '\.': Permission denied/);
});
