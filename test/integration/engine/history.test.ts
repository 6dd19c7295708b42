// File history, change marks and find on real hard-linked rings made by the CLI (rsync
// --link-dest): exact versions, deleted-then-made-again, a rename, hostile names, an adopted seed
// ring without change logs or checksums, and the index cache (built once, updated by slot id when
// a backup adds a slot and the ring rotates, rebuilt when damaged, correct after a crash).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileHistory } from '../../../src/engine/history';
import { slotChanges } from '../../../src/engine/slotChanges';
import { findInSlots } from '../../../src/engine/findInSlots';
import { forgetIndexes, ringIndex } from '../../../src/engine/ringIndex';
import { listRing } from '../../../src/engine/list';
import { setLogSink } from '../../../src/platform/runner';
import { run } from '../../../src/platform/runner';
import { writeVersion } from '../../helpers/cowScenario';
import { runCli } from '../../helpers/cli';
import { backupOk, HOSTILE_FILES, privateIndexCache, sourceAndRing, tenRuns } from '../../helpers/historyRing';

const numbers = (refs: Array<{ number: number }>) => refs.map((r) => r.number);

/** Log lines of the index while `fn` runs ("Indexed slot N …" per slot read). */
async function indexing<T>(fn: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const lines: string[] = [];
  setLogSink((_, m) => { if (m.startsWith('Indexed slot')) lines.push(m); });
  try { return { value: await fn(), lines }; } finally { setLogSink(() => undefined); }
}

