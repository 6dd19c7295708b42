// The ring scenario the copy-on-write kinds share (btrfs, ZFS): six days into a ring of four,
// one file that exists on day 3 only, restored from the slot that still holds it.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, type CliRun } from './cli';
import { tempDir } from './tmp';

/**
 * Writes one version of a file with a modification time of its own. zfs-fuse keeps whole seconds of
 * a modification time: two versions of one size written within a second would look unchanged to
 * rsync's quick check, as on any target that keeps whole seconds (kernel OpenZFS keeps nanoseconds).
 */
export async function writeVersion(path: string, content: string | Buffer, version: number): Promise<void> {
  await writeFile(path, content);
  const time = new Date(Date.UTC(2026, 0, 1) + version * 60_000);
  await utimes(path, time, time);
}

/** Six daily backups of `source` (which has a `src/` folder): notes.txt says the day; src/only-day-3.txt exists on day 3 only. */
export async function sixDays(source: string, backup: () => Promise<CliRun>): Promise<void> {
  await writeFile(join(source, 'src', 'keep.txt'), 'never changes');
  for (let day = 1; day <= 6; day++) {
    await writeVersion(join(source, 'notes.txt'), `day ${day}\n`, day);
    if (day === 3) await writeFile(join(source, 'src', 'only-day-3.txt'), 'temporary');
    if (day === 4) await rm(join(source, 'src', 'only-day-3.txt'));
    const r = await backup();
    assert.equal(r.code, 0, r.stdout + r.stderr);
  }
}

/** After sixDays into a ring of four: day 3's file is in slot 3 alone and restores from it. */
export async function dayThreeRestores(t: TestContext, target: string): Promise<void> {
  assert.equal(await readFile(join(target, '3', 'src', 'only-day-3.txt'), 'utf8'), 'temporary');
  await assert.rejects(stat(join(target, '2', 'src', 'only-day-3.txt')));
  const out = join(await tempDir(t), 'restored');
  await mkdir(out);
  const restored = await runCli(['restore', '--target', target, '--slot', '3', '--path', 'src/only-day-3.txt', '--to', out]);
  assert.equal(restored.code, 0, restored.stderr);
  assert.equal(await readFile(join(out, 'src', 'only-day-3.txt'), 'utf8'), 'temporary');
}
