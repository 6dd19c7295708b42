// A copy-on-write ring records its checksums from rsync's -ii list too: rsync writes changed files
// in place (same inode) into a snapshot of slot 0, so only what it wrote is hashed and the rest is
// slot 0's list; checked against a plain walk of both slots on randomized trees with hostile names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { btrfsLoop, btrfsUnavailable } from '../helpers/btrfsLoop';
import { runCli } from '../helpers/cli';
import { checkNewestSlot, mutate, rng, seedTree } from '../helpers/streamTree';
import { tempDir } from '../helpers/tmp';

const skip = btrfsUnavailable() ?? false;

test('copy-on-write slots: rsync\'s list gives the checksums, change log and counts a walk gives, hashing only what rsync wrote', { skip, timeout: 300_000 }, async (t) => {
  const mnt = await btrfsLoop(t, 320);
  const target = join(mnt, 'ring');
  await mkdir(target);
  const source = join(await tempDir(t), 'source');
  await mkdir(source);
  const seed = 1716;
  await seedTree(source, rng(seed));
  const r = rng(seed + 1);
  for (let round = 0; round < 6; round++) {
    const ops = round === 0 ? ['seed'] : await mutate(source, r, round);
    const what = `round ${round} after ${ops.join('; ')}`;
    const run = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--slots', '3', '--target-mode', 'cow', '--json', '--verbose']);
    assert.equal(run.code, 0, `${what}: ${run.stderr}`);
    const result = run.events.find((e) => e['type'] === 'result')?.['result'] as { slot: { manifest: { storage: { kind: string }; counts: { created: number; changed: number } } } };
    assert.equal(result.slot.manifest.storage.kind, 'btrfs', what);
    const logs = run.events.filter((e) => e['type'] === 'log').map((e) => String(e['message']));
    assert.deepEqual(run.events.filter((e) => e['type'] === 'log' && e['level'] !== 'info').map((e) => String(e['message'])), [], `${what}: no warning`);
    await checkNewestSlot(target, what, true);
    if (round > 0) {
      // Only the entries rsync wrote are read again: the created and changed ones.
      const line = logs.find((m) => m.startsWith('Checksums from rsync\'s list'));
      assert.ok(line, `${what}: the checksums came from rsync's list (${logs.join(' | ')})`);
      const hashed = Number(/(\d+) entries hashed/.exec(line)![1]);
      const { created, changed } = result.slot.manifest.counts;
      assert.ok(hashed <= created + changed, `${what}: ${hashed} hashed for ${created} created and ${changed} changed`);
      assert.ok(Number(/(\d+) carried/.exec(line)![1]) > 0, `${what}: unchanged files carried over`);
    }
    const verify = await runCli(['verify', '--target', target, '--slot', '0', '--json']);
    assert.equal(verify.code, 0, `${what}: verify ${verify.stdout}`);
  }
  // Dropped snapshots are deleted by the run itself (btrfs subvolume delete returns at once).
  const listing = JSON.parse((await runCli(['list', '--target', target, '--json'])).stdout) as { slots: unknown[] };
  assert.equal(listing.slots.length, 3);
});
