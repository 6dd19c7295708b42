// Copy-on-write targets on real ZFS (Debian's zfs-fuse, pools on plain files): each slot is a
// snapshot of the working dataset, browsable as a read-only clone mounted at its numbered folder
// (issue 14).
import { purgeFinished } from '../helpers/purge';
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, open, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { cliPath, runCli, type CliRun } from '../helpers/cli';
import { dayThreeRestores, sixDays, writeVersion } from '../helpers/cowScenario';
import { rewriteRegion, writeDiskImage } from '../helpers/diskImage';
import { tempDir } from '../helpers/tmp';
import { destroyDataset, useZfsDaemon, zfsPool, zfsUnavailable, type ZfsPool } from '../helpers/zfsPool';
import { listSlotFolder, readSlotFile } from '../../src/engine/slotRead';
import { ringSpace } from '../../src/engine/space';
import { run } from '../../src/platform/runner';
import { localHost } from '../../src/platform/target/localHost';
import { openRing } from '../../src/platform/target/select';
import { zfsDatasetHolding } from '../../src/platform/target/zfsRun';
import { zfsRingUsage } from '../../src/platform/target/zfsUsage';

const skip = zfsUnavailable() ?? false;
useZfsDaemon();
const MiB = 1024 * 1024;

interface Listed {
  slots: Array<{ number: number | null; id: string; state: string; path: string; manifest: { storage?: { kind: string } } | null; space?: { exclusiveBytes: number | null; sharedBytes: number | null; method: string } | null }>;
  notes: string[];
}

async function backup(source: string, target: string, extra: string[] = [], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--json', ...extra], env);
}

function listed(r: CliRun): Listed {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Listed;
}

function errorOf(r: CliRun): { code?: string; message?: string; hint?: string } {
  return (r.events.find((e) => e['type'] === 'error') ?? {}) as { code?: string; message?: string; hint?: string };
}

async function zfsGet(properties: string, dataset: string, recursive = false): Promise<Map<string, Map<string, string>>> {
  const text = (await run('zfs', ['get', '-H', '-p', ...(recursive ? ['-r'] : []), '-o', 'name,property,value', properties, dataset])).stdout;
  const result = new Map<string, Map<string, string>>();
  for (const line of text.trim().split('\n')) {
    const [name, property, ...value] = line.split('\t');
    if (!result.has(name!)) result.set(name!, new Map());
    result.get(name!)!.set(property!, value.join('\t'));
  }
  return result;
}

/** The ring's datasets, by the naming the storage uses: `<pool>/shadow-slots-<inode of the target>`. */
async function ringDatasets(pool: ZfsPool, target: string): Promise<Map<string, Map<string, string>>> {
  return zfsGet('type,mountpoint,mounted,origin,used,referenced', `${pool.name}/shadow-slots-${(await stat(target)).ino}`, true);
}

async function setup(t: TestContext, sizeMiB = 512, name = 'ring'): Promise<{ pool: ZfsPool; source: string; target: string }> {
  const pool = zfsPool(t, sizeMiB);
  const target = join(pool.mountPoint, name);
  await mkdir(target);
  const source = join(await tempDir(t), 'project');
  await mkdir(join(source, 'src'), { recursive: true });
  return { pool, source, target };
}

