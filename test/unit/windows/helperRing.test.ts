import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, rm, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listRing } from '../../../src/engine/list';
import { parseManifest } from '../../../src/core/manifest';
import { parseRingState, planRotation } from '../../../src/core/ring';

const fixture = join(__dirname, '../../fixtures/windows/ring');
const ids = ['20261126T230003Z-6a7b8c', '20261125T230002Z-3d4e5f', '20261124T230001Z-0a1b2c'];

async function copyFixture(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ss-win-ring-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const target = join(dir, 'ring');
  await cp(fixture, target, { recursive: true });
  return target;
}

test('the engine reads a ring written by the Windows helper (PowerShell 5.1 JSON layout and escapes)', async (t) => {
  const target = await copyFixture(t);
  const listing = await listRing(target);
  const complete = listing.slots.filter((s) => s.state === 'complete');
  assert.deepEqual(complete.map((s) => [s.number, s.id]), [[0, ids[0]], [1, ids[1]], [2, ids[2]]]);
  for (const s of complete) {
    assert.equal(s.manifest?.state, 'complete');
    assert.equal(s.manifest?.snapshot.method, 'vss');
    assert.match(s.manifest!.snapshot.id!, /^\{[0-9A-F-]{36}\}$/);
    assert.equal(s.manifest?.source, "C:\\Users\\alice\\R&D 'Projekt' Ünï");
    assert.equal(s.manifest?.rsync.exitCode, 0);
    assert.equal(s.manifest?.rsync.argv[0], 'C:\\msys64\\usr\\bin\\rsync.exe');
  }
  assert.equal(complete[0]!.manifest?.linkDest, ids[1]);
  assert.equal(complete[2]!.manifest?.linkDest, null);
  assert.deepEqual(complete[0]!.manifest?.counts, { files: 3, dirs: 2, created: 1, changed: 2, deleted: 0, bytesSent: 90, totalSize: 90 });
  const partial = listing.slots.filter((s) => s.number === null);
  assert.deepEqual(partial.map((s) => [s.id, s.state]), [['20261127T230004Z-9d0e1f', 'partial']]);
  assert.equal(listing.busy, false);
  assert.equal(await readFile(join(target, '0', 'locked.pst'), 'utf8'), 'held open exclusively during the backup\n');
});

test('a rotation the helper journaled and did not finish is rolled forward by the engine', async (t) => {
  const target = await copyFixture(t);
  const meta = join(target, '.shadow-slots');
  const ring = parseRingState(await readFile(join(meta, 'ring.json'), 'utf8'));
  const newId = '20261128T230005Z-112233';
  // What helper.ps1 writes before its first rename (Get-RotationPlan mirrors planRotation),
  // laid out the way ConvertTo-Json writes it; capacity 3 drops the oldest slot.
  const plan = planRotation(ring, 3, newId);
  const journal = { format: 1, rotation: { newId, steps: plan.steps, final: plan.final, startedAt: '2026-11-28T23:05:00.000Z' }, snapshots: [] };
  await writeFile(join(meta, 'journal.json'), JSON.stringify(journal, null, 4).replace(/": /g, '":  '));
  // The new slot is complete in incoming/, and the helper crashed after the first step (drop).
  const { mkdir, rename } = await import('node:fs/promises');
  await mkdir(join(meta, 'incoming', newId));
  await writeFile(join(meta, 'incoming', newId, 'notes.txt'), 'fifth\n');
  const manifest = parseManifest(await readFile(join(meta, 'manifests', `${ids[0]}.json`), 'utf8'));
  await writeFile(join(meta, 'manifests', `${newId}.json`), JSON.stringify({ ...manifest, id: newId, linkDest: ids[0] }, null, 4));
  await rm(join(meta, 'incoming', '20261127T230004Z-9d0e1f'), { recursive: true });
  await mkdir(join(meta, 'trash'), { recursive: true }); // git keeps no empty folders
  await rename(join(target, '2'), join(meta, 'trash', ids[2]));

  const listing = await listRing(target);
  assert.deepEqual(listing.slots.filter((s) => s.state === 'complete').map((s) => [s.number, s.id]), [[0, newId], [1, ids[0]], [2, ids[1]]]);
  assert.equal(await readFile(join(target, '0', 'notes.txt'), 'utf8'), 'fifth\n');
  assert.equal(await readFile(join(target, '1', 'locked.pst'), 'utf8'), 'held open exclusively during the backup\n');
  assert.deepEqual(parseRingState(await readFile(join(meta, 'ring.json'), 'utf8')), plan.final);
});