test('a hard-linked ring of ten runs: versions, gaps, a rename, hostile names, changes and find', async (t) => {
  await privateIndexCache(t);
  const { source, target } = await sourceAndRing(t);
  // Run 2 changes nothing: kept as a slot all the same, so the ring has ten (a skipped run would make none).
  await tenRuns(source, () => backupOk(source, target, ['--no-skip-unchanged']));
  await writeVersion(join(source, 'f.txt'), 'edited today\n', 99);

  // f.txt changed in slots 0, 3 and 7: exactly three versions, none of them today's file.
  const f = await fileHistory(target, 'f.txt');
  assert.deepEqual(f.versions.map((v) => numbers(v.slots)), [[0], [1, 2, 3], [4, 5, 6, 7]]);
  assert.deepEqual(f.gaps.map((g) => numbers(g.slots)), [[8, 9]]);
  assert.deepEqual(f.versions.map((v) => v.toldApartBy), ['inode', 'inode', null]);
  assert.deepEqual(f.versions.map((v) => v.size), [21, 14, 6]);
  assert.equal(f.current?.path, join(source, 'f.txt'));
  assert.deepEqual(f.versions.map((v) => v.sameAsCurrent), [false, false, false]);
  assert.deepEqual(f.notes, []);
  // Today's file put back as slot 0 has it: the newest version is today's.
  await writeVersion(join(source, 'f.txt'), 'f three, the longest\n', 10);
  assert.deepEqual((await fileHistory(target, './f.txt')).versions.map((v) => v.sameAsCurrent), [true, false, false]);
  // Same content, another time: still today's (the slot recorded its checksum).
  await writeVersion(join(source, 'f.txt'), 'f three, the longest\n', 77);
  assert.equal((await fileHistory(target, 'f.txt')).versions[0]!.sameAsCurrent, true);

  const keep = await fileHistory(target, 'keep.txt');
  assert.deepEqual(keep.versions.map((v) => numbers(v.slots)), [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]], 'an unchanged file is one version: one inode in every slot');

  // Deleted in run 3 (slot 6), made again in run 5 (slot 4).
  const g = await fileHistory(target, 'g.txt');
  assert.deepEqual(g.versions.map((v) => numbers(v.slots)), [[0, 1, 2, 3, 4], [7, 8, 9]]);
  assert.deepEqual(g.gaps.map((x) => numbers(x.slots)), [[5, 6]]);
  assert.deepEqual(g.versions.map((v) => v.sameContentAs), [null, null]);
  // Made again with the same content: a new inode, so another version, flagged as the same content.
  const same = await fileHistory(target, 'same.txt');
  assert.equal(same.versions.length, 2);
  assert.deepEqual(same.versions.map((v) => v.sameContentAs), [null, 0]);

  // A rename is a deletion and an addition (rsync does not follow renames); both names have their history.
  const old = await fileHistory(target, 'r-old.txt');
  assert.deepEqual(old.versions.map((v) => numbers(v.slots)), [[2, 3, 4, 5, 6, 7, 8, 9]]);
  assert.deepEqual(old.gaps.map((x) => numbers(x.slots)), [[0, 1]]);
  assert.equal(old.current?.exists, false);
  assert.deepEqual((await fileHistory(target, 'r-new.txt')).versions.map((v) => numbers(v.slots)), [[0, 1]]);
  const renamedIn = await slotChanges(target, 1, '');
  assert.equal(renamedIn.comparedWith?.number, 2);
  const root = new Map(renamedIn.marks.map((m) => [m.name, m]));
  assert.equal(root.get('r-old.txt')?.change, 'deleted');
  assert.equal(root.get('r-new.txt')?.change, 'added');
  assert.equal(root.get('r-old.txt')?.size, 'renamed later\n'.length, 'a ghost has the size of the version the older slot holds');

  // The whole folder `gone/` deleted in run 7 (slot 2): its entries are ghosts of slot 2, folder by folder.
  const goneRoot = (await slotChanges(target, 2, '')).marks.find((m) => m.name === 'gone');
  assert.deepEqual(goneRoot, { name: 'gone', kind: 'folder', change: 'below', size: null, mtimeMs: null, below: { added: 0, changed: 0, deleted: 2 } });
  assert.deepEqual((await slotChanges(target, 2, 'gone')).marks.map((m) => [m.name, m.kind, m.change]), [['deep', 'folder', 'below'], ['y.txt', 'file', 'deleted']]);
  assert.deepEqual((await slotChanges(target, 2, 'gone/deep')).marks.map((m) => [m.name, m.change]), [['x.txt', 'deleted']]);
  // Slot 0 changed f.txt only; the oldest slot has nothing to compare with.
  const newest = await slotChanges(target, 0, '');
  assert.deepEqual(newest.marks.map((m) => [m.name, m.change]), [['f.txt', 'changed']]);
  assert.equal(newest.total, 1);
  assert.deepEqual(await slotChanges(target, 9, ''), { comparedWith: null, marks: [], total: 0 });
  await assert.rejects(slotChanges(target, 10, ''), /Slot 10 does not exist/);

  // Hostile names: every one found, its history and marks by its exact name.
  const odd = (await slotChanges(target, 5, 'odd')).marks;
  assert.deepEqual(odd.map((m) => m.name).sort(), [...HOSTILE_FILES].sort());
  assert.ok(odd.every((m) => m.change === 'changed'));
  for (const n of HOSTILE_FILES) {
    const h = await fileHistory(target, `odd/${n}`);
    assert.equal(h.path, `odd/${n}`);
    assert.deepEqual(h.versions.map((v) => numbers(v.slots)), [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9]], JSON.stringify(n));
  }
  assert.deepEqual((await findInSlots(target, '$home')).results.map((r) => r.path), ['odd/$HOME']);
  assert.deepEqual((await findInSlots(target, '\'"$`')).results.map((r) => r.path), ['odd/\'"$`\\\n;&%']);

  // Find: a deleted file too, with where it still is and that the source no longer has it.
  const gone = await findInSlots(target, 'R- txt');
  assert.deepEqual(gone.results.map((r) => [r.path, r.slots, r.inSource]), [['r-new.txt', [[0, 1]], true], ['r-old.txt', [[2, 9]], false]]);
  assert.equal(gone.results[1]!.newest.number, 2);
  const deep = await findInSlots(target, 'deep/x');
  assert.deepEqual(deep.results.map((r) => [r.path, r.slots, r.inSource]), [['gone/deep/x.txt', [[3, 9]], false]]);
  const gaps = await findInSlots(target, 'g.txt');
  assert.deepEqual(gaps.results.map((r) => [r.path, r.slots]), [['g.txt', [[0, 4], [7, 9]]]]);
  assert.equal(gaps.slots, 10);
  assert.equal((await findInSlots(target, 'txt', { limit: 2 })).results.length, 2);

  // A folder or an absent path: no versions, said so.
  const folder = await fileHistory(target, 'odd');
  assert.deepEqual(folder.versions, []);
  assert.match(folder.notes.join(), /odd is a folder in the slots/);
  assert.deepEqual((await fileHistory(target, 'nothing.txt')).versions, []);
  await assert.rejects(fileHistory(target, '../etc/passwd'), /contains "\.\."/);
  await assert.rejects(fileHistory(target, ''), /must name a file/);
});