async function names(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

/** Fills the pool in a dataset of its own, which is destroyed at once when space is wanted back. */
async function fill(pool: ZfsPool, leaveMiB: number): Promise<string> {
  const dataset = `${pool.name}/filler`;
  await run('zfs', ['create', dataset]);
  const avail = Number((await zfsGet('available', pool.name)).get(pool.name)!.get('available'));
  const mb = Math.max(1, Math.floor((avail - leaveMiB * MiB) / MiB));
  const out = join(pool.mountPoint, 'filler', 'blob');
  await run('dd', ['if=/dev/zero', `of=${out}`, 'bs=1M', `count=${mb}`, 'status=none'], { okExitCodes: [0, 1] });
  return dataset;
}

test('a 4-slot ZFS ring: rotation, drop, restore, verify; every slot a read-only clone at its numbered folder; space from ZFS accounting', { skip, timeout: 300_000 }, async (t) => {
  const { pool, source, target } = await setup(t);
  await sixDays(source, () => backup(source, target, ['--slots', '4']));
  const ring = listed(await runCli(['list', '--target', target, '--json']));
  assert.deepEqual(ring.slots.map((s) => s.number), [0, 1, 2, 3]);
  const datasets = await ringDatasets(pool, target);
  const container = `${pool.name}/shadow-slots-${(await stat(target)).ino}`;
  const targetDev = (await stat(target)).dev;
  for (const s of ring.slots) {
    assert.equal(s.manifest?.storage?.kind, 'zfs');
    assert.equal(await readFile(join(s.path, 'notes.txt'), 'utf8'), `day ${6 - s.number!}\n`, `slot ${s.number} holds its own day`);
    // A mounted clone of the slot's snapshot, read-only.
    const clone = datasets.get(`${container}/slot-${s.id}`);
    assert.equal(clone?.get('mountpoint'), s.path);
    assert.equal(clone?.get('mounted'), 'yes');
    assert.equal(clone?.get('origin'), `${container}/work@${s.id}`);
    assert.notEqual((await stat(s.path)).dev, targetDev, `slot ${s.number} is a mount of its own`);
    await assert.rejects(writeFile(join(s.path, 'new.txt'), 'x'), /EROFS/);
    await assert.rejects(writeFile(join(s.path, 'notes.txt'), 'x'), /EROFS/);
    // list --json reports ZFS's own figures: used of snapshot and clone, referenced minus used.
    const snapshot = datasets.get(`${container}/work@${s.id}`)!;
    assert.equal(s.space?.exclusiveBytes, Number(snapshot.get('used')) + Number(clone!.get('used')), `slot ${s.number} frees`);
    assert.equal(s.space?.sharedBytes, Number(snapshot.get('referenced')) - Number(snapshot.get('used')));
    assert.match(s.space?.method ?? '', /ZFS accounting.*freed if deleted now/);
    const v = await runCli(['verify', '--target', target, '--slot', String(s.number), '--json']);
    assert.equal(v.code, 0, v.stdout);
  }
  // Only the working copy moved since slot 0: deleting slot 0 now frees (almost) nothing.
  assert.ok(ring.slots[0]!.space!.exclusiveBytes! < 64 * 1024, JSON.stringify(ring.slots[0]!.space));
  await dayThreeRestores(t, target);
  // Exactly the ring: the container, the working copy (unmounted between runs), four snapshots
  // and four clones; dropped slots destroyed; no folder left behind by an unmount.
  const kinds = [...datasets.entries()].map(([name, p]) => `${p.get('type')} ${name.slice(container.length)}`).map((k) => k.replace(/\d{8}T\d{6}Z-[0-9a-f]{6}/, 'ID'));
  assert.deepEqual(kinds.sort(), ['filesystem ', 'filesystem /slot-ID', 'filesystem /slot-ID', 'filesystem /slot-ID', 'filesystem /slot-ID', 'filesystem /work',
    'snapshot /work@ID', 'snapshot /work@ID', 'snapshot /work@ID', 'snapshot /work@ID']);
  assert.equal(datasets.get(`${container}/work`)!.get('mounted'), 'no');
  assert.deepEqual(await names(target), ['.shadow-slots', '0', '1', '2', '3']);
  assert.deepEqual(await names(join(target, '.shadow-slots', 'incoming')), []);
  assert.deepEqual(await names(join(target, '.shadow-slots', 'trash')), []);
  // The numbered folders are found through ZFS even where the file system says only "fuse".
  assert.equal((await zfsDatasetHolding(localHost, target))?.name, pool.name);
  // What the editor's Slots view reads through the engine: a slot's folders, a file, the space.
  assert.deepEqual((await listSlotFolder(target, 3, 'src')).map((e) => [e.name, e.kind]), [['keep.txt', 'file'], ['only-day-3.txt', 'file']]);
  assert.equal((await readSlotFile(target, 3, 'src/only-day-3.txt')).toString(), 'temporary');
  assert.deepEqual((await ringSpace(target)).map((x) => x.exclusiveBytes), ring.slots.map((x) => x.space?.exclusiveBytes));
});

test('a file an abandoned run tore in the working copy (same size, same mtime as the source) never reaches a new slot: the working copy is reset to slot 0, or compared by content when ZFS refuses the reset', { skip, timeout: 300_000 }, async (t) => {
  const { pool, source, target } = await setup(t);
  const original = randomBytes(256 * 1024);
  const big = join(source, 'src', 'big.bin');
  await writeFile(big, original);
  // Whole seconds, as zfs-fuse keeps them: the torn copy can then match the source's time exactly.
  const when = new Date('2026-11-30T12:00:00Z');
  await utimes(big, when, when);
  assert.equal((await backup(source, target)).code, 0);
  const work = `${pool.name}/shadow-slots-${(await stat(target)).ino}/work`;
  const scratch = join(await tempDir(t), 'work');
  await mkdir(scratch);
  /** What a run killed in the middle of rsync --inplace leaves: new bytes, the old size, and an mtime that fools the quick check. */
  const tear = async (strayName: string | null) => {
    await run('zfs', ['set', `mountpoint=${scratch}`, work]);
    try {
      const torn = Buffer.from(original);
      torn.fill(0x55, 1000, 100_000);
      await writeFile(join(scratch, 'src', 'big.bin'), torn);
      await utimes(join(scratch, 'src', 'big.bin'), when, when);
    } finally {
      await run('zfs', ['set', 'mountpoint=none', work]);
    }
    if (strayName) await run('zfs', ['snapshot', `${work}@${strayName}`]);
  };
  for (const [round, stray] of [[1, null], [2, 'made-by-hand']] as const) {
    await tear(stray);
    await writeFile(join(source, 'src', `change-${round}.txt`), 'a change, so that a slot is made');
    const r = await backup(source, target);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Buffer.from(await readFile(join(target, '0', 'src', 'big.bin'))).equals(original), `round ${round}: slot 0 holds the source's file, not the torn one`);
    const v = await runCli(['verify', '--target', target, '--slot', '0', '--json']);
    assert.equal(v.code, 0, v.stdout);
  }
});

