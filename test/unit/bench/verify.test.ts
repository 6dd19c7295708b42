import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkSlot, differencesFrom, ENGINE_SNAPSHOT_DIR } from '../../../bench/lib/verify';
import { run } from '../../../src/platform/runner';

async function fixture(t: { after: (fn: () => Promise<void>) => void }): Promise<{ src: string; slot: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-verify-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const src = join(dir, 'src');
  await mkdir(join(src, 'a b'), { recursive: true });
  await writeFile(join(src, 'a b', 'one.txt'), 'content one');
  await writeFile(join(src, 'two.bin'), 'content two');
  const slot = join(dir, 'slot');
  await run('rsync', ['-rt', `${src}/`, `${slot}/`]);
  return { src, slot };
}

test('an exact copy passes', async (t) => {
  const { src, slot } = await fixture(t);
  const c = await checkSlot(src, slot, 2);
  assert.equal(c.ok, true, c.differences.join('\n'));
  assert.equal(c.files, 2);
});

test('same size and mtime but different bytes is caught (content is compared, not metadata)', async (t) => {
  const { src, slot } = await fixture(t);
  await writeFile(join(slot, 'two.bin'), 'CONTENT TWO');
  const when = new Date('2026-01-01T00:00:00Z');
  await utimes(join(slot, 'two.bin'), when, when);
  await utimes(join(src, 'two.bin'), when, when);
  const c = await checkSlot(src, slot, 2);
  assert.equal(c.ok, false);
  assert.match(c.differences.join('\n'), /two\.bin/);
});

test('a missing file, an extra file and a wrong count are caught', async (t) => {
  const { src, slot } = await fixture(t);
  await rm(join(slot, 'a b', 'one.txt'));
  assert.equal((await checkSlot(src, slot, 2)).ok, false);
  await writeFile(join(slot, 'a b', 'one.txt'), 'content one');
  await writeFile(join(slot, 'extra'), 'x');
  const c = await checkSlot(src, slot, 2);
  assert.equal(c.ok, false);
  assert.match(c.differences.join('\n'), /deleting\s+extra/);
  assert.equal((await checkSlot(src, join(slot, 'a b'), 1)).ok, false, 'a different tree with the same count fails on content');
});

test("the engine's btrfs snapshot folder in the source is not compared", async (t) => {
  const { src, slot } = await fixture(t);
  await mkdir(join(src, ENGINE_SNAPSHOT_DIR, 'snap'), { recursive: true });
  await writeFile(join(src, ENGINE_SNAPSHOT_DIR, 'snap', 'f'), 'x');
  assert.equal((await checkSlot(src, slot, 2)).ok, true);
});

test('differencesFrom keeps only itemized lines', () => {
  assert.deepEqual(differencesFrom('*deleting   x\n>fc.T...... d/f\ncd+++++++++ e/\n\nsending incremental file list\n'), ['*deleting   x', '>fc.T...... d/f', 'cd+++++++++ e/']);
});
