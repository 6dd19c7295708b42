// A ring over SSH on the server's own file systems (issue 15): a btrfs copy-on-write ring on a
// loop-mounted btrfs reached over SSH, and a server disk that fills up mid-copy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runBackup } from '../../src/engine/backup';
import { validateProfile } from '../../src/core/profile';
import { listRing } from '../../src/engine/list';
import { verifySlot } from '../../src/engine/verify';
import { ringSpace } from '../../src/engine/space';
import { ShadowSlotsError } from '../../src/core/errors';
import { run } from '../../src/platform/runner';
import { btrfsLoop, btrfsUnavailable } from '../helpers/btrfsLoop';
import { loopFs, loopFsUnavailable } from '../helpers/loopFs';
import { startSshd, sshdUnavailable, useSshdEnv } from '../helpers/sshd';
import { tempDir } from '../helpers/tmp';

/** Bytes of data the file system has allocated, after btrfs has written everything out. */
async function dataUsed(mnt: string): Promise<number> {
  await run('btrfs', ['filesystem', 'sync', mnt]);
  const m = /^Data,[^:]+:\s+Size:\d+, Used:(\d+)/m.exec((await run('btrfs', ['filesystem', 'usage', '-b', mnt])).stdout);
  assert.ok(m);
  return Number(m[1]);
}

test('a btrfs copy-on-write ring on the server, over SSH: read-only subvolume slots, only changed blocks stored, rotation and verify', { skip: sshdUnavailable() ?? btrfsUnavailable() ?? false, timeout: 180_000 }, async (t) => {
  const sshd = await startSshd(t);
  useSshdEnv(t, sshd);
  const dir = await tempDir(t);
  const source = join(dir, 'src');
  await mkdir(source);
  // Random blocks: every block unique, so rsync matches each at its own offset.
  const image = randomBytes(32 * 1024 * 1024);
  await writeFile(join(source, 'disk.img'), image);
  await writeFile(join(source, 'note.txt'), 'v1');
  const mount = await btrfsLoop(t, 400);
  const ringDir = join(mount, 'ring');
  await mkdir(ringDir);
  const profile = validateProfile({ source, target: sshd.target(ringDir), snapshot: 'none', slots: 2, targetMode: 'cow' }).profile;
  const first = await runBackup({ profile });
  assert.equal(first.slot.manifest?.storage?.kind, 'btrfs');
  const usedBefore = await dataUsed(mount);
  // 1 MiB rewritten inside the 32 MiB image: the new slot holds about that much of its own.
  randomBytes(1024 * 1024).copy(image, 8 * 1024 * 1024);
  await writeFile(join(source, 'disk.img'), image);
  await writeFile(join(source, 'note.txt'), 'v2');
  const second = await runBackup({ profile });
  assert.equal(second.outcome, 'complete');
  // The new slot stored about the 1 MiB that changed, not the 32 MiB image.
  const addedMiB = (await dataUsed(mount) - usedBefore) / 1024 / 1024;
  console.log(`# 1 MiB of a 32 MiB image rewritten: the new slot added ${addedMiB.toFixed(2)} MiB on the server's btrfs`);
  assert.ok(addedMiB < 4, `the new slot added ${addedMiB} MiB`);
  const space = await ringSpace(profile.target);
  assert.equal(space[0]!.method, 'btrfs filesystem du (whole extents)', 'space is measured by btrfs on the server');
  await writeFile(join(source, 'note.txt'), 'v3');
  await runBackup({ profile });
  const listing = await listRing(profile.target);
  assert.deepEqual(listing.slots.map((s) => s.number), [0, 1]);
  for (const s of [0, 1]) {
    const path = join(ringDir, String(s));
    assert.equal(statSync(path).ino, 256, `slot ${s} is a subvolume`);
    assert.match((await run('btrfs', ['property', 'get', '-ts', '--', path, 'ro'])).stdout, /ro=true/);
    assert.equal((await verifySlot(profile.target, s)).ok, true);
  }
  assert.deepEqual(readdirSync(join(ringDir, '.shadow-slots', 'trash')), []);
});

test('a full disk on the server: target-full naming the server, previous slots intact, the next run resumes after space is freed', { skip: sshdUnavailable() ?? loopFsUnavailable('mkfs.ext4', 'ext4') ?? false, timeout: 180_000 }, async (t) => {
  const sshd = await startSshd(t);
  useSshdEnv(t, sshd);
  const dir = await tempDir(t);
  const source = join(dir, 'src');
  await mkdir(source);
  await writeFile(join(source, 'small.txt'), 'first');
  const mount = await loopFs(t, 'mkfs.ext4', 32, ['-q', '-m', '0']);
  const ringDir = join(mount, 'ring');
  await mkdir(ringDir);
  const profile = validateProfile({ source, target: sshd.target(ringDir), snapshot: 'none', slots: 3 }).profile;
  assert.equal((await runBackup({ profile })).outcome, 'complete');
  // 40 MiB of incompressible data cannot fit.
  for (let i = 0; i < 5; i++) await writeFile(join(source, `big${i}`), randomBytes(8 * 1024 * 1024));
  const error = await runBackup({ profile }).then(() => null, (e: unknown) => e);
  assert.ok(error instanceof ShadowSlotsError, String(error));
  assert.equal(error.code, 'target-full');
  assert.match(error.message, new RegExp(`The target on ${sshd.user}@127\\.0\\.0\\.1:${sshd.port} is full`));
  assert.match(error.hint ?? '', /Previous slots are intact/);
  const after = await listRing(profile.target);
  assert.deepEqual(after.slots.filter((s) => s.state === 'complete').map((s) => s.number), [0]);
  assert.equal((await verifySlot(profile.target, 0)).ok, true);
  assert.equal(existsSync(join(ringDir, '.shadow-slots', 'lock')), false);
  // Free space: the next run resumes and completes.
  for (let i = 2; i < 5; i++) await rm(join(source, `big${i}`));
  const again = await runBackup({ profile });
  assert.equal(again.outcome, 'complete');
  assert.ok(again.notes.some((n) => /Resuming an unfinished backup/.test(n)), again.notes.join(' | '));
  assert.equal((await verifySlot(profile.target, 0)).ok, true);
});