test('a 256 MiB disk image with 1 MiB rewritten per run adds at most 2 MiB per ZFS slot (zfs used of the snapshots)', { skip, timeout: 600_000 }, async (t) => {
  const { source, target } = await setup(t, 900);
  const image = join(source, 'disk.img');
  const size = 256 * MiB;
  await writeDiskImage(image, size);
  assert.equal((await backup(source, target)).code, 0);
  const grown: number[] = [];
  for (let run5 = 0; run5 < 5; run5++) {
    await rewriteRegion(image, size);
    const before = (await zfsRingUsage(target))!.usedBytes;
    const r = await backup(source, target);
    assert.equal(r.code, 0, r.stderr);
    grown.push((await zfsRingUsage(target))!.usedBytes - before);
  }
  const usage = (await zfsRingUsage(target))!;
  assert.deepEqual(usage.slots.map((s) => s.number), [0, 1, 2, 3, 4, 5]);
  // A snapshot's own `used` is what only it holds: the oldest holds the original of the megabyte
  // run 1 rewrote; the others share the originals of later rewrites with their elders.
  const perSnapshot = usage.slots.map((s) => s.usedBytes);
  const history = usage.snapshotsUsedBytes / 5;
  console.log(`# zfs used per snapshot (MiB), slots 0-5: ${perSnapshot.map((b) => (b / MiB).toFixed(2)).join(', ')}`);
  console.log(`# usedbysnapshots / 5 runs: ${(history / MiB).toFixed(2)} MiB per slot; ring's used grew per run (MiB): ${grown.map((b) => (b / MiB).toFixed(2)).join(', ')}; each slot references ${(usage.slots[0]!.referencedBytes / MiB).toFixed(1)} MiB`);
  for (const b of [...perSnapshot, ...grown, history]) assert.ok(b <= 2 * MiB, `${(b / MiB).toFixed(2)} MiB is over the 2 MiB goal`);
  assert.ok(usage.slots[5]!.usedBytes >= MiB, 'the oldest slot alone holds the megabyte run 1 replaced');
  assert.ok(usage.slots[0]!.referencedBytes >= size, 'each slot shows the whole image');
  // The figures are zfs's own: the same as `zfs get -p used` of each snapshot.
  for (const s of usage.slots) {
    assert.equal(s.usedBytes, Number((await zfsGet('used', s.snapshot)).get(s.snapshot)!.get('used')));
  }
  const v = await runCli(['verify', '--target', target, '--slot', '5', '--json']);
  assert.equal(v.code, 0, v.stdout);
});