test('an adopted seed ring (the original recipe: no manifests, change logs or checksums) is walked once and told apart by inode', async (t) => {
  await privateIndexCache(t);
  const { source, target } = await sourceAndRing(t);
  // Three nights of the original scripts: rsync --link-dest into 2, then 1, then 0.
  for (const [night, folder] of [[1, '2'], [2, '1'], [3, '0']] as const) {
    if (night === 1) await writeVersion(join(source, 'a.txt'), 'night one\n', 1);
    if (night === 3) await writeVersion(join(source, 'a.txt'), 'night three\n', 3);
    await writeVersion(join(source, 'b.txt'), `b of night ${night}\n`, night);
    const linkDest = folder === '2' ? [] : [`--link-dest=${join(target, String(Number(folder) + 1))}`];
    await run('rsync', ['-rlt', ...linkDest, '--', `${source}/`, `${join(target, folder)}/`]);
  }
  await backupOk(source, target);
  const listed = await listRing(target);
  assert.deepEqual(listed.slots.map((s) => [s.number, s.manifest?.adopted ?? false]), [[0, false], [1, true], [2, true], [3, true]]);
  for (const s of listed.slots.filter((x) => x.manifest?.adopted)) {
    assert.equal(s.manifest?.checksums, null, 'an adopted slot has no checksum list');
    assert.ok(!existsSync(join(target, '.shadow-slots', 'changes', `${s.id}.log`)), 'and no change log');
  }
  const { value: a, lines } = await indexing(() => fileHistory(target, 'a.txt'));
  assert.equal(lines.filter((l) => /no checksum list/.test(l)).length, 3, lines.join('\n'));
  assert.equal(lines.filter((l) => /from its checksum list/.test(l)).length, 1, lines.join('\n'));
  // a.txt: night one in slots 2–3 (hard-linked), night three in slot 1 and, linked to it, slot 0.
  assert.deepEqual(a.versions.map((v) => numbers(v.slots)), [[0, 1], [2, 3]]);
  assert.deepEqual(a.versions.map((v) => v.toldApartBy), ['inode', null]);
  assert.deepEqual(a.notes, [], 'between hard-linked slots the inode decides, checksums or not');
  const b = await fileHistory(target, 'b.txt');
  assert.deepEqual(b.versions.map((v) => numbers(v.slots)), [[0, 1], [2], [3]]);
  // The marks of an adopted slot come from the index, not from a change log it does not have.
  assert.deepEqual((await slotChanges(target, 1, '')).marks.map((m) => [m.name, m.change]).sort(), [['a.txt', 'changed'], ['b.txt', 'changed']]);
  assert.deepEqual((await slotChanges(target, 2, '')).marks.map((m) => [m.name, m.change]), [['b.txt', 'changed']]);
});

