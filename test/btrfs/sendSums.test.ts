// A slot received by btrfs send gets its checksum list from the previous slot's list and the
// stream's change log, without a walk of the slot: checked against the walk-based writer (every
// file hashed: the oracle) after every run, on randomized trees with hostile names, on real
// loop-mounted btrfs; and the fallback to the walk when the previous list cannot be merged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, link, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { btrfsSendPair, btrfsUnavailable } from '../helpers/btrfsLoop';
import { runCli, type CliRun } from '../helpers/cli';
import { mutate, NAMES, rng, seedTree, snapshotOf } from '../helpers/streamTree';
import { tempDir } from '../helpers/tmp';
import { run } from '../../src/platform/runner';
import { writeSlotSums } from '../../src/platform/treeSums';
import { comparePaths } from '../../src/platform/treeWalk';

const skip = btrfsUnavailable() ?? false;


async function backup(source: string, target: string, what: string): Promise<{ run: CliRun; id: string; logs: string[] }> {
  const r = await runCli(['backup', '--source', source, '--target', target, '--slots', '4', '--json', '--verbose']);
  assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
  const result = r.events.find((e) => e['type'] === 'result')!['result'] as { slot: { manifest: { id: string; transfer?: { method: string } } } };
  assert.equal(result.slot.manifest.transfer?.method, 'btrfs-send', `${what}: received by btrfs send`);
  return { run: r, id: result.slot.manifest.id, logs: r.events.filter((e) => e['type'] === 'log').map((e) => String(e['message'])) };
}

/** Slot 0's recorded list is the one a walk hashing every file writes, byte for byte; verify agrees. */
async function checkAgainstWalk(dir: string, target: string, id: string, what: string): Promise<void> {
  const oracle = join(dir, 'oracle.tsv');
  await writeSlotSums(join(target, '0'), oracle, null);
  const recorded = await readFile(join(target, '.shadow-slots', 'sums', `${id}.tsv`), 'utf8');
  const walked = await readFile(oracle, 'utf8');
  if (recorded !== walked) {
    const a = new Set(recorded.split('\n'));
    const b = new Set(walked.split('\n'));
    assert.fail(`${what}: the list differs from the walk's\nonly recorded: ${[...a].filter((l) => !b.has(l)).slice(0, 10).join('\n')}\nonly walked: ${[...b].filter((l) => !a.has(l)).slice(0, 10).join('\n')}`);
  }
  const verify = await runCli(['verify', '--target', target, '--slot', '0', '--json']);
  assert.equal(verify.code, 0, `${what}: verify ${verify.stdout}`);
}

/** What `mutate` does not do: folders moved whole (with and without changes inside), times alone, hard links, a fifo. */
async function moreChanges(source: string, r: ReturnType<typeof rng>, round: number): Promise<string[]> {
  const done: string[] = [];
  const all = snapshotOf(source);
  const of = (kind: string): string[] => [...all].filter(([, e]) => e.kind === kind).map(([p]) => p);
  const dirs = of('dir');
  if (dirs.length > 0) {
    const from = r.pick(dirs);
    const to = `moved ${round} ${r.pick(NAMES)}`;
    await rename(join(source, from), join(source, to));
    done.push(`move folder ${from} -> ${to}`);
    const inside = [...snapshotOf(join(source, to))].filter(([, e]) => e.kind === 'file').map(([p]) => p);
    if (round % 2 === 0 && inside.length > 0) {
      const p = r.pick(inside);
      await appendFile(join(source, to, p), ` moved and changed ${round}`);
      done.push(`append ${to}/${p}`);
    }
  }
  const files = [...snapshotOf(source)].filter(([, e]) => e.kind === 'file').map(([p]) => p);
  if (files.length > 1) {
    const touched = r.pick(files);
    await utimes(join(source, touched), new Date(Date.UTC(2020, 0, round)), new Date(Date.UTC(2020, 0, round)));
    done.push(`touch ${touched}`);
    const target = r.pick(files.filter((f) => f !== touched));
    const name = `hardlink ${round} ${r.pick(NAMES)}`;
    await link(join(source, target), join(source, name));
    done.push(`hard link ${name} -> ${target}`);
    if (round % 3 === 0) {
      // One name written: the other names (and the older link's) change too.
      await appendFile(join(source, name), ` through a link ${round}`);
      done.push(`append through ${name}`);
    }
  }
  if (round % 3 === 1) {
    const fifo = `fifo ${round} ${r.pick(NAMES)}`;
    await run('mkfifo', ['--', join(source, fifo)]);
    done.push(`fifo ${fifo}`);
  }
  const topDirs = [...snapshotOf(source)].filter(([p, e]) => e.kind === 'dir' && !p.includes('/')).map(([p]) => p);
  if (topDirs.length > 2 && round % 2 === 1) {
    const victim = r.pick(topDirs);
    await rm(join(source, victim), { recursive: true });
    done.push(`delete folder ${victim}`);
  }
  return done;
}

test('received slots: the checksum list merged from the change log is the walk\'s, run after run of random changes with hostile names', { skip, timeout: 600_000 }, async (t) => {
  const { source, target } = await btrfsSendPair(t);
  const dir = await tempDir(t);
  const seed = 1313;
  await seedTree(source, rng(seed));
  const r = rng(seed + 1);
  for (let round = 0; round < 9; round++) {
    const ops = round === 0 ? ['seed'] : [...(await mutate(source, r, round)), ...(await moreChanges(source, r, round))];
    const what = `seed ${seed}, round ${round} after ${ops.join('; ')}`;
    const { id, logs } = await backup(source, target, what);
    if (round > 0) {
      assert.ok(logs.some((m) => m.startsWith('Checksums from the change log:')), `${what}: merged, not walked (${logs.join(' | ')})`);
      assert.ok(!logs.some((m) => /Checksums by walking the slot|cannot be merged/.test(m)), `${what}: no walk`);
    }
    await checkAgainstWalk(dir, target, id, what);
  }
});

test('a received slot is walked, saying why, when the previous list cannot be merged (a format-1 list)', { skip, timeout: 300_000 }, async (t) => {
  const { source, target } = await btrfsSendPair(t);
  const dir = await tempDir(t);
  await seedTree(source, rng(77));
  const first = await backup(source, target, 'first');
  // The list as rings before format 2 wrote it: walk order, no header.
  const sums = join(target, '.shadow-slots', 'sums', `${first.id}.tsv`);
  const lines = (await readFile(sums, 'utf8')).split('\n').filter(Boolean).slice(1);
  const pathOf = (line: string): string => JSON.parse(line.split('\t')[4]!) as string;
  await writeFile(sums, lines.sort((a, b) => comparePaths(pathOf(a), pathOf(b))).map((l) => `${l}\n`).join(''));
  await writeFile(join(source, 'new after format 1'), 'n');
  const second = await backup(source, target, 'second');
  assert.ok(second.logs.some((m) => /cannot be merged from the change log \(the previous checksum list is format 1/.test(m)), second.logs.join(' | '));
  assert.ok(second.logs.some((m) => m.startsWith('Checksums by walking the slot')), second.logs.join(' | '));
  await checkAgainstWalk(dir, target, second.id, 'after the fallback');
  // The walked list is format 2: the next run merges again.
  await writeFile(join(source, 'new after the walk'), 'w');
  const third = await backup(source, target, 'third');
  assert.ok(third.logs.some((m) => m.startsWith('Checksums from the change log:')), third.logs.join(' | '));
  await checkAgainstWalk(dir, target, third.id, 'merged again');
});