test('a full pool: target-full when rsync runs out of space and when zfs does, the slots intact, the next run completes once space is freed', { skip, timeout: 300_000 }, async (t) => {
  const { pool, source, target } = await setup(t, 320);
  await writeFile(join(source, 'small.txt'), 'first');
  assert.equal((await backup(source, target)).code, 0);
  const check = async (numbers: number[], first: string) => {
    const ring = listed(await runCli(['list', '--target', target, '--json', '--no-space']));
    assert.deepEqual(ring.slots.filter((s) => s.state === 'complete').map((s) => s.number), numbers);
    assert.equal(await readFile(join(target, String(numbers.length - 1), 'small.txt'), 'utf8'), first);
    for (const n of numbers) assert.equal((await runCli(['verify', '--target', target, '--slot', String(n)])).code, 0);
  };
  // rsync hits the wall: less room than the next run's data.
  let filler = await fill(pool, 40);
  const big = await open(join(source, 'big.bin'), 'w');
  for (let i = 0; i < 6; i++) await big.write(randomBytes(16 * MiB));
  await big.close();
  const full = await backup(source, target);
  assert.equal(full.code, 1, full.stdout + full.stderr);
  assert.equal(errorOf(full).code, 'target-full', JSON.stringify(errorOf(full)));
  await check([0], 'first');
  destroyDataset(filler);
  await rm(join(source, 'big.bin'));

  // zfs hits the wall: with the pool full to the last block, the ring's own zfs commands fail
  // "out of space" (here: mounting the working copy for the next run), which is target-full too.
  filler = await fill(pool, 0);
  await run('dd', ['if=/dev/zero', `of=${join(pool.mountPoint, 'filler', 'crumbs')}`, 'bs=4k', 'status=none'], { okExitCodes: [0, 1] });
  const { ring } = await openRing(target, 'cow');
  await assert.rejects(ring.storage.createIncoming('20261203T101213Z-a1b2c3', null), (e: Error & { code?: string; hint?: string }) => {
    assert.equal(e.code, 'target-full');
    assert.match(e.message, /The ZFS pool holding the target is full: zfs set mountpoint=.* failed \(.*out of space\)/);
    assert.match(e.hint ?? '', /Previous slots are intact/);
    return true;
  });
  await check([0], 'first');
  destroyDataset(filler);
  await writeFile(join(source, 'small.txt'), 'second');
  const again = await backup(source, target);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  await check([0, 1], 'first');
  assert.equal(await readFile(join(target, '0', 'small.txt'), 'utf8'), 'second');
  await assert.rejects(stat(join(target, '0', 'big.bin')), 'the resumed copy dropped what the source no longer has');
});