test('the index cache: built once, then only a new slot is read; rotation and drops by id; a damaged cache rebuilt; correct after a crash before checksums', async (t) => {
  const cache = await privateIndexCache(t);
  const { source, target } = await sourceAndRing(t);
  for (let run = 0; run < 3; run++) {
    await writeVersion(join(source, 'f.txt'), `run ${run}\n`, run);
    await backupOk(source, target, ['--slots', '3']);
  }
  const first = await indexing(() => fileHistory(target, 'f.txt'));
  assert.equal(first.lines.length, 3, first.lines.join('\n'));
  const files = await readdir(join(cache, 'index'));
  assert.equal(files.length, 1);
  const file = join(cache, 'index', files[0]!);

  // Another process (a new editor window) reads the cache file: nothing is read from the ring again.
  forgetIndexes();
  const again = await indexing(() => fileHistory(target, 'f.txt'));
  assert.deepEqual(again.lines, []);
  assert.deepEqual(again.value, first.value);

  // A backup: the ring rotates (the oldest dropped). Only the new slot is read, from its checksum list.
  await writeVersion(join(source, 'f.txt'), 'run 3\n', 3);
  await backupOk(source, target, ['--slots', '3']);
  const rotated = await indexing(() => ringIndex(target, { fresh: true }));
  assert.equal(rotated.lines.length, 1, rotated.lines.join('\n'));
  assert.match(rotated.lines[0]!, /^Indexed slot 0 .* from its checksum list/);
  const ids = (await listRing(target)).slots.map((s) => s.id);
  assert.deepEqual(rotated.value.index.slots.map((s) => s.id), ids, 'the index holds exactly the ring\'s slots, by id');
  assert.deepEqual((await fileHistory(target, 'f.txt')).versions.map((v) => v.size), [6, 6, 6]);

  // A damaged cache file (cut short) is not believed: the index is built from the ring again.
  await truncate(file, Math.floor((await stat(file)).size / 2));
  forgetIndexes();
  const rebuilt = await indexing(() => fileHistory(target, 'f.txt'));
  assert.equal(rebuilt.lines.length, 3);
  assert.deepEqual(rebuilt.value.versions.map((v) => numbers(v.slots)), [[0], [1], [2]]);
  await writeFile(file, 'not gzip at all');
  forgetIndexes();
  assert.equal((await indexing(() => fileHistory(target, 'f.txt'))).lines.length, 3);

  // A run killed after its slot became 0, before recording checksums: slot 0 is walked…
  const killedText = 'run 4, killed before its checksums\n';
  await writeVersion(join(source, 'f.txt'), killedText, 4);
  const killed = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--slots', '3'], { SHADOW_SLOTS_FAULT: 'phase:finalize' });
  assert.equal(killed.code, 137, killed.stderr);
  const afterCrash = await indexing(() => fileHistory(target, 'f.txt'));
  assert.deepEqual(afterCrash.lines.map((l) => /no checksum list/.test(l)), [true], afterCrash.lines.join('\n'));
  assert.deepEqual(afterCrash.value.versions.map((v) => [numbers(v.slots), v.size]), [[[0], killedText.length], [[1], 6], [[2], 6]]);
  // …and read again from its checksum list once the next run has recorded it.
  await writeVersion(join(source, 'f.txt'), 'run 5\n', 5);
  await backupOk(source, target, ['--slots', '3']);
  const settled = await indexing(() => ringIndex(target, { fresh: true }));
  assert.equal(settled.lines.length, 2, settled.lines.join('\n'));
  assert.ok(settled.lines.every((l) => /from its checksum list/.test(l)), settled.lines.join('\n'));
  const manifests = await Promise.all((await listRing(target)).slots.map((s) => s.manifest?.checksums));
  assert.ok(manifests.every((c) => c !== null), 'every slot has its checksums now');
  assert.deepEqual((await fileHistory(target, 'f.txt')).versions.map((v) => v.size), [6, killedText.length, 6]);
});

