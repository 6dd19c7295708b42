// Issue 15, the elevated Windows helper's run to a ring on a server. helper.ps1 cannot run here
// (review M6): these tests drive a TypeScript model of its run (test/helpers/helperServerRun.ts)
// that sends the scripts of src/core/serverScripts.ts (helper.ps1 holds the same bytes and
// mirrors the functions; golden pairs), framed as the helper frames them, in helper.ps1's order
// (pinned by a unit test), through the helper's own ssh_config (helperSshConfig) and session argv
// to a real sshd, with dash and busybox ash as the server's sh. They show the scripts make and
// repair a ring the engine reads, and the reverse, and that the locks exclude each other; they do
// not run helper.ps1's own PowerShell between the scripts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { ShadowSlotsError } from '../../src/core/errors';
import { validateProfile } from '../../src/core/profile';
import { runBackup } from '../../src/engine/backup';
import { listRing } from '../../src/engine/list';
import { verifySlot } from '../../src/engine/verify';
import { openTarget } from '../../src/platform/target/remoteHosts';
import { HelperSession, HelperStop, helperConfig, helperServerBackup, lockServerRing, serverPaths } from '../helpers/helperServerRun';
import { HOSTILE_NAMES } from '../helpers/hostileNames';
import { SERVER_KINDS, startSshd, sshdUnavailable, useSshdEnv, type TestSshd } from '../helpers/sshd';
import { tempDir } from '../helpers/tmp';
import { helperSessionArgv } from '../../src/core/windows/sshConfig';

/**
 * A ring folder whose name holds what the helper's rsync arguments may hold (a `"` or a control
 * character is refused by the planner and helper.ps1 before anything runs). The `touch` names an
 * absolute file in the test's folder (review M4): a relative one would land in the server shell's
 * working folder (the account's home), where the check never looks. The `/` in it makes the ring a
 * few folders deep, which changes nothing for a quoted path.
 */
const ringName = (dir: string) => `ring $(touch ${dir}/pwned) 'q' \`id\` a;b & c 100% %PATH% back\\slash ü 日本`;

async function sourceTree(root: string): Promise<string[]> {
  await mkdir(root, { recursive: true });
  const made: string[] = [];
  for (const name of HOSTILE_NAMES) {
    if (name === '' || name.includes('/') || name === '.' || name === '..') continue;
    await writeFile(join(root, name), `content of ${JSON.stringify(name)}`);
    made.push(name);
  }
  return made;
}

/** Retries `fn` while it fails (a server shell takes a moment to end after its connection). */
async function eventually<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try { return await fn(); } catch (error) { if (i >= 50) throw error; }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function openSession(sshd: TestSshd, work: string): Promise<HelperSession> {
  const config = await helperConfig(sshd, work);
  return HelperSession.open('/usr/bin/ssh', helperSessionArgv(config, '127.0.0.1'));
}

