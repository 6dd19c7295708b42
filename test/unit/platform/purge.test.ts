import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireLock } from '../../../src/platform/lock';
import { purgeIdle, runPurge, startPurge } from '../../../src/engine/purge';
import { RingStore } from '../../../src/platform/ringStore';
import { run } from '../../../src/platform/runner';
import { tempDir } from '../../helpers/tmp';

async function ringWithDropped(t: import('node:test').TestContext, ids: string[]) {
  const target = await tempDir(t);
  const ring = new RingStore(target);
  await ring.ensureMeta();
  for (const id of ids) {
    await mkdir(join(ring.trashPath(id), 'deep', 'er'), { recursive: true });
    await writeFile(join(ring.trashPath(id), 'deep', 'er', 'f'), id);
    for (const file of [ring.manifestPath(id), ring.changeLogPath(id), ring.sumsPath(id)]) await writeFile(file, id);
  }
  // A slot still in the ring: its metadata must survive every purge.
  await writeFile(ring.manifestPath('kept'), 'kept');
  return { target, ring };
}

test('a purge deletes each dropped slot, read-only folders included, then its metadata, and nothing else', async (t) => {
  const { ring } = await ringWithDropped(t, ['old-1', 'old-2']);
  // rsync without -p keeps a copied folder's mode: a slot can hold folders its owner cannot write.
  await chmod(join(ring.trashPath('old-1'), 'deep'), 0o555);
  const { ran, removed, failed } = await runPurge(ring);
  assert.deepEqual([ran, removed, failed], [true, 2, []]);
  assert.deepEqual(await readdir(ring.paths.trash), []);
  assert.deepEqual(await readdir(ring.paths.manifests), ['kept.json']);
  assert.deepEqual(await readdir(ring.paths.changes), []);
  assert.deepEqual(await readdir(ring.paths.sums), []);
});

test('runPurge does nothing while another purge holds its lock, takes over a dead one\'s, and records what it could not delete', async (t) => {
  const { ring } = await ringWithDropped(t, ['old-1']);
  const stateDir = join(ring.paths.meta, 'purge');
  await mkdir(stateDir, { recursive: true });
  const held = await acquireLock(join(stateDir, 'lock'), 'another purge');
  assert.deepEqual(await runPurge(ring), { ran: false, removed: 0, failed: [] });
  assert.equal(await purgeIdle(ring), false, 'a purge runs, and a dropped slot waits');
  await held.release();
  // A lock left by a purge that was killed (its process is gone) is taken over.
  await writeFile(join(stateDir, 'lock'), JSON.stringify({ pid: 2 ** 22 + 1, host: (await import('node:os')).hostname(), pidStart: null, command: 'purge', startedAt: 'then' }));
  const result = await runPurge(ring);
  assert.deepEqual([result.ran, result.removed, result.failed], [true, 1, []]);
  assert.equal(await purgeIdle(ring), true);
  assert.deepEqual(await readdir(ring.paths.trash), []);

  // What cannot be deleted is kept for the next backup's warning, and is not retried forever.
  // (An immutable file stops even root; chmod stops anyone else.)
  await mkdir(join(ring.trashPath('stuck'), 'x'), { recursive: true });
  const pinned = join(ring.trashPath('stuck'), 'x', 'pinned');
  await writeFile(pinned, 'p');
  let release: () => Promise<unknown>;
  if (process.getuid?.() === 0) {
    try {
      await run('chattr', ['+i', pinned]);
    } catch {
      t.diagnostic('no chattr +i on this file system: the failure case is not tested');
      return;
    }
    release = () => run('chattr', ['-i', pinned]);
  } else {
    await chmod(join(ring.trashPath('stuck'), 'x'), 0o555);
    release = () => chmod(join(ring.trashPath('stuck'), 'x'), 0o755);
  }
  // Released before the temp folder's own cleanup, which would fail on it too.
  try {
    const stuck = await runPurge(ring);
    assert.equal(stuck.failed.length, 1);
    assert.match((await startPurge(ring, { inProcess: 'never' }))[0] ?? '', /Could not delete 1 dropped slot\(s\).*stuck/);
    assert.deepEqual(await readdir(ring.paths.trash), ['stuck']);
  } finally {
    await release();
  }
});

test('startPurge: nothing to do without dropped slots; without the bundled CLI beside it, the purge runs in this process', async (t) => {
  const empty = await ringWithDropped(t, []);
  assert.deepEqual(await startPurge(empty.ring), []);
  const { ring } = await ringWithDropped(t, ['old-1']);
  // Under the test runner this module is not in dist/, so there is no cli.js to start detached.
  assert.deepEqual(await startPurge(ring, { inProcess: 'never' }), []);
  assert.deepEqual(await readdir(ring.paths.trash), ['old-1'], 'a listing never purges in its own process');
  assert.deepEqual(await startPurge(ring), []);
  assert.deepEqual(await readdir(ring.paths.trash), []);
  assert.equal(await readFile(ring.manifestPath('kept'), 'utf8'), 'kept');
});

test('a purge started for a ring deleted since does nothing and makes none of its folders again', async (t) => {
  const { target, ring } = await ringWithDropped(t, ['old-1']);
  await rm(target, { recursive: true });
  assert.deepEqual(await runPurge(ring), { ran: false, removed: 0, failed: [] });
  assert.equal(existsSync(target), false, 'the deleted ring stays deleted');
});
