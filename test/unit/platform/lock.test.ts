import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireLock, describeOwner, readOwner } from '../../../src/platform/lock';
import { ShadowSlotsError } from '../../../src/core/errors';
import { tempDir } from '../../helpers/tmp';

// The race CI caught: the lock holder's repair removed a losing run's draft between its write and
// its link, and the loser failed with ENOENT ("internal") instead of being told the ring is locked.
test('a draft removed before it is linked is written again, and the lock is taken', async (t) => {
  const dir = await tempDir(t);
  const lockFile = join(dir, 'lock');
  let removed = 0;
  const held = await acquireLock(lockFile, 'test', {
    beforeLink: async (draft) => { if (removed++ < 2) await rm(draft); },
  });
  assert.equal(removed, 3, 'two drafts removed, the third linked');
  assert.equal((await readOwner(lockFile))?.pid, process.pid);
  assert.deepEqual(await readdir(dir), ['lock'], 'no draft left behind');
  await held.release();
  assert.deepEqual(await readdir(dir), []);
});

test('drafts that always vanish end in a clear "locked" error, with nothing left behind', async (t) => {
  const dir = await tempDir(t);
  const lockFile = join(dir, 'lock');
  await assert.rejects(
    acquireLock(lockFile, 'test', { beforeLink: (draft) => rm(draft) }),
    (error: unknown) => error instanceof ShadowSlotsError && error.code === 'locked' && /keeps deleting/.test(error.message),
  );
  assert.deepEqual(await readdir(dir), []);
});

test('a lock held by a running process is refused and names it; the holder\'s lock is untouched', async (t) => {
  const dir = await tempDir(t);
  const lockFile = join(dir, 'lock');
  const held = await acquireLock(lockFile, 'first');
  await assert.rejects(
    acquireLock(lockFile, 'second'),
    (error: unknown) => error instanceof ShadowSlotsError && error.code === 'locked' && error.message.includes(`process ${process.pid}`),
  );
  assert.equal((await readOwner(lockFile))?.command, 'first');
  assert.deepEqual(await readdir(dir), ['lock']);
  await held.release();
});

test('a lock owner named in a message cannot hide or reorder it: controls, C1, bidi marks and the BOM are written as \\uXXXX', () => {
  const text = describeOwner({ pid: 42, host: 'nas\u202Eevil\u001b[2J', command: 'backup\u009b31m\nrm', startedAt: '2026-12-04T00:00:00Z\u200f', pidStart: null });
  assert.equal(text, 'process 42 on nas\\u202Eevil\\u001B[2J (backup\\u009B31m\\u000Arm, started 2026-12-04T00:00:00Z\\u200F)');
  assert.equal(describeOwner({ pid: 7, host: 'büro-pc', command: 'backup', startedAt: 'x', pidStart: null }), 'process 7 on büro-pc (backup, started x)', 'printable Unicode stays as it is');
});
