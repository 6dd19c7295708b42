// What a listing shows while a backup is in the middle of its rotation. The instant is frozen
// deterministically: the engine is killed at a fault point between two renames, and its lock is
// then handed to a live process (this test), which is exactly what a concurrent `list` (or the
// Slots view refreshing) sees while the real engine sits between those renames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { explain, runCli } from './lib/cli';
import { measured } from './lib/figures';
import { listRing } from './lib/ring';
import { workDir } from './lib/setup';

// Regression: found by this suite, fixed in 5c5e75b. listRing() (through RingStore.readState)
// reconciled ring.json with the folders while a rotation was half done: it showed a gap, listed
// the folder just renamed as a complete slot "made without Shadow Slots" (adopted, no manifest),
// and after the promote step showed no slot 0.
test('regression: a listing taken in the middle of a rotation shows no gap and no bogus adopted slot', { timeout: 60_000 }, async (t) => {
  await measured('1b-list-during-rotation', async (rows) => {
    const work = await workDir(t, 'midrotation');
    const source = join(work, 'source');
    await mkdir(source);
    const results: string[] = [];
    const problems: string[] = [];
    for (const point of ['rotate:step-0', 'rotate:step-1', 'rotate:step-2', 'rotate:step-3']) {
      const target = join(work, `target-${point.replace(':', '-')}`);
      await mkdir(target);
      const args = ['backup', '--source', source, '--target', target, '--snapshot', 'none', '--slots', '5', '--json'];
      for (let i = 0; i < 3; i++) {
        await writeFile(join(source, 'a.txt'), `day ${i}`);
        const r = await runCli(args);
        assert.equal(r.code, 0, explain(r));
      }
      await writeFile(join(source, 'a.txt'), 'day 3');
      const killed = await runCli(args, { env: { SHADOW_SLOTS_FAULT: point } });
      assert.equal(killed.signal, 'SIGKILL', `killed at ${point}`);
      const lockFile = join(target, '.shadow-slots', 'lock');
      const owner = JSON.parse(readFileSync(lockFile, 'utf8')) as Record<string, unknown>;
      const stat = readFileSync(`/proc/${process.pid}/stat`, 'utf8');
      writeFileSync(lockFile, JSON.stringify({ ...owner, pid: process.pid, pidStart: stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] }));
      const listing = await listRing(target);
      assert.equal(listing.busy, true, 'the ring reads as busy, as during a real rotation');
      const complete = listing.slots.filter((s) => s.state === 'complete');
      const numbers = complete.map((s) => s.number!).sort((a, b) => a - b);
      const adopted = complete.filter((s) => s.id.startsWith('adopted-') || s.manifest === null);
      const gap = numbers.some((n, i) => n !== i);
      results.push(`${point}: slots [${numbers.join(',')}]${adopted.length > 0 ? `, ${adopted.length} shown as adopted/no manifest` : ''}`);
      if (gap) problems.push(`${point}: numbering has a gap: ${numbers.join(',')}`);
      if (adopted.length > 0) problems.push(`${point}: ${adopted.map((s) => s.number).join(',')} listed as a slot made without Shadow Slots`);
      if (complete.length < 3) problems.push(`${point}: only ${complete.length} of 3 complete slots listed`);
      // Hand the lock back to a dead owner so clean-up and any later run can recover it.
      writeFileSync(lockFile, JSON.stringify(owner));
    }
    rows.push(['Listing during a rotation (simulated live lock)', problems.length === 0 ? `consistent at every step (${results.join('; ')})` : `BUG: ${results.join('; ')}`]);
    assert.deepEqual(problems, []);
  });
});