for (const server of SERVER_KINDS) {
  test(`${server} server: the helper's scripts make a ring the engine reads, and build on the engine's slots`, { skip: sshdUnavailable(server) ?? false, timeout: 240_000 }, async (t) => {
    const sshd = await startSshd(t, { server });
    useSshdEnv(t, sshd);
    const dir = await tempDir(t);
    const ring = join(dir, ringName(dir));
    await mkdir(ring, { recursive: true });
    const source = join(dir, 'data', 'src');
    const names = await sourceTree(source);
    const setup = { sshd, ring, work: join(dir, 'work'), source, slots: 2 };
    const target = sshd.target(ring);

    const first = await helperServerBackup(setup);
    assert.equal(first.linkDest, null);
    assert.equal(existsSync(join(dir, 'pwned')), false, 'no value reached a shell unquoted');
    for (const name of names) assert.equal(await readFile(join(ring, '0', name), 'utf8'), await readFile(join(source, name), 'utf8'), JSON.stringify(name));

    await writeFile(join(source, 'day 2.txt'), 'day 2');
    const second = await helperServerBackup(setup);
    assert.equal(second.linkDest, first.id, '--link-dest names slot 0');
    assert.equal(statSync(join(ring, '0', 'plain')).ino, statSync(join(ring, '1', 'plain')).ino, 'an unchanged file is one inode in both slots (--link-dest through the planned -e)');

    await writeFile(join(source, 'day 3.txt'), 'day 3');
    const third = await helperServerBackup(setup);
    const meta = join(ring, '.shadow-slots');
    assert.deepEqual(readdirSync(join(meta, 'trash')), [], 'the dropped slot was deleted');
    assert.equal(existsSync(join(meta, 'manifests', `${first.id}.json`)), false, 'with its manifest');
    assert.equal(existsSync(join(meta, 'lock')), false, 'the lock is released');
    assert.deepEqual(readdirSync(join(meta, 'incoming')), []);
    assert.match(await readFile(join(meta, 'changes', `${third.id}.log`), 'utf8'), /^[<>]f\+{9,10} day 3\.txt$/m, 'the change log reached the server');

    // The engine reads the helper's ring over SSH.
    const listing = await listRing(target);
    assert.deepEqual(listing.slots.map((s) => [s.number, s.state, s.manifest?.id, s.manifest?.snapshot.method]), [[0, 'complete', third.id, 'vss'], [1, 'complete', second.id, 'vss']]);
    assert.equal(listing.slots[0]!.manifest?.linkDest, second.id);
    const unverified = await verifySlot(target, 0);
    assert.equal(unverified.verified, false, 'no checksums recorded by the helper, and verify says so');
    assert.match(unverified.note ?? '', /No checksums were recorded/);

    // The engine backs up into the helper's ring, linking against the helper's slot 0 …
    const profile = validateProfile({ source, target, snapshot: 'none', slots: 2 }).profile;
    await writeFile(join(source, 'day 4.txt'), 'day 4');
    const engine = await runBackup({ profile });
    assert.equal(engine.outcome, 'complete');
    assert.equal(engine.slot.manifest?.linkDest, third.id);
    assert.equal((await verifySlot(target, 0)).ok, true);
    assert.equal(statSync(join(ring, '0', 'plain')).ino, statSync(join(ring, '1', 'plain')).ino);

    // … and the helper on the engine's.
    await writeFile(join(source, 'day 5.txt'), 'day 5');
    const fifth = await helperServerBackup(setup);
    assert.equal(fifth.linkDest, engine.slot.manifest?.id);
    const after = await listRing(target);
    assert.deepEqual(after.slots.map((s) => s.manifest?.id), [fifth.id, engine.slot.manifest?.id]);
    assert.equal((await verifySlot(target, 1)).ok, true, 'the engine\'s slot, now slot 1, still verifies');
    assert.equal(statSync(join(ring, '0', 'plain')).ino, statSync(join(ring, '1', 'plain')).ino);
    assert.equal(existsSync(join(dir, 'pwned')), false);
  });

  test(`${server} server: every script keeps hostile values literal (paths and file text)`, { skip: sshdUnavailable(server) ?? false, timeout: 120_000 }, async (t) => {
    const sshd = await startSshd(t, { server });
    const dir = await tempDir(t);
    await mkdir(join(dir, 'work'));
    const s = await openSession(sshd, join(dir, 'work'));
    t.after(() => s.close());
    // HOSTILE_NAMES' own `$(touch /tmp/pwned)` holds a `/`, so it is no file name here; these touch
    // relative names, which would land in the server shell's working folder, the account's home (review M4).
    const pwned = existsSync('/tmp/pwned');
    const home = join(userInfo().homedir, 'pwned');
    const homePwned = existsSync(home);
    for (const [i, name] of [...HOSTILE_NAMES, '$(touch pwned)', 'a;touch pwned;b', '`touch pwned`', 'x\n touch pwned'].entries()) {
      if (name === '' || name.includes('/') || name === '.' || name === '..') continue;
      const root = join(dir, `r${i} ${name}`);
      await mkdir(root);
      const prep = await s.exec('prepare', [root]);
      assert.match(prep.output, /^rsync rsync\s+version/m, JSON.stringify(name));
      assert.ok(existsSync(join(root, '.shadow-slots', 'incoming')), JSON.stringify(name));
      const p = serverPaths(root);
      // write/read/append round-trip the text byte for byte; the temp file is gone.
      const text = `{"name": ${JSON.stringify(name)}}\n${name}\n`;
      await s.exec('write', [p.ringFile, text, 'abcdef01']);
      assert.equal(await readFile(p.ringFile, 'utf8'), text, JSON.stringify(name));
      assert.equal((await s.exec('read', [p.ringFile])).output, text);
      await s.exec('append', [p.ringFile, name]);
      assert.equal(await readFile(p.ringFile, 'utf8'), text + name);
      assert.deepEqual(readdirSync(p.meta).filter((n) => n.includes('.tmp-')), []);
      // Slot folders named with the value move as a rotation moves them; the lock round-trips.
      await mkdir(join(p.incoming, 'id-1'));
      await writeFile(join(p.incoming, 'id-1', name), name);
      assert.equal((await s.exec('incoming', [p.incoming])).output, 'id-1\n');
      await s.exec('rotate', [`${p.incoming}/id-1`, `${root}/0`]);
      assert.equal(await readFile(join(root, '0', name), 'utf8'), name);
      assert.equal((await s.exec('prepare', [root])).output.split('\n')[0], 'slot 0');
      const lock = await lockServerRing(s, p);
      assert.equal(await readFile(p.lock, 'utf8'), `${lock}\n`);
      await s.exec('unlock', [p.lock, lock]);
      assert.equal(existsSync(p.lock), false);
      await s.exec('move', [`${root}/0`, `${p.trash}/x ${name}`]);
      await writeFile(join(p.manifests, `x ${name}.json`), '{}');
      assert.equal((await s.exec('purge', [p.meta])).output, 'removed\n');
      assert.deepEqual(readdirSync(p.trash), []);
      assert.equal(existsSync(join(p.manifests, `x ${name}.json`)), false, 'the dropped slot\'s manifest is removed with it');
      assert.equal((await s.exec('read', [join(root, 'nothing')], [3])).status, 3);
    }
    assert.equal(existsSync('/tmp/pwned'), pwned, 'no value reached a shell unquoted');
    assert.equal(existsSync(home), homePwned, 'no value reached a shell unquoted (relative touch)');
    assert.equal((await s.exec('prepare', [join(dir, 'missing')], [3])).status, 3, 'a missing ring folder is never created');
    // Review L11: a linked metadata folder is refused by prepare and a linked trash is never emptied;
    // purge removes every space record of a dropped slot, as the engine's forgetSpace does.
    const linked = join(dir, 'linked');
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(join(linked, '.shadow-slots'), { recursive: true });
    await mkdir(join(elsewhere, 'keep'), { recursive: true });
    await symlink(elsewhere, join(linked, '.shadow-slots', 'trash'));
    assert.equal((await s.exec('prepare', [linked], [7])).status, 7, 'a linked trash is refused');
    assert.equal((await s.exec('purge', [join(linked, '.shadow-slots')])).output, '');
    assert.deepEqual(readdirSync(elsewhere), ['keep'], 'nothing where the linked trash points was deleted');
    const spaced = join(dir, 'spaced');
    await mkdir(spaced);
    await s.exec('prepare', [spaced]);
    const sm = serverPaths(spaced).meta;
    await mkdir(join(sm, 'space'));
    await mkdir(join(sm, 'trash', 'gone-1'));
    for (const f of ['gone-1~a.json', 'gone-1~b.tmp', 'gone-1~', 'other~a.json']) await writeFile(join(sm, 'space', f), '{}');
    assert.equal((await s.exec('purge', [sm])).output, 'removed\n');
    assert.deepEqual(readdirSync(join(sm, 'space')), ['other~a.json']);
    assert.equal(existsSync(join(dir, 'missing')), false);
  });
}

