// Deleting a slot of a ZFS ring (issue 18): the slot's clone and snapshot are destroyed the way a
// rotation drops the oldest slot, and the slots after it are remounted one place down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli';
import { tempDir } from '../helpers/tmp';
import { useZfsDaemon, zfsPool, zfsUnavailable } from '../helpers/zfsPool';
import { run } from '../../src/platform/runner';

const skip = zfsUnavailable() ?? false;
useZfsDaemon();

test('deleting a ZFS slot destroys its clone and snapshot; the older slots are mounted one place down, read-only', { skip, timeout: 300_000 }, async (t) => {
  const pool = zfsPool(t);
  const target = join(pool.mountPoint, 'ring');
  await mkdir(target);
  const source = join(await tempDir(t), 'project');
  await mkdir(source);
  const ids: string[] = [];
  // A size of its own each day: zfs-fuse keeps whole seconds of a modification time, so a same-size
  // rewrite within the second of the previous copy looks unchanged to rsync (docs/targets.md), and
  // with skipUnchanged that run would make no slot.
  const dayText = (day: number) => `day ${day}\n`.repeat(day);
  for (const day of [1, 2, 3]) {
    await writeFile(join(source, 'day.txt'), dayText(day));
    const r = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--json']);
    assert.equal(r.code, 0, r.stderr);
    ids.unshift((r.events.find((e) => e.type === 'result') as { result: { slot: { id: string } } }).result.slot.id);
  }
  const r = await runCli(['delete-slot', '--target', target, '--slot', '1', '--id', ids[1]!, '--yes', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { treeDeleted: boolean }).treeDeleted, true);
  const datasets = (await run('zfs', ['list', '-H', '-t', 'all', '-o', 'name', '-r', pool.name])).stdout;
  assert.doesNotMatch(datasets, new RegExp(`slot-${ids[1]}|@${ids[1]}`), 'the deleted slot\'s clone and snapshot are destroyed');
  for (const id of [ids[0], ids[2]]) assert.match(datasets, new RegExp(`slot-${id}`));
  const listing = JSON.parse((await runCli(['list', '--target', target, '--json'])).stdout) as { slots: Array<{ number: number; id: string }> };
  assert.deepEqual(listing.slots.map((s) => [s.number, s.id]), [[0, ids[0]], [1, ids[2]]]);
  const targetDev = (await stat(target)).dev;
  for (const [n, day] of [[0, 3], [1, 1]] as const) {
    assert.equal(await readFile(join(target, String(n), 'day.txt'), 'utf8'), dayText(day));
    assert.notEqual((await stat(join(target, String(n)))).dev, targetDev, `slot ${n} is a mount of its own`);
    await assert.rejects(writeFile(join(target, String(n), 'x'), 'x'), /EROFS/);
  }
});
