// Copy-on-write targets on a real btrfs file system (loop device): slots are read-only subvolumes,
// a run rewrites only the changed blocks of a writable snapshot of the newest slot (issue 13).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { btrfsLoop, btrfsUnavailable } from '../helpers/btrfsLoop';
import { dayThreeRestores, sixDays } from '../helpers/cowScenario';
import { rewriteRegion, writeDiskImage } from '../helpers/diskImage';
import { tempDir } from '../helpers/tmp';
import { runCli, type CliRun } from '../helpers/cli';
import { run } from '../../src/platform/runner';
import { parseFilesystemDu } from '../../src/platform/target/btrfsTool';

const skip = btrfsUnavailable() ?? false;
const MiB = 1024 * 1024;

async function isReadOnlySubvolume(path: string): Promise<boolean> {
  if ((await stat(path)).ino !== 256) return false;
  return (await run('btrfs', ['property', 'get', '-ts', '--', path, 'ro'])).stdout.includes('ro=true');
}

/** Bytes of data the file system has allocated, after btrfs has written everything out. */
async function dataUsed(mnt: string): Promise<number> {
  await run('btrfs', ['filesystem', 'sync', mnt]);
  const text = (await run('btrfs', ['filesystem', 'usage', '-b', mnt])).stdout;
  const m = /^Data,[^:]+:\s+Size:\d+, Used:(\d+)/m.exec(text);
  assert.ok(m, `no data line in: ${text}`);
  return Number(m[1]);
}

async function backup(source: string, target: string, extra: string[] = []): Promise<CliRun> {
  return runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--json', ...extra]);
}

