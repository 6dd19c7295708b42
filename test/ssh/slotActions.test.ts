// The slot actions of issue 18 on a ring on a server (a real sshd on 127.0.0.1): label, delete
// (journaled and carried out by the server's shell, like a rotation), a run with no change,
// restoring a whole slot to this computer, and repairing a damaged file from the source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runBackup } from '../../src/engine/backup';
import { validateProfile } from '../../src/core/profile';
import { listRing } from '../../src/engine/list';
import { labelSlot } from '../../src/engine/label';
import { deleteSlot } from '../../src/engine/deleteSlot';
import { restoreInto } from '../../src/engine/restore';
import { repairSlot } from '../../src/engine/repair';
import { verifySlot } from '../../src/engine/verify';
import { startSshd, sshdUnavailable, useSshdEnv } from '../helpers/sshd';
import { tempDir } from '../helpers/tmp';

const skip = sshdUnavailable() ?? false;

test('slot actions on a ring over SSH: label, delete, no-change run, whole-slot restore, repair', { skip, timeout: 240_000 }, async (t) => {
  const sshd = await startSshd(t);
  useSshdEnv(t, sshd);
  const dir = await tempDir(t);
  const source = join(dir, 'src');
  await mkdir(source);
  await writeFile(join(source, 'same.txt'), 'unchanged\n');
  const ringDir = join(dir, "ring $(touch pwned) 'q'");
  await mkdir(ringDir);
  const target = sshd.target(ringDir);
  const profile = validateProfile({ source, target, snapshot: 'none', slots: 5 }).profile;
  const ids: string[] = [];
  for (const day of [1, 2, 3]) {
    await writeFile(join(source, 'day.txt'), `day ${day}\n`);
    const r = await runBackup({ profile });
    assert.equal(r.outcome, 'complete');
    ids.unshift(r.slot.id);
  }

  assert.equal((await labelSlot({ target, slot: 2, id: ids[2]!, label: 'first day' })).label, 'first day');
  const unchanged = await runBackup({ profile });
  assert.equal(unchanged.outcome, 'unchanged');

  const deleted = await deleteSlot({ target, slot: 1, id: ids[1]! });
  assert.equal(deleted.remaining, 2);
  assert.equal(deleted.treeDeleted, true);
  const listing = await listRing(target);
  assert.deepEqual(listing.slots.map((s) => [s.number, s.id, s.manifest?.label ?? null]), [[0, ids[0], null], [1, ids[2], 'first day']]);
  assert.deepEqual((await readdir(ringDir)).filter((n) => !n.startsWith('.')).sort(), ['0', '1']);
  assert.equal(await readFile(join(ringDir, '1', 'day.txt'), 'utf8'), 'day 1\n');
  assert.deepEqual(await readdir(join(ringDir, '.shadow-slots', 'trash')), []);
  assert.ok(!(await readdir(dir)).includes('pwned'), 'the hostile ring name ran nothing');

  const into = join(dir, 'restored');
  await restoreInto({ target, slot: 1, id: ids[2]!, path: '', into });
  assert.equal(await readFile(join(into, 'day.txt'), 'utf8'), 'day 1\n');

  await writeFile(join(ringDir, '0', 'day.txt'), 'scribbled\n');
  const damaged = await verifySlot(target, 0);
  assert.deepEqual(damaged.changed, ['day.txt']);
  const plan = await repairSlot({ target, slot: 0, paths: damaged.changed, dryRun: true });
  assert.equal(plan.files[0]?.outcome, 'planned');
  assert.equal(await readFile(join(ringDir, '0', 'day.txt'), 'utf8'), 'scribbled\n', 'a dry run writes nothing');
  const repaired = await repairSlot({ target, slot: 0, paths: damaged.changed, dryRun: false });
  assert.equal(repaired.files[0]?.outcome, 'repaired', JSON.stringify(repaired));
  assert.deepEqual(repaired.files[0]?.from, { kind: 'source', path: join(source, 'day.txt') });
  assert.equal((await verifySlot(target, 0)).ok, true);
});
