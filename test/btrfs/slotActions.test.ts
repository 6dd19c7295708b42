// The slot actions of issue 18 on a copy-on-write ring (btrfs on a loop device): deleting a slot
// drops its read-only subvolume the way a rotation drops the oldest (subvolume delete, never a
// tree walk), a crash in the middle is finished by the next list, a run with no change leaves no
// working subvolume behind, and a whole slot restores into a new folder.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { btrfsLoop, btrfsUnavailable } from '../helpers/btrfsLoop';
import { tempDir } from '../helpers/tmp';
import { runCli } from '../helpers/cli';
import { run } from '../../src/platform/runner';

const skip = btrfsUnavailable() ?? false;

async function subvolumes(mnt: string): Promise<string[]> {
  return (await run('btrfs', ['subvolume', 'list', '-o', mnt])).stdout.trim().split('\n').filter(Boolean).map((l) => l.replace(/^.* path /, ''));
}

async function readOnlySubvolume(path: string): Promise<boolean> {
  return (await stat(path)).ino === 256 && (await run('btrfs', ['property', 'get', '-ts', '--', path, 'ro'])).stdout.includes('ro=true');
}

async function ringOf(t: TestContext, days: number): Promise<{ mnt: string; source: string; target: string; ids: string[] }> {
  const mnt = await btrfsLoop(t, 400);
  const target = join(mnt, 'ring');
  await mkdir(target);
  const source = join(await tempDir(t), 'project');
  await mkdir(source);
  await writeFile(join(source, 'same.txt'), 'unchanged\n');
  const ids: string[] = [];
  for (let day = 1; day <= days; day++) {
    await writeFile(join(source, 'day.txt'), `day ${day}\n`);
    const r = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--json']);
    assert.equal(r.code, 0, r.stderr);
    ids.unshift((r.events.find((e) => e.type === 'result') as { result: { slot: { id: string } } }).result.slot.id);
  }
  return { mnt, source, target, ids };
}

async function listed(target: string): Promise<Array<[number | null, string]>> {
  const r = await runCli(['list', '--target', target, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { slots: Array<{ number: number | null; id: string }> }).slots.map((s) => [s.number, s.id]);
}

test('deleting a btrfs slot deletes its subvolume; the slots after it stay read-only subvolumes, one place down', { skip }, async (t) => {
  const { mnt, target, ids } = await ringOf(t, 3);
  assert.equal((await subvolumes(mnt)).length, 3);
  const r = await runCli(['delete-slot', '--target', target, '--slot', '1', '--id', ids[1]!, '--yes', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { treeDeleted: boolean }).treeDeleted, true);
  assert.deepEqual(await listed(target), [[0, ids[0]], [1, ids[2]]]);
  assert.deepEqual((await subvolumes(mnt)).sort(), ['ring/0', 'ring/1'], 'the deleted slot\'s subvolume is gone, nothing waits in the trash');
  for (const [n, day] of [[0, 3], [1, 1]] as const) {
    assert.ok(await readOnlySubvolume(join(target, String(n))), `slot ${n} is a read-only subvolume`);
    assert.equal(await readFile(join(target, String(n), 'day.txt'), 'utf8'), `day ${day}\n`);
    const v = await runCli(['verify', '--target', target, '--slot', String(n)]);
    assert.equal(v.code, 0, v.stdout);
  }
});

test('a crash while deleting a btrfs slot is finished by the next list: no gap, no other slot lost, no subvolume left behind', { skip }, async (t) => {
  const { mnt, source, target, ids } = await ringOf(t, 3);
  // Steps: drop slot 0, move 1→0, move 2→1; killed before the last one.
  assert.equal((await runCli(['delete-slot', '--target', target, '--slot', '0', '--yes'], { SHADOW_SLOTS_FAULT: 'delete:step-2' })).code, 137);
  assert.deepEqual(await listed(target), [[0, ids[1]], [1, ids[2]]]);
  assert.equal(await readFile(join(target, '0', 'day.txt'), 'utf8'), 'day 2\n');
  assert.equal(await readFile(join(target, '1', 'day.txt'), 'utf8'), 'day 1\n');
  await writeFile(join(source, 'day.txt'), 'day 4\n');
  const r = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await subvolumes(mnt)).sort(), ['ring/0', 'ring/1', 'ring/2'], 'the dropped subvolume was deleted by the next run');
});

test('a btrfs run with no change makes no slot and leaves no working subvolume; a whole slot restores into a new folder', { skip }, async (t) => {
  const { mnt, source, target, ids } = await ringOf(t, 2);
  const r = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((r.events.find((e) => e.type === 'result') as { result: { outcome: string } }).result.outcome, 'unchanged');
  assert.deepEqual(await listed(target), [[0, ids[0]], [1, ids[1]]]);
  assert.deepEqual((await subvolumes(mnt)).sort(), ['ring/0', 'ring/1']);
  assert.deepEqual(await readdir(join(target, '.shadow-slots', 'incoming')), []);

  const into = join(await tempDir(t), 'restored');
  const restored = await runCli(['restore', '--target', target, '--slot', '1', '--to', into]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.deepEqual((await readdir(into)).sort(), ['day.txt', 'same.txt']);
  assert.equal(await readFile(join(into, 'day.txt'), 'utf8'), 'day 1\n');
  assert.equal((await stat(into)).ino === 256, false, 'a plain folder, not a snapshot');
});