test('clear errors: zfs missing, no permission (zfs allow), a read-only dataset, copy-on-write where there is no ZFS', { skip, timeout: 300_000 }, async (t) => {
  const { pool, source, target } = await setup(t, 256);
  await writeFile(join(source, 'a.txt'), 'a');
  // The zfs command missing: asking ZFS fails with what to install; cow on "fuse" says why it was not recognised.
  const path = process.env['PATH'];
  process.env['PATH'] = '/usr/bin';
  try {
    await assert.rejects(zfsDatasetHolding(localHost, target), (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'preflight');
      assert.match(e.message, /zfs command is not installed/);
      assert.match(e.hint ?? '', /zfsutils-linux|zfs-fuse/);
      return true;
    });
  } finally {
    process.env['PATH'] = path;
  }
  const noZfs = await backup(source, target, ['--target-mode', 'cow'], { PATH: '/usr/bin' });
  assert.equal(noZfs.code, 2, noZfs.stdout + noZfs.stderr);
  assert.match(errorOf(noZfs).message ?? '', /on fuse \(ZFS on FUSE is recognised only when the zfs command is installed/);
  assert.deepEqual(await names(target), [], 'nothing was written');

  // No permission: zfs-fuse answers only root; the error names zfs allow and root.
  const home = await tempDir(t);
  for (const dir of [target, home]) await chown(dir, 65534, 65534);
  for (const dir of [join(source, '..'), dirname(pool.image)]) await chmod(dir, 0o755);
  const asNobody = await run('runuser', ['-u', 'nobody', '--', process.execPath, cliPath, 'backup', '--source', source, '--target', target, '--snapshot', 'none', '--target-mode', 'cow', '--json'], { okExitCodes: [0, 1, 2], env: { HOME: home } });
  const refused = JSON.parse(asNobody.stdout.trim().split('\n').find((l) => l.includes('"error"')) ?? '{}') as { code?: string; message?: string; hint?: string };
  assert.equal(asNobody.exitCode, 1, asNobody.stdout + asNobody.stderr);
  assert.equal(refused.code, 'preflight');
  assert.match(`${refused.message} ${refused.hint}`, /permission denied.*zfs allow/s);
  assert.deepEqual((await names(target)).filter((n) => n !== '.shadow-slots'), [], 'no slot was made');

  // A read-only dataset: the target cannot even take a test file.
  const ro = `${pool.name}/ro`;
  await run('zfs', ['create', '-o', 'readonly=on', ro]);
  const roRun = await backup(source, join(pool.mountPoint, 'ro'));
  assert.equal(roRun.code, 1, roRun.stdout + roRun.stderr);
  assert.equal(errorOf(roRun).code, 'preflight');
  assert.match(`${errorOf(roRun).message} ${errorOf(roRun).hint}`, /read-only file system.*zfs set readonly=off/s);

  // A dataset made read-only under a ring: zfs cannot make the folder it mounts the working copy on.
  const rw = `${pool.name}/rw`;
  await run('zfs', ['create', rw]);
  const inRw = join(pool.mountPoint, 'rw', 'ring');
  await mkdir(join(inRw, '.shadow-slots', 'incoming'), { recursive: true });
  const { ring } = await openRing(inRw, 'cow');
  await run('zfs', ['set', 'readonly=on', rw]);
  await assert.rejects(ring.storage.createIncoming('20261203T101213Z-a1b2c3', null), (e: Error & { code?: string; hint?: string }) => {
    assert.equal(e.code, 'preflight', e.message);
    assert.match(e.message, new RegExp(`The dataset ${rw} that holds the target is read-only`));
    assert.match(e.hint ?? '', new RegExp(`zfs set readonly=off ${rw}`));
    return true;
  });

  // Copy-on-write on a folder outside ZFS is refused before anything is written.
  const plain = join(await tempDir(t), 'ring');
  await mkdir(plain);
  const onPlain = await backup(source, plain, ['--target-mode', 'cow']);
  assert.equal(onPlain.code, 2);
  assert.match(errorOf(onPlain).message ?? '', /Copy-on-write slots need a btrfs or ZFS target/);
  assert.deepEqual(await names(plain), []);
});

