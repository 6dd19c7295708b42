import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runBackup } from '../../src/engine/backup';
import { listRing } from '../../src/engine/list';
import { startSshd, sshdUnavailable, useSshdEnv } from '../helpers/sshd';
import { tempDir } from '../helpers/tmp';
import { setLogSink } from '../../src/platform/runner';

const skip = sshdUnavailable();

test('smoke: a backup to a ring over SSH', { skip: skip ?? false }, async (t) => {
  const sshd = await startSshd(t);
  useSshdEnv(t, sshd);
  const dir = await tempDir(t);
  const source = join(dir, 'src');
  await mkdir(join(source, 'a b'), { recursive: true });
  await writeFile(join(source, 'a b', "it's $(x).txt"), 'hello');
  const ringDir = join(dir, 'ring dir');
  await mkdir(ringDir);
  const t0 = Date.now(); if (process.env.SSH_LOG) setLogSink((l, m) => console.log(Date.now() - t0, l, m.slice(0, 100)));
  const started = Date.now();
  const r = await runBackup({ profile: { source, target: sshd.target(ringDir), snapshot: 'none', slots: 3 } });
  console.log('first', Date.now() - started, r.outcome, r.notes, r.warnings);
  const r2 = await runBackup({ profile: { source, target: sshd.target(ringDir), snapshot: 'none', slots: 3 } });
  console.log('second', r2.durationMs, r2.outcome, r2.warnings);
  const listing = await listRing(sshd.target(ringDir));
  console.log(listing.slots.map((s) => [s.number, s.state, s.manifest?.checksums]));
  assert.equal(listing.slots.length, 2);
});