test('the CLI: history and find print tables and --json, exit 1 when nothing is found, 2 on bad usage', async (t) => {
  await privateIndexCache(t);
  const { source, target } = await sourceAndRing(t);
  await mkdir(join(source, 'docs'));
  await writeVersion(join(source, 'docs', 'old notes.md'), 'old\n', 1);
  await writeVersion(join(source, 'app.ts'), 'one\n', 1);
  await backupOk(source, target);
  await writeVersion(join(source, 'app.ts'), 'two, longer\n', 2);
  await (await import('node:fs/promises')).rm(join(source, 'docs'), { recursive: true });
  await backupOk(source, target);

  const h = await runCli(['history', '--target', target, '--path', 'app.ts']);
  assert.equal(h.code, 0, h.stderr);
  const lines = h.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, new RegExp(`^app\\.ts: 2 versions in ${target.replace(/[/.]/g, '\\$&')}; today's file: `));
  assert.match(lines[1]!, /^version\s+slots\s+taken \(UTC\)\s+size\s+modified \(UTC\)\s+today/);
  assert.match(lines[2]!, /^1\s+0\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+12 bytes\s+2026-01-01 00:02\s+same\s+inode$/);
  assert.match(lines[3]!, /^2\s+1\s+.*4 bytes\s+2026-01-01 00:01\s+differs$/);
  const json = await runCli(['history', '--target', target, '--path', 'app.ts', '--json']);
  const parsed = JSON.parse(json.stdout) as { path: string; versions: Array<{ slots: Array<{ number: number; id: string; takenAt: string }>; size: number; sameAsCurrent: boolean }> };
  assert.equal(parsed.path, 'app.ts');
  assert.deepEqual(parsed.versions.map((v) => [v.slots[0]!.number, v.size, v.sameAsCurrent]), [[0, 12, true], [1, 4, false]]);
  const deleted = await runCli(['history', '--target', target, '--path', 'docs/old notes.md']);
  assert.equal(deleted.code, 0);
  assert.match(deleted.stdout, /does not exist today/);
  assert.match(deleted.stdout, /^-\s+0\s+.*not there$/m);
  const none = await runCli(['history', '--target', target, '--path', 'missing.txt']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /No slot of .* holds missing\.txt/);
  assert.equal((await runCli(['history', '--target', target])).code, 2);
  assert.equal((await runCli(['history', '--target', target, '--path', '../x'])).code, 2);

  const f = await runCli(['find', '--target', target, 'NOTES']);
  assert.equal(f.code, 0, f.stderr);
  assert.match(f.stdout, /^docs\/old notes\.md\s+slot 1 · not in the source now \(newest copy: slot 1, \d{4}-\d\d-\d\d \d\d:\d\d UTC\)\n$/);
  const fj = JSON.parse((await runCli(['find', '--target', target, 'app', '--json'])).stdout) as { total: number; results: Array<{ path: string; slots: number[][]; inSource: boolean }> };
  assert.deepEqual([fj.total, fj.results.map((r) => [r.path, r.slots, r.inSource])], [1, [['app.ts', [[0, 1]], true]]]);
  const nothing = await runCli(['find', '--target', target, 'zzz']);
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, /No path in the 2 slot\(s\) of .* matches "zzz"/);
  assert.equal((await runCli(['find', '--target', target])).code, 2);
  assert.equal((await runCli(['find', '--target', target, 'a', 'b'])).code, 2);
  assert.equal((await runCli(['find', '--target', target, '  '])).code, 2);
  const missing = await runCli(['find', '--target', join(target, 'nope'), 'a']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /does not exist/);
  const help = await runCli(['--help']);
  assert.match(help.stdout, /history --target DIR --path REL \[--json\]/);
  assert.match(help.stdout, /find --target DIR PATTERN \[--json\]/);
  void readFile;
});
