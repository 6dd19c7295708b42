import { test } from 'node:test';
import { existsSync } from 'node:fs';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { btrfsLoop, btrfsUnavailable } from '../helpers/btrfsLoop';
import { tempDir } from '../helpers/tmp';
import { runCli } from '../helpers/cli';
import { run } from '../../src/platform/runner';
import { runBackup } from '../../src/engine/backup';
import { validateProfile } from '../../src/core/profile';
import { BTRFS_SNAPSHOT_DIR, btrfsArgv } from '../../src/platform/snapshot/btrfs';

const skip = btrfsUnavailable();

/** Snapshots left in the source's container folder (which is removed once empty). */
async function leftovers(volume: string): Promise<string[]> {
  return readdir(join(volume, BTRFS_SNAPSHOT_DIR)).catch(() => []);
}

async function subvolumeSource(t: import('node:test').TestContext) {
  const mnt = await btrfsLoop(t);
  const volume = join(mnt, 'work');
  await run('btrfs', ['subvolume', 'create', volume]);
  const source = join(volume, 'project');
  await mkdir(join(source, 'src'), { recursive: true });
  await writeFile(join(source, 'src', 'main.c'), 'int main() { return 0; }\n');
  await writeFile(join(source, 'db.sqlite'), 'state at snapshot time');
  const target = join(await tempDir(t), 'ring');
  await mkdir(target);
  return { mnt, volume, source, target };
}

test('btrfs argv is exactly what the provider runs', () => {
  assert.deepEqual(btrfsArgv.snapshot('/mnt/v', '/mnt/v/.shadow-slots-snapshots/x'), ['subvolume', 'snapshot', '-r', '--', '/mnt/v', '/mnt/v/.shadow-slots-snapshots/x']);
  assert.deepEqual(btrfsArgv.remove('/s'), ['subvolume', 'delete', '--', '/s']);
});

test('the backup reads from the snapshot: a file rewritten during the copy is saved as it was', { skip: skip ?? false }, async (t) => {
  const { volume, source, target } = await subvolumeSource(t);
  const result = await runBackup({
    profile: validateProfile({ source, target, snapshot: 'btrfs', slots: 4 }).profile,
    onPhase: async (phase) => {
      // The snapshot exists from here on; the live file changes before rsync reads anything.
      if (phase === 'copy') await writeFile(join(source, 'db.sqlite'), 'state AFTER the snapshot, half-written');
    },
  });
  assert.equal(result.outcome, 'complete');
  assert.equal(result.slot.manifest?.snapshot.method, 'btrfs');
  assert.equal(await readFile(join(target, '0', 'db.sqlite'), 'utf8'), 'state at snapshot time');
  assert.equal(await readFile(join(source, 'db.sqlite'), 'utf8'), 'state AFTER the snapshot, half-written');
  assert.deepEqual(await leftovers(volume), [], 'the snapshot is deleted afterwards');
  assert.equal(existsSync(join(volume, BTRFS_SNAPSHOT_DIR)), false, 'no empty container folder is left in the user\'s volume');
  const list = await run('btrfs', ['subvolume', 'list', '-o', volume]);
  assert.equal(list.stdout.trim(), '', 'no snapshot subvolume is left');
});

test('auto picks btrfs on btrfs, records it, and the snapshot folder never appears in a slot', { skip: skip ?? false }, async (t) => {
  const { volume, target } = await subvolumeSource(t);
  const r = await runCli(['backup', '--source', volume, '--target', target, '--snapshot', 'auto', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const manifest = (r.events.find((e) => e['type'] === 'result')!['result'] as { slot: { manifest: { snapshot: { method: string; warning: string | null } } } }).slot.manifest;
  assert.equal(manifest.snapshot.method, 'btrfs');
  assert.equal(manifest.snapshot.warning, null);
  assert.deepEqual((await readdir(join(target, '0'))).sort(), ['project']);
  assert.deepEqual(await leftovers(volume), []);
  // Here the container sits inside the source itself: it must not stay behind in the user's folder.
  assert.deepEqual((await readdir(volume)).sort(), ['project']);
});

test('a snapshot journaled by a killed run is deleted by the next run', { skip: skip ?? false }, async (t) => {
  const { volume, source, target } = await subvolumeSource(t);
  const crashed = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'btrfs', '--json'], { SHADOW_SLOTS_FAULT: 'phase:copy' });
  assert.equal(crashed.code, 137);
  assert.equal((await readdir(join(volume, BTRFS_SNAPSHOT_DIR))).length, 1, 'the crash left its snapshot behind');
  const next = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'btrfs', '--json']);
  assert.equal(next.code, 0, next.stderr);
  const notes = (next.events.find((e) => e['type'] === 'result')!['result'] as { notes: string[] }).notes;
  assert.ok(notes.some((n) => /snapshot left behind/.test(n)), notes.join('\n'));
  assert.deepEqual(await leftovers(volume), []);
  assert.equal(existsSync(join(volume, BTRFS_SNAPSHOT_DIR)), false, 'nor its container folder');
  assert.equal((await run('btrfs', ['subvolume', 'list', '-o', volume])).stdout.trim(), '');
});

test('snapshot method btrfs on a non-btrfs source is refused with the reason', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 's'));
  await mkdir(join(dir, 't'));
  const r = await runCli(['backup', '--source', join(dir, 's'), '--target', join(dir, 't'), '--snapshot', 'btrfs', '--json']);
  assert.equal(r.code, 1);
  assert.match(JSON.stringify(r.events), /not btrfs/);
});