test('the helper\'s lock and the engine\'s exclude each other; a holder that is gone is stale to both', { skip: sshdUnavailable() ?? false, timeout: 120_000 }, async (t) => {
  const sshd = await startSshd(t);
  useSshdEnv(t, sshd);
  const dir = await tempDir(t);
  const ring = join(dir, ringName(dir));
  await mkdir(join(ring, '.shadow-slots'), { recursive: true });
  const p = serverPaths(ring);
  const target = sshd.target(ring);

  // The engine holds it: the helper is refused (exit 4) and names the holder.
  const engine = await openTarget(target);
  t.after(() => engine.release());
  const held = await engine.host.acquireLock(p.lock, 'engine test');
  const helper = await openSession(sshd, dir);
  t.after(() => helper.kill());
  await assert.rejects(lockServerRing(helper, p), (e: unknown) => e instanceof HelperStop && e.exit === 4 && /Another backup of this ring is running: process \d+/.test(e.message));
  await held.release();

  // The helper holds it: the engine is refused, whoever asks.
  const text = await lockServerRing(helper, p);
  assert.equal(JSON.parse(await readFile(p.lock, 'utf8')).pid, helper.info.pid, 'the holder is the session shell on the server');
  await assert.rejects(engine.host.acquireLock(p.lock, 'engine test'), (e: unknown) => e instanceof ShadowSlotsError && e.code === 'locked');
  assert.equal((await engine.host.lockHolder(p.lock))?.live, true);

  // The helper killed (or cut off): its shell ends with the connection, and the engine takes over.
  await helper.kill();
  let live = true;
  for (let i = 0; i < 50 && live; i++) {
    live = (await engine.host.lockHolder(p.lock))?.live ?? false;
    if (live) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(live, false, 'the helper\'s lock is stale once its session shell is gone');
  const taken = await engine.host.acquireLock(p.lock, 'engine test');
  assert.equal(taken.recoveredStale?.pid, JSON.parse(text).pid);

  // The engine's connection gone without a release: the helper takes the stale lock over.
  await engine.host.close();
  const second = await openSession(sshd, dir);
  t.after(() => second.close());
  const mine = await eventually(() => lockServerRing(second, p));
  assert.equal(JSON.parse(await readFile(p.lock, 'utf8')).pid, second.info.pid);
  await second.exec('unlock', [p.lock, mine]);

  // A lock that is not JSON: young, someone is writing it (refused); old, taken over.
  await writeFile(p.lock, 'not json');
  await assert.rejects(lockServerRing(second, p), (e: unknown) => e instanceof HelperStop && e.exit === 4);
  await utimes(p.lock, new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
  const over = await lockServerRing(second, p);
  await second.exec('unlock', [p.lock, over]);
  // unlock removes only this run's own lock.
  await writeFile(p.lock, '{"pid":1,"host":"elsewhere"}\n');
  await second.exec('unlock', [p.lock, over]);
  assert.equal(existsSync(p.lock), true);
});

test('a helper run killed after journaling its rotation, or during the copy, is repaired by the next run (helper or engine)', { skip: sshdUnavailable() ?? false, timeout: 240_000 }, async (t) => {
  const sshd = await startSshd(t);
  useSshdEnv(t, sshd);
  const dir = await tempDir(t);
  const ring = join(dir, ringName(dir));
  await mkdir(ring, { recursive: true });
  const source = join(dir, 'data', 'src');
  await sourceTree(source);
  const setup = { sshd, ring, work: join(dir, 'work'), source, slots: 3 };
  const target = sshd.target(ring);
  const first = await helperServerBackup(setup);

  // Killed between the journal and the first rename: the session (and the lock's holder) is gone.
  let crashed = '';
  await assert.rejects(helperServerBackup(setup, {
    beforeRotation: async (s) => {
      crashed = JSON.parse(await readFile(join(ring, '.shadow-slots', 'journal.json'), 'utf8')).rotation.newId;
      await s.kill();
      return 'stop';
    },
  }), HelperStop);
  assert.equal(existsSync(join(ring, '.shadow-slots', 'lock')), true, 'a killed run leaves its lock');
  // The engine's next run finishes the helper's rotation and takes the stale lock over.
  const engine = await eventually(() => runBackup({ profile: validateProfile({ source, target, snapshot: 'none', slots: 3 }).profile }));
  assert.equal(engine.outcome, 'complete');
  assert.deepEqual((await listRing(target)).slots.map((s) => s.manifest?.id), [engine.slot.manifest?.id, crashed, first.id]);

  // Again, and this time the helper repairs it.
  await assert.rejects(helperServerBackup(setup, { beforeRotation: async (s) => { await s.kill(); return 'stop'; } }), HelperStop);
  const journaled = JSON.parse(await readFile(join(ring, '.shadow-slots', 'journal.json'), 'utf8')).rotation.newId as string;
  const next = await eventually(() => helperServerBackup(setup));
  assert.deepEqual((await listRing(target)).slots.map((s) => s.manifest?.id), [next.id, journaled, engine.slot.manifest?.id]);
  assert.equal(JSON.parse(await readFile(join(ring, '.shadow-slots', 'journal.json'), 'utf8')).rotation, null);

  // The next run resumes an unfinished copy under its own id.
  let copied = '';
  await assert.rejects(helperServerBackup(setup, {
    // Stopped after the copy, before its manifest said complete (the lock released as after a cancel).
    afterCopy: async () => { copied = readdirSync(join(ring, '.shadow-slots', 'incoming'))[0]!; throw new HelperStop(1, 'killed (test)'); },
  }), HelperStop);
  assert.ok(copied !== '');
  const resumed = await helperServerBackup(setup);
  assert.equal(resumed.resumed, copied);
  assert.deepEqual(readdirSync(join(ring, '.shadow-slots', 'incoming')), []);
  assert.equal(existsSync(join(ring, '.shadow-slots', 'manifests', `${copied}.json`)), false, 'the abandoned manifest is removed');
  const final = await listRing(target);
  assert.deepEqual(final.slots.map((s) => [s.number, s.state]), [[0, 'complete'], [1, 'complete'], [2, 'complete']]);
  assert.equal(final.slots[0]!.manifest?.id, resumed.id);
});

/** The per-connection sshd process serving a session whose server shell is `shellPid`: its parent, checked to descend from the test's sshd. */
function sessionSshd(shellPid: number, sshdPid: number): number {
  const parentOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
  const child = parentOf(shellPid);
  for (let p = child; p > 1; p = parentOf(p)) if (p === sshdPid) return child;
  throw new Error(`process ${child} is not one of the test's sshd`);
}
function treeBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? treeBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}

test('review 15b finding 2: the session holding the lock lost during the copy (its sshd child killed) stops rsync at once; nothing complete changes, the next run resumes', { skip: sshdUnavailable() ?? false, timeout: 240_000 }, async (t) => {
  const sshd = await startSshd(t);
  useSshdEnv(t, sshd);
  const dir = await tempDir(t);
  const ring = join(dir, 'ring');
  await mkdir(ring, { recursive: true });
  const source = join(dir, 'data', 'src');
  await sourceTree(source);
  const setup = { sshd, ring, work: join(dir, 'work'), source, slots: 3 };
  const first = await helperServerBackup(setup);
  const complete = () => JSON.stringify([readFileSync(join(ring, '.shadow-slots', 'ring.json'), 'utf8'), readdirSync(join(ring, '0')).sort().map((n) => [n, readFileSync(join(ring, '0', n), 'utf8')])]);
  const before = complete();

  // 4 MB at 128 kB/s: the copy would last about 30 s.
  await writeFile(join(source, 'big.bin'), Buffer.alloc(4 * 1024 * 1024, 7));
  let killedAt = 0;
  let grown = -1;
  const stopped = helperServerBackup({ ...setup, options: ['--bwlimit=128'] }, {
    duringCopy: async (s) => {
      const incoming = join(ring, '.shadow-slots', 'incoming');
      // Once rsync is writing into the new slot, the session's connection (not rsync's) is cut.
      for (let i = 0; i < 300 && !(readdirSync(incoming).length > 0 && treeBytes(incoming) > 0); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(treeBytes(incoming) > 0, 'rsync was writing');
      killedAt = Date.now();
      process.kill(sessionSshd(s.info.pid, sshd.pid), 'SIGKILL');
    },
  });
  await assert.rejects(stopped, (e: HelperStop) => e instanceof HelperStop && /connection holding the ring's lock was lost; rsync was stopped and nothing was rotated/.test(e.message));
  const took = Date.now() - killedAt;
  assert.ok(took < 10_000, `rsync stopped ${took} ms after the session was lost (the copy would take ~30 s)`);
  // Nothing writes into the ring any more: the server-side rsync ended with its peer.
  const incoming = join(ring, '.shadow-slots', 'incoming');
  await new Promise((r) => setTimeout(r, 1000));
  grown = treeBytes(incoming);
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(treeBytes(incoming), grown, 'nothing is written after the stop');
  assert.equal(complete(), before, 'ring.json and the complete slot 0 are unchanged');
  assert.equal(JSON.parse(readFileSync(join(ring, '.shadow-slots', 'journal.json'), 'utf8')).rotation ?? null, null, 'nothing was journaled');

  // The lock's holder is gone: the next run takes it over, resumes the copy and rotates.
  const next = await eventually(() => helperServerBackup(setup));
  assert.ok(next.resumed !== null, 'the unfinished copy is resumed');
  const after = await listRing(sshd.target(ring));
  assert.deepEqual(after.slots.map((s) => s.manifest?.id), [next.id, first.id]);
  assert.equal(readFileSync(join(ring, '0', 'big.bin')).length, 4 * 1024 * 1024);
});
