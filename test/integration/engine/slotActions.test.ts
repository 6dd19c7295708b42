// The slot actions of issue 18 on a real hard-linked ring, through the bundled CLI: a run with no
// change makes no slot, labels, deleting a slot (and a crash in the middle of it), restoring a
// whole slot into a new or empty folder, and verify --repair.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp';
import { runCli, type CliRun } from '../../helpers/cli';

interface Listed { slots: Array<{ number: number | null; id: string; state: string; path: string; manifest: { label?: string; endedAt: string } | null }>; unchanged?: { slotId: string } | null; notes: string[] }

async function backup(source: string, target: string, extra: string[] = [], env: Record<string, string> = {}): Promise<{ outcome: string; slot: { number: number; id: string } }> {
  const r = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--json', ...extra], env);
  assert.equal(r.code, 0, r.stderr);
  return (r.events.find((e) => e.type === 'result') as { result: { outcome: string; slot: { number: number; id: string } } }).result;
}

async function list(target: string): Promise<Listed> {
  const r = await runCli(['list', '--target', target, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Listed;
}

function ok(r: CliRun): CliRun {
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  return r;
}

async function project(dir: string): Promise<string> {
  const source = join(dir, 'project');
  await mkdir(join(source, 'src'), { recursive: true });
  await writeFile(join(source, 'a.txt'), 'alpha\n');
  await writeFile(join(source, 'src', 'b.ts'), 'export const b = 1;\n');
  return source;
}

/** A ring of four slots, one a day (`day.txt` says which); ids newest first. */
async function fourDays(t: TestContext): Promise<{ source: string; target: string; ids: string[] }> {
  const dir = await tempDir(t);
  const source = await project(dir);
  const target = join(dir, 'ring');
  await mkdir(target);
  const ids: string[] = [];
  for (const day of [1, 2, 3, 4]) {
    await writeFile(join(source, 'day.txt'), `day ${day}\n`);
    ids.unshift((await backup(source, target)).slot.id);
  }
  return { source, target, ids };
}

test('a run with no change makes no slot (the oldest is kept) and says "no changes"; a deletion alone is a change; --no-skip-unchanged makes one anyway', async (t) => {
  const dir = await tempDir(t);
  const source = await project(dir);
  const target = join(dir, 'ring');
  await mkdir(target);
  const first = await backup(source, target);
  assert.equal(first.outcome, 'complete');

  const same = await backup(source, target);
  assert.equal(same.outcome, 'unchanged');
  assert.equal(same.slot.id, first.slot.id, 'it names the newest slot, which still holds the source');
  let ring = await list(target);
  assert.deepEqual(ring.slots.map((s) => s.id), [first.slot.id], 'no slot was added');
  assert.equal(ring.unchanged?.slotId, first.slot.id, 'the listing records the "no changes" run');
  assert.deepEqual(await readdir(join(target, '.shadow-slots', 'incoming')), [], 'the discarded copy is gone');

  // rsync itemizes nothing when a file only disappeared (it writes into a fresh folder): the tree comparison must see it.
  await rm(join(source, 'src', 'b.ts'));
  const deleted = await backup(source, target);
  assert.equal(deleted.outcome, 'complete', 'a deleted file is a change');
  ring = await list(target);
  assert.equal(ring.slots.length, 2);
  assert.equal(ring.unchanged ?? null, null, 'an older "no changes" says nothing about the new newest slot');

  const forced = await backup(source, target, ['--no-skip-unchanged']);
  assert.equal(forced.outcome, 'complete');
  assert.equal((await list(target)).slots.length, 3);
  const human = ok(await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none']));
  assert.match(human.stdout, /No changes since slot 0 \(id [^)]+\), checked in .*: no new slot was made, so the oldest slot was kept/);
});

test('labels: set, shown by list, kept through a rotation, refused when unsafe (nothing changed), cleared', async (t) => {
  const dir = await tempDir(t);
  const source = await project(dir);
  const target = join(dir, 'ring');
  await mkdir(target);
  const first = await backup(source, target);
  ok(await runCli(['label', '--target', target, '--slot', '0', '--set', 'before the refactoring ✨']));
  await writeFile(join(source, 'a.txt'), 'alpha 2\n');
  await backup(source, target);
  let ring = await list(target);
  assert.equal(ring.slots.find((s) => s.id === first.slot.id)?.number, 1);
  assert.equal(ring.slots.find((s) => s.id === first.slot.id)?.manifest?.label, 'before the refactoring ✨', 'the label follows the slot to position 1');
  assert.match(ok(await runCli(['list', '--target', target])).stdout, /before the refactoring ✨/);

  for (const bad of ['two\nlines', 'evil \u202egnp.exe', ' padded', 'x'.repeat(101)]) {
    const r = await runCli(['label', '--target', target, '--slot', '1', '--set', bad]);
    assert.equal(r.code, 2, `${JSON.stringify(bad)} is refused: ${r.stderr}`);
    assert.match(r.stderr, /cannot be used: .*Nothing was changed/s);
  }
  ring = await list(target);
  assert.equal(ring.slots[1]?.manifest?.label, 'before the refactoring ✨', 'a refused label changes nothing');
  const moved = await runCli(['label', '--target', target, '--slot', '0', '--id', first.slot.id, '--set', 'x']);
  assert.notEqual(moved.code, 0);
  assert.match(moved.stderr, /is slot 1 now/);
  ok(await runCli(['label', '--target', target, '--slot', '1', '--clear']));
  assert.equal((await list(target)).slots[1]?.manifest?.label, undefined);
});

test('delete-slot: needs --yes and the id still matching; the slots after it move down, its folder and manifest go, the next backup links as before', async (t) => {
  const { source, target, ids } = await fourDays(t);
  const unconfirmed = await runCli(['delete-slot', '--target', target, '--slot', '1']);
  assert.equal(unconfirmed.code, 2);
  assert.match(unconfirmed.stderr, new RegExp(`This would delete slot 1 \\(.* UTC, id ${ids[1]}\\) for good\\. Nothing was deleted\\.`));
  const stale = await runCli(['delete-slot', '--target', target, '--slot', '1', '--id', ids[2]!, '--yes']);
  assert.notEqual(stale.code, 0);
  assert.match(stale.stderr, /is slot 2 now/);
  assert.equal((await list(target)).slots.length, 4, 'nothing was deleted');

  const deleted = ok(await runCli(['delete-slot', '--target', target, '--slot', '1', '--id', ids[1]!, '--yes', '--json']));
  const result = JSON.parse(deleted.stdout) as { remaining: number; treeDeleted: boolean };
  assert.deepEqual({ remaining: result.remaining, treeDeleted: result.treeDeleted }, { remaining: 3, treeDeleted: true });
  const ring = await list(target);
  assert.deepEqual(ring.slots.map((s) => [s.number, s.id]), [[0, ids[0]], [1, ids[2]], [2, ids[3]]]);
  assert.deepEqual((await readdir(target)).filter((n) => !n.startsWith('.')).sort(), ['0', '1', '2']);
  assert.equal(await readFile(join(target, '1', 'day.txt'), 'utf8'), 'day 2\n', 'the slot of day 2 is slot 1 now');
  assert.deepEqual(await readdir(join(target, '.shadow-slots', 'trash')), []);
  const manifests = await readdir(join(target, '.shadow-slots', 'manifests'));
  assert.ok(!manifests.some((n) => n.startsWith(ids[1]!)), 'the manifest went with the slot');

  await writeFile(join(source, 'day.txt'), 'day 5\n');
  await backup(source, target);
  const after = await list(target);
  assert.equal(after.slots.length, 4);
  assert.equal((await stat(join(target, '0', 'a.txt'))).ino, (await stat(join(target, '1', 'a.txt'))).ino, 'the new slot links to the one before it');
});

test('a crash while a slot is being deleted is finished by the next list: no gap, no other slot lost', async (t) => {
  const { source, target, ids } = await fourDays(t);
  // Steps: drop slot 0, move 1→0, move 2→1, move 3→2; killed before the third step.
  const crashed = await runCli(['delete-slot', '--target', target, '--slot', '0', '--yes'], { SHADOW_SLOTS_FAULT: 'delete:step-2' });
  assert.equal(crashed.code, 137);
  const ring = await list(target);
  assert.deepEqual(ring.slots.map((s) => [s.number, s.id]), [[0, ids[1]], [1, ids[2]], [2, ids[3]]]);
  for (const [i, day] of [3, 2, 1].entries()) assert.equal(await readFile(join(target, String(i), 'day.txt'), 'utf8'), `day ${day}\n`);
  assert.ok(!(await readdir(target)).includes('3'));
  await backup(source, target, ['--no-skip-unchanged']);
  assert.deepEqual(await readdir(join(target, '.shadow-slots', 'trash')), [], 'the next backup deletes the dropped tree');
});

test('restore of a whole slot: into a new folder or an empty one; a folder with anything in it, a link or the ring itself is refused and nothing is written', async (t) => {
  const dir = await tempDir(t);
  const source = await project(dir);
  const target = join(dir, 'ring');
  await mkdir(target);
  const first = await backup(source, target);
  await writeFile(join(source, 'a.txt'), 'changed later\n');
  await backup(source, target);

  const fresh = join(dir, 'restored here');
  ok(await runCli(['restore', '--target', target, '--slot', '1', '--id', first.slot.id, '--to', fresh]));
  assert.equal(await readFile(join(fresh, 'a.txt'), 'utf8'), 'alpha\n', 'the older slot, not the newest');
  assert.equal(await readFile(join(fresh, 'src', 'b.ts'), 'utf8'), 'export const b = 1;\n');

  const empty = join(dir, 'empty');
  await mkdir(empty);
  ok(await runCli(['restore', '--target', target, '--slot', '0', '--to', empty]));
  assert.equal(await readFile(join(empty, 'a.txt'), 'utf8'), 'changed later\n');
  assert.deepEqual((await readdir(empty)).sort(), ['a.txt', 'src'], 'no temporary folder is left');

  const busy = join(dir, 'busy');
  await mkdir(busy);
  await writeFile(join(busy, 'mine.txt'), 'keep me\n');
  const refused = await runCli(['restore', '--target', target, '--slot', '0', '--to', busy]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /is not empty .*never merges/);
  assert.deepEqual(await readdir(busy), ['mine.txt']);

  const link = join(dir, 'link');
  await symlink(empty, link);
  const linked = await runCli(['restore', '--target', target, '--slot', '0', '--to', link]);
  assert.equal(linked.code, 2);
  assert.match(linked.stderr, /is a symbolic link/);

  const inRing = await runCli(['restore', '--target', target, '--slot', '0', '--to', join(target, 'copy')]);
  assert.equal(inRing.code, 2);
  assert.match(inRing.stderr, /inside the ring/);
  assert.ok(!(await readdir(target)).includes('copy'));
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('.shadow-slots-restore')), []);
});

