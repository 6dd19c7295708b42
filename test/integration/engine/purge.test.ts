// The dropped slot's deletion off the critical path: a detached purge, resumed by the next run or
// by a listing, never counted as a slot, never touching a complete one. Real CLI, real rsync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp';
import { runCli } from '../../helpers/cli';
import { purgeFinished } from '../../helpers/purge';
import { acquireLock } from '../../../src/platform/lock';

interface Listing { slots: Array<{ number: number | null; id: string; state: string }> }

async function ring(t: import('node:test').TestContext) {
  const dir = await tempDir(t);
  const source = join(dir, 'source');
  const target = join(dir, 'ring');
  await mkdir(join(source, 'many'), { recursive: true });
  await mkdir(target);
  for (let i = 0; i < 300; i++) await writeFile(join(source, 'many', `f${i}`), `file ${i}`);
  const backup = (n: number) => runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--slots', '2', '--json']).then(async (r) => {
    assert.equal(r.code, 0, r.stderr);
    await writeFile(join(source, 'run.txt'), `after run ${n}`);
    return r.events.find((e) => e['type'] === 'complete')!['id'] as string;
  });
  return { target, backup, meta: join(target, '.shadow-slots') };
}

test('the backup does not delete the dropped slot itself: a listing shows only the ring, and starts the purge it finds undone', async (t) => {
  const { target, backup, meta } = await ring(t);
  const ids = [await backup(1), await backup(2)];
  assert.ok(await purgeFinished(target));
  // While another purge holds the purge lock (this test), the backup leaves the dropped slot to it.
  await mkdir(join(meta, 'purge'), { recursive: true });
  const held = await acquireLock(join(meta, 'purge', 'lock'), 'a purge (test)');
  ids.push(await backup(3));
  const dropped = ids[0]!;
  assert.deepEqual(await readdir(join(meta, 'trash')), [dropped], 'the dropped slot waits in the trash after the backup exited');
  const listing = JSON.parse((await runCli(['list', '--target', target, '--json'])).stdout) as Listing;
  assert.deepEqual(listing.slots.map((s) => [s.number, s.id, s.state]), [[0, ids[2], 'complete'], [1, ids[1], 'complete']], 'the trash is never listed as a slot');
  assert.deepEqual(await readdir(join(meta, 'trash')), [dropped], 'no second purge starts while one holds the lock');
  await held.release();
  // The next listing finds the purge undone and starts it; the listing itself does not wait.
  const list = await runCli(['list', '--target', target, '--json']);
  assert.equal(list.code, 0);
  assert.ok(await purgeFinished(target), 'the purge the listing started finished');
  assert.deepEqual(await readdir(join(meta, 'trash')), []);
  assert.ok(!(await readdir(join(meta, 'manifests'))).includes(`${dropped}.json`), 'its metadata went with it');
  for (const slot of ['0', '1']) assert.equal((await runCli(['verify', '--target', target, '--slot', slot])).code, 0, `slot ${slot} intact`);
});

test('a purge killed half-way (its lock left behind, its slot half deleted) is finished by the next backup', async (t) => {
  const { target, backup, meta } = await ring(t);
  await backup(1);
  await backup(2);
  assert.ok(await purgeFinished(target));
  // What a purge killed by a power cut or kill -9 leaves: its lock, naming a process that is gone,
  // and a dropped slot with part of its files deleted.
  await mkdir(join(meta, 'trash', 'killed-mid-purge', 'many'), { recursive: true });
  await writeFile(join(meta, 'trash', 'killed-mid-purge', 'many', 'f7'), 'left');
  await mkdir(join(meta, 'purge'), { recursive: true });
  await writeFile(join(meta, 'purge', 'lock'), JSON.stringify({ pid: 2 ** 22 + 3, host: hostname(), pidStart: null, command: 'purge dropped slots', startedAt: '2026-01-01T00:00:00Z' }));
  const id = await backup(3);
  assert.ok(await purgeFinished(target), 'the stale purge lock was taken over and the trash emptied');
  assert.deepEqual(await readdir(join(meta, 'trash')), []);
  const listing = JSON.parse((await runCli(['list', '--target', target, '--json'])).stdout) as Listing;
  assert.deepEqual(listing.slots.map((s) => s.number), [0, 1]);
  assert.equal(listing.slots[0]!.id, id);
  assert.equal(await readFile(join(target, '0', 'run.txt'), 'utf8'), 'after run 2');
});