function listed(r: CliRun): { slots: Array<{ number: number | null; id: string; state: string; path: string; manifest: { storage?: { kind: string } } | null; space?: { exclusiveBytes: number | null; sharedBytes: number | null; method: string } | null }> } {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function cowSetup(t: TestContext, sizeMb = 400): Promise<{ mnt: string; source: string; target: string }> {
  const mnt = await btrfsLoop(t, sizeMb);
  const target = join(mnt, 'ring');
  await mkdir(target);
  const source = join(await tempDir(t), 'project');
  await mkdir(join(source, 'src'), { recursive: true });
  return { mnt, source, target };
}

test('a copy-on-write ring on btrfs: rotation, drop, restore and verify; every slot a read-only subvolume', { skip }, async (t) => {
  const { source, target } = await cowSetup(t);
  await sixDays(source, () => backup(source, target, ['--slots', '4']));
  const ring = listed(await runCli(['list', '--target', target, '--json']));
  assert.deepEqual(ring.slots.map((s) => s.number), [0, 1, 2, 3]);
  for (const s of ring.slots) {
    assert.ok(await isReadOnlySubvolume(s.path), `slot ${s.number} is a read-only subvolume`);
    assert.equal(s.manifest?.storage?.kind, 'btrfs');
    assert.equal(await readFile(join(s.path, 'notes.txt'), 'utf8'), `day ${6 - s.number!}\n`, `slot ${s.number} holds its own day`);
    assert.equal(s.space?.method, 'btrfs filesystem du (whole extents)');
    assert.equal(typeof s.space?.exclusiveBytes, 'number');
    const v = await runCli(['verify', '--target', target, '--slot', String(s.number), '--json']);
    assert.equal(v.code, 0, v.stdout);
  }
  await dayThreeRestores(t, target);
  // Nothing in progress or waiting in the trash; exactly the four slots are subvolumes.
  const subvolumes = (await run('btrfs', ['subvolume', 'list', '-o', join(target, '..')])).stdout.trim().split('\n').filter(Boolean);
  assert.equal(subvolumes.length, 4, subvolumes.join('\n'));
  assert.deepEqual(await readdirNames(join(target, '.shadow-slots', 'incoming')), []);
  assert.deepEqual(await readdirNames(join(target, '.shadow-slots', 'trash')), []);
});

test('a 256 MiB disk image with 1 MiB rewritten per run adds about 1 MiB per copy-on-write slot', { skip, timeout: 300_000 }, async (t) => {
  const { mnt, source, target } = await cowSetup(t, 900);
  const image = join(source, 'disk.img');
  const size = 256 * MiB;
  await writeDiskImage(image, size);
  assert.equal((await backup(source, target)).code, 0);
  const added: number[] = [];
  for (let run5 = 0; run5 < 5; run5++) {
    await rewriteRegion(image, size);
    const before = await dataUsed(mnt);
    const r = await backup(source, target);
    assert.equal(r.code, 0, r.stderr);
    added.push((await dataUsed(mnt)) - before);
  }
  console.log(`# data added per slot (MiB): ${added.map((b) => (b / MiB).toFixed(2)).join(', ')}`);
  for (const b of added) assert.ok(b <= 2 * MiB, `a slot added ${(b / MiB).toFixed(2)} MiB, over the 2 MiB goal`);
  // And each slot still reads back as its own version of the image.
  const v = await runCli(['verify', '--target', target, '--slot', '0', '--json']);
  assert.equal(v.code, 0, v.stdout);
});

test('a hard-linked ring on btrfs is adopted: its folders stay as they were, new slots are copy-on-write', { skip }, async (t) => {
  const { source, target } = await cowSetup(t);
  const file = join(source, 'data.bin');
  for (let day = 1; day <= 2; day++) {
    await writeFile(file, Buffer.alloc(64 * 1024, day));
    assert.equal((await backup(source, target, ['--slots', '4', '--target-mode', 'links'])).code, 0);
  }
  assert.equal((await stat(join(target, '0'))).ino === 256, false, 'links mode makes plain folders');
  for (let day = 3; day <= 5; day++) {
    // Same size, rewritten in place by rsync --inplace: had the working copy shared an inode with
    // a hard-linked slot, that slot would change too (rsync issue #537).
    await writeFile(file, Buffer.alloc(64 * 1024, day));
    const r = await backup(source, target, ['--slots', '4']);
    assert.equal(r.code, 0, r.stderr);
  }
  const ring = listed(await runCli(['list', '--target', target, '--json']));
  assert.deepEqual(ring.slots.map((s) => [s.number, s.manifest?.storage?.kind ?? 'links']), [[0, 'btrfs'], [1, 'btrfs'], [2, 'btrfs'], [3, 'links']]);
  for (const s of ring.slots) {
    const expectedDay = 5 - s.number!;
    assert.deepEqual(await readFile(join(s.path, 'data.bin')), Buffer.alloc(64 * 1024, expectedDay), `slot ${s.number} still holds day ${expectedDay}`);
    assert.equal(await isReadOnlySubvolume(s.path), s.number! < 3);
    const v = await runCli(['verify', '--target', target, '--slot', String(s.number), '--json']);
    assert.equal(v.code, 0, v.stdout);
  }
  assert.equal((await stat(join(target, '0', 'data.bin'))).nlink, 1, 'no copy-on-write file is a hard link');
});

test('copy-on-write is refused where it cannot work, before anything is written', { skip }, async (t) => {
  const dir = await tempDir(t);
  const source = join(dir, 'src');
  const plain = join(dir, 'ring');
  await mkdir(source);
  await mkdir(plain);
  await writeFile(join(source, 'a'), 'a');
  const onPlain = await backup(source, plain, ['--target-mode', 'cow']);
  assert.equal(onPlain.code, 2, onPlain.stdout + onPlain.stderr);
  assert.match(onPlain.stdout + onPlain.stderr, /Copy-on-write slots need a btrfs or ZFS target/);
  assert.deepEqual(await readdirNames(plain), [], 'nothing was written');
  const { target } = await cowSetup(t);
  const hardLinks = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--profile', await profileWithArgs(dir, ['-H'])]);
  assert.equal(hardLinks.code, 2, hardLinks.stdout + hardLinks.stderr);
  assert.match(hardLinks.stdout + hardLinks.stderr, /cannot be used with a copy-on-write ring/);
  assert.deepEqual(await readdirNames(target), []);
  const badMode = await backup(source, target, ['--target-mode', 'reflink']);
  assert.equal(badMode.code, 2);
  assert.match(badMode.stdout + badMode.stderr, /target mode \\"reflink\\" is not known.*auto, links, cow/s);
});

test('a full copy-on-write target: target-full, the slots are intact, and the next run completes once space is freed', { skip }, async (t) => {
  const { mnt, source, target } = await cowSetup(t, 300);
  await writeFile(join(source, 'small.txt'), 'first');
  assert.equal((await backup(source, target)).code, 0);
  const filler = join(mnt, 'filler');
  // Leave less room than the next run needs.
  await run('fallocate', ['-l', `${Math.max(1, Math.floor(((await dataFree(mnt)) - 40 * MiB) / MiB))}M`, filler]);
  const big = await open(join(source, 'big.bin'), 'w');
  for (let i = 0; i < 6; i++) await big.write(randomBytes(16 * MiB));
  await big.close();
  const full = await backup(source, target);
  assert.equal(full.code, 1, full.stdout + full.stderr);
  const error = full.events.find((e) => e['type'] === 'error');
  assert.equal(error?.['code'], 'target-full', JSON.stringify(error));
  const ring = listed(await runCli(['list', '--target', target, '--json', '--no-space']));
  assert.deepEqual(ring.slots.filter((s) => s.state === 'complete').map((s) => s.number), [0]);
  assert.equal(await readFile(join(target, '0', 'small.txt'), 'utf8'), 'first');
  assert.equal((await runCli(['verify', '--target', target, '--slot', '0'])).code, 0);
  await run('rm', ['--', filler]);
  const again = await backup(source, target);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await stat(join(target, '0', 'big.bin'))).size, 96 * MiB);
});

test('btrfs filesystem du output is parsed as printed', () => {
  assert.deepEqual(parseFilesystemDu('     Total   Exclusive  Set shared  Filename\n  20971520     1048576    19922944  /mnt/ring/0\n'), { total: 20971520, exclusive: 1048576, shared: 19922944 });
  assert.deepEqual(parseFilesystemDu('     Total   Exclusive  Set shared  Filename\n         0           0           -  /mnt/ring/1\n'), { total: 0, exclusive: 0, shared: 0 });
  assert.equal(parseFilesystemDu('ERROR: not a btrfs filesystem'), null);
});

async function readdirNames(dir: string): Promise<string[]> {
  const { readdir } = await import('node:fs/promises');
  return (await readdir(dir).catch(() => [])).sort();
}

async function profileWithArgs(dir: string, rsyncArgs: string[]): Promise<string> {
  const file = join(dir, `profile-${randomBytes(3).toString('hex')}.json`);
  await writeFile(file, JSON.stringify({ rsyncArgs }));
  return file;
}

async function dataFree(mnt: string): Promise<number> {
  const text = (await run('btrfs', ['filesystem', 'usage', '-b', mnt])).stdout;
  const m = /Free \(estimated\):\s+(\d+)/.exec(text);
  assert.ok(m, text);
  return Number(m[1]);
}