test('verify --repair: a file damaged in place (and so in every slot sharing it) is rewritten from the source; a deleted one is linked again; verify is clean afterwards', async (t) => {
  const dir = await tempDir(t);
  const source = await project(dir);
  const target = join(dir, 'ring');
  await mkdir(target);
  await backup(source, target);
  await writeFile(join(source, 'day.txt'), 'day 2\n');
  await backup(source, target);
  // An editor writing into the slot: the same inode is slot 0's and slot 1's a.txt.
  await writeFile(join(target, '0', 'a.txt'), 'oops\n');
  await rm(join(target, '0', 'src', 'b.ts'));

  const found = await runCli(['verify', '--target', target, '--slot', '0']);
  assert.equal(found.code, 1);
  assert.match(found.stdout, /changed: a\.txt/);
  assert.match(found.stdout, /missing: src\/b\.ts/);
  assert.match(found.stdout, /Run again with --repair/);

  await writeFile(join(source, 'src', 'b.ts'), 'edited since\n'); // the source no longer has slot 0's content
  const repaired = await runCli(['verify', '--target', target, '--slot', '0', '--repair']);
  assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
  assert.match(repaired.stdout, /repaired: a\.txt from the source .*\(also in slot 1: the same file\)/);
  assert.match(repaired.stdout, /repaired: src\/b\.ts from slot 1/);
  assert.match(repaired.stdout, /REPAIR: 2 of 2 damaged files repaired/);
  assert.equal(await readFile(join(target, '1', 'a.txt'), 'utf8'), 'alpha\n', 'the slot sharing the file is repaired with it');
  assert.equal((await stat(join(target, '0', 'src', 'b.ts'))).ino, (await stat(join(target, '1', 'src', 'b.ts'))).ino, 'linked again, as it was made');
  for (const slot of ['0', '1']) assert.match(ok(await runCli(['verify', '--target', target, '--slot', slot])).stdout, /OK: the slot matches its manifest/);
});
