import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Scratch } from '../../../bench/lib/scratch';
import { run } from '../../../src/platform/runner';

const canLoop = process.getuid?.() === 0 && existsSync('/usr/sbin/mkfs.btrfs');

async function attachedTo(image: string): Promise<string> {
  return (await run('losetup', ['--noheadings', '--raw', '--output', 'NAME', '-j', image])).stdout.trim();
}

test('a btrfs source volume is mounted, then fully released', { skip: !canLoop && 'needs root and btrfs-progs' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-scratch-'));
  const scratch = new Scratch(join(dir, 'scratch.json'));
  t.after(async () => { await scratch.release().catch(() => undefined); await rm(dir, { recursive: true, force: true }); });
  const image = join(dir, 'src.img');
  const sub = await scratch.btrfsSubvolume(image, 512 * 1024 ** 2, join(dir, 'mnt'), 'source');
  await writeFile(join(sub, 'f'), 'x');
  assert.equal((await run('findmnt', ['-n', '-o', 'FSTYPE', join(dir, 'mnt')])).stdout.trim(), 'btrfs');
  assert.notEqual(await attachedTo(image), '');
  await scratch.release();
  assert.equal(await attachedTo(image), '', 'loop device detached');
  assert.equal(existsSync(image), false, 'image deleted');
  assert.equal(existsSync(join(dir, 'scratch.json')), false, 'state file removed');
});

test('a killed run’s volumes are released by the next run from the state file', { skip: !canLoop && 'needs root and btrfs-progs' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-scratch-'));
  const state = join(dir, 'scratch.json');
  const crashed = new Scratch(state);
  t.after(async () => { await crashed.release().catch(() => undefined); await rm(dir, { recursive: true, force: true }); });
  const image = join(dir, 'targets.img');
  await crashed.ext4Volume(image, 256 * 1024 ** 2, join(dir, 'targets'), 4096);
  assert.notEqual(await attachedTo(image), '');
  // "Crash": the object is dropped without release; a new run finds the state file.
  const released = await new Scratch(state).recover();
  assert.deepEqual(released.length, 2);
  assert.equal(await attachedTo(image), '');
  assert.equal((await run('mountpoint', ['-q', join(dir, 'targets')]).then(() => 'mounted', () => 'not mounted')), 'not mounted');
  assert.equal(existsSync(image), false);
});

test('recover never touches a loop device that is no longer backed by our image', { skip: !canLoop && 'needs root and btrfs-progs' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-scratch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const state = join(dir, 'scratch.json');
  // A stale record naming a device now used by someone else (or by nobody).
  const foreign = join(dir, 'foreign.img');
  await writeFile(foreign, '');
  await run('truncate', ['-s', '64M', foreign]);
  const device = (await run('losetup', ['--find', '--show', foreign])).stdout.trim();
  t.after(() => run('losetup', ['-d', device]).then(() => undefined, () => undefined));
  await writeFile(state, JSON.stringify({ images: [join(dir, 'ours.img')], loops: [{ device, image: join(dir, 'ours.img') }], mounts: [] }));
  await new Scratch(state).recover();
  assert.equal(await attachedTo(foreign), device, 'the foreign device is still attached');
});