test('hostile folder names: a ring whose path holds spaces, quotes, &, %, $(), ;, a backslash, a tab and Unicode; a line break is refused before anything is written', { skip, timeout: 300_000 }, async (t) => {
  const { source, target } = await setup(t, 256, 'ring \'q\' "d" & 100% $(touch x); \\ tab\tü 雪');
  await writeFile(join(source, 'a.txt'), 'one');
  for (let i = 0; i < 3; i++) {
    await writeVersion(join(source, 'a.txt'), `run ${i}`, i);
    const r = await backup(source, target, ['--slots', '2']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  }
  const ring = listed(await runCli(['list', '--target', target, '--json']));
  assert.deepEqual(ring.slots.map((s) => [s.number, s.manifest?.storage?.kind]), [[0, 'zfs'], [1, 'zfs']]);
  assert.equal(await readFile(join(target, '1', 'a.txt'), 'utf8'), 'run 1');
  assert.deepEqual(await names(target), ['.shadow-slots', '0', '1']);
  assert.equal(typeof ring.slots[1]!.space?.exclusiveBytes, 'number');

  const { target: broken } = await setup(t, 128, 'line\nbreak');
  const refused = await backup(source, broken, ['--target-mode', 'cow']);
  // Refused for every kind by the profile check; zfs could not print such a mountpoint readably.
  assert.equal(refused.code, 2, refused.stdout + refused.stderr);
  assert.match(errorOf(refused).message ?? '', /line break/);
  assert.deepEqual(await names(broken), [], 'nothing was written');
});

test('a hard-linked ring on ZFS is adopted: its folders are renamed, new slots are clones moved by their mountpoint', { skip, timeout: 300_000 }, async (t) => {
  const { source, target } = await setup(t, 256);
  const file = join(source, 'data.bin');
  for (let day = 1; day <= 2; day++) {
    await writeVersion(file, Buffer.alloc(64 * 1024, day), day);
    const r = await backup(source, target, ['--slots', '4', '--target-mode', 'links']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  }
  assert.equal((await stat(join(target, '0'))).dev, (await stat(target)).dev, 'links mode makes plain folders');
  for (let day = 3; day <= 5; day++) {
    await writeVersion(file, Buffer.alloc(64 * 1024, day), day);
    const r = await backup(source, target, ['--slots', '4']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  }
  const ring = listed(await runCli(['list', '--target', target, '--json']));
  assert.deepEqual(ring.slots.map((s) => [s.number, s.manifest?.storage?.kind ?? 'links']), [[0, 'zfs'], [1, 'zfs'], [2, 'zfs'], [3, 'links']]);
  for (const s of ring.slots) {
    assert.deepEqual(await readFile(join(s.path, 'data.bin')), Buffer.alloc(64 * 1024, 5 - s.number!), `slot ${s.number}`);
    assert.equal(s.space?.method.startsWith(s.number === 3 ? 'hard-link counts' : 'ZFS accounting'), true, s.space?.method);
    assert.equal((await runCli(['verify', '--target', target, '--slot', String(s.number), '--json'])).code, 0);
  }
  // And back to links: a hard-linked slot cannot link against a clone, so it is a full copy (said so).
  await writeVersion(file, Buffer.alloc(64 * 1024, 6), 6);
  const back = await backup(source, target, ['--slots', '4', '--target-mode', 'links']);
  assert.equal(back.code, 0, back.stdout + back.stderr);
  assert.match(back.stdout, /ZFS snapshot, which hard links cannot reach/);
  const after = listed(await runCli(['list', '--target', target, '--json']));
  assert.deepEqual(after.slots.map((s) => [s.number, s.manifest?.storage?.kind ?? 'links']), [[0, 'links'], [1, 'zfs'], [2, 'zfs'], [3, 'zfs']]);
  assert.deepEqual(await readFile(join(target, '0', 'data.bin')), Buffer.alloc(64 * 1024, 6));
  // The run on the hard-linked side leaves its dropped slot to the detached purge: wait for it.
  assert.ok(await purgeFinished(target), 'the detached purge finished');
  assert.deepEqual(await names(join(target, '.shadow-slots', 'trash')), []);
});

test('a program working inside a slot folder: the rotation stops with a clear error, no slot is lost, the next run finishes it', { skip, timeout: 300_000 }, async (t) => {
  const { source, target } = await setup(t, 256);
  for (let i = 0; i < 2; i++) {
    await writeVersion(join(source, 'a.txt'), `run ${i}`, i);
    assert.equal((await backup(source, target, ['--slots', '3'])).code, 0);
  }
  // A shell sitting in slot 1 keeps zfs from unmounting it (rename would not mind; a mount does).
  const { spawn } = await import('node:child_process');
  const shell = spawn('sleep', ['600'], { cwd: join(target, '1'), stdio: 'ignore' });
  t.after(() => { shell.kill('SIGKILL'); });
  await writeVersion(join(source, 'a.txt'), 'run 2', 2);
  const blocked = await backup(source, target, ['--slots', '3']);
  assert.equal(blocked.code, 1, blocked.stdout + blocked.stderr);
  assert.equal(errorOf(blocked).code, 'preflight');
  assert.match(`${errorOf(blocked).message} ${errorOf(blocked).hint}`, /in use.*close it/s);
  // The slots are all still there and readable: the journal holds the unfinished rotation.
  assert.equal(await readFile(join(target, '1', 'a.txt'), 'utf8'), 'run 0');
  shell.kill('SIGKILL');
  await new Promise((resolve) => shell.once('exit', resolve));
  const listing = listed(await runCli(['list', '--target', target, '--json', '--no-space']));
  assert.deepEqual(listing.slots.map((s) => s.number), [0, 1, 2], 'listing finishes the rotation');
  assert.deepEqual(['run 2', 'run 1', 'run 0'], await Promise.all([0, 1, 2].map((n) => readFile(join(target, String(n), 'a.txt'), 'utf8'))));
  await writeVersion(join(source, 'a.txt'), 'run 3', 3);
  assert.equal((await backup(source, target, ['--slots', '3'])).code, 0);
  assert.deepEqual(await names(target), ['.shadow-slots', '0', '1', '2']);
  assert.equal(await readFile(join(target, '2', 'a.txt'), 'utf8'), 'run 1');
});
