import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { applyMutation, planMutation } from '../../../bench/lib/mutate';
import { createRng, subSeed } from '../../../bench/lib/random';
import { BASE_MTIME, contentPool, MAX_DEPTH, MEAN_FILE_BYTES, planTree, writeTree } from '../../../bench/lib/tree';
import { countFiles } from '../../../bench/lib/verify';

test('the PRNG is deterministic per seed and stays in range', () => {
  const a = createRng(42); const b = createRng(42); const c = createRng(43);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.next()));
  assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => c.next()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const r = createRng(7);
  for (let i = 0; i < 1000; i++) { const v = r.int(5); assert.ok(Number.isInteger(v) && v >= 0 && v < 5); }
  assert.notEqual(subSeed(1, 2), subSeed(1, 3));
});

test('planTree is deterministic, hits the size budget and keeps paths unique and shallow enough', () => {
  const spec = { files: 20_000, totalBytes: 20_000 * MEAN_FILE_BYTES, seed: 99 };
  const p1 = planTree(spec);
  const p2 = planTree(spec);
  assert.deepEqual(p1, p2);
  assert.equal(p1.files.length, 20_000);
  const total = p1.files.reduce((s, f) => s + f.size, 0);
  assert.ok(Math.abs(total - spec.totalBytes) / spec.totalBytes < 0.01, `total ${total} vs ${spec.totalBytes}`);
  assert.equal(new Set(p1.files.map((f) => f.path)).size, 20_000, 'file paths are unique');
  const depths = p1.dirs.map((d) => d.split('/').length);
  assert.ok(Math.max(...depths) <= MAX_DEPTH && Math.max(...depths) >= 6, `depth ${Math.max(...depths)}`);
  const sizes = p1.files.map((f) => f.size).sort((a, b) => a - b);
  // A realistic spread: many small files, a heavy tail of large ones, some empty.
  assert.ok(sizes[Math.floor(sizes.length / 2)]! < MEAN_FILE_BYTES, 'median below mean');
  assert.ok(sizes[sizes.length - 1]! > 100 * MEAN_FILE_BYTES, 'some large files');
  assert.ok(sizes.filter((s) => s === 0).length > 100, 'some empty files');
  assert.notDeepEqual(planTree({ ...spec, seed: 100 }).files.slice(0, 5), p1.files.slice(0, 5));
});

test('writeTree writes exactly the planned files, sizes and content', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-tree-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const plan = planTree({ files: 400, totalBytes: 400 * 3000, seed: 5 });
  const pool = contentPool(5);
  await writeTree(join(dir, 'src'), plan, pool);
  assert.equal(await countFiles(join(dir, 'src')), 400);
  for (const f of plan.files.slice(0, 50)) {
    const st = await stat(join(dir, 'src', f.path));
    assert.equal(st.size, f.size, f.path);
    assert.equal(st.mtimeMs, BASE_MTIME.getTime());
    const body = await readFile(join(dir, 'src', f.path));
    assert.ok(body.equals(pool.subarray(f.offset, f.offset + f.size)), `content of ${f.path}`);
  }
});

test('planMutation changes 1 % of files plus a few adds and deletes, deterministically', () => {
  const plan = planTree({ files: 20_000, totalBytes: 20_000 * 1000, seed: 3 });
  const m = planMutation(plan.files, plan.dirs, 1, 3);
  assert.deepEqual(m, planMutation(plan.files, plan.dirs, 1, 3));
  assert.equal(m.rewrite.length, 200);
  assert.equal(m.add.length, 10);
  assert.equal(m.remove.length, 10);
  const touched = [...m.rewrite.map((f) => f.path), ...m.remove];
  assert.equal(new Set(touched).size, touched.length, 'no file is both rewritten and removed');
  const existing = new Set(plan.files.map((f) => f.path));
  assert.ok(m.add.every((f) => !existing.has(f.path)), 'added files are new');
  assert.notDeepEqual(planMutation(plan.files, plan.dirs, 2, 3).rewrite[0], m.rewrite[0]);
  assert.throws(() => planMutation(plan.files, plan.dirs, 0, 3), /round/);
});

test('applyMutation rewrites content and mtime on disk and returns the new file list', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-mut-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const plan = planTree({ files: 300, totalBytes: 300 * 2000, seed: 8 });
  const pool = contentPool(8);
  const src = join(dir, 'src');
  await writeTree(src, plan, pool);
  const m = planMutation(plan.files, plan.dirs, 1, 8);
  const before = await readFile(join(src, m.rewrite[0]!.path));
  const next = await applyMutation(src, plan, m, pool);
  assert.equal(next.files.length, 300 - m.remove.length + m.add.length);
  assert.equal(await countFiles(src), next.files.length);
  const after = await readFile(join(src, m.rewrite[0]!.path));
  assert.ok(!after.equals(before), 'content changed');
  assert.equal(after.length, m.rewrite[0]!.size);
  assert.equal((await stat(join(src, m.rewrite[0]!.path))).mtimeMs, m.mtime.getTime());
  await assert.rejects(stat(join(src, m.remove[0]!)), /ENOENT/);
  assert.equal((await stat(join(src, m.add[0]!.path))).size, m.add[0]!.size);
});
