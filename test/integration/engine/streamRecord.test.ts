// The checksum list, change log and counts a backup derives from rsync's -ii output (no walk of
// the new slot) compared with what a full walk of the two newest slots says, on randomized trees
// changed every way a working day changes a drive, with real rsync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp';
import { runCli } from '../../helpers/cli';
import { compareRsyncOrder } from '../../../src/core/rsyncOrder';
import { parseListedLine } from '../../../src/core/rsyncOutput';
import { buildRsyncArgv } from '../../../src/core/rsyncArgs';
import { runRsync } from '../../../src/engine/rsyncRun';
import { sumsOrderOf } from '../../../src/platform/treeSums';
import { SUMS_HEADER } from '../../../src/core/sums';
import { checkNewestSlot, fixture, mutate, NAMES, rng, seedTree, snapshotOf } from '../../helpers/streamTree';

for (const seed of [16, 1616]) {
  test(`randomized trees (seed ${seed}): rsync's list gives the checksums, change log and counts a full walk gives`, async (t) => {
    const { dir, source, target } = await fixture(t, seed);
    const r = rng(seed + 1);
    const backup = () => runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--slots', '4', '--json', '--verbose']);
    for (let round = 0; round < 10; round++) {
      const ops = round === 0 ? ['seed'] : await mutate(source, r, round);
      const run = await backup();
      const what = `round ${round} after ${ops.join('; ')}`;
      assert.equal(run.code, 0, `${what}: ${run.stderr}`);
      const logs = run.events.filter((e) => e['type'] === 'log').map((e) => String(e['message']));
      const warnings = run.events.filter((e) => e['type'] === 'log' && e['level'] !== 'info').map((e) => String(e['message']));
      assert.deepEqual(warnings, [], `${what}: rsync's list was used, not a walk`);
      assert.ok(!logs.some((m) => m.includes('--dry-run')), `${what}: no second rsync for the deletions`);
      await checkNewestSlot(target, what);
      const verify = await runCli(['verify', '--target', target, '--slot', '0', '--json']);
      assert.equal(verify.code, 0, `${what}: verify ${verify.stdout}`);
    }
    // Hostile names never reached a shell.
    for (const where of [dir, source, process.cwd()]) assert.ok(!(await readdir(where)).some((n) => n.startsWith('PWNED')));
  });
}

test('real rsync lists every entry with -ii in exactly compareRsyncOrder, hostile names included', async (t) => {
  const dir = await tempDir(t);
  const source = join(dir, 'source');
  await mkdir(source);
  await seedTree(source, rng(7));
  for (const name of NAMES) {
    await mkdir(join(source, `${name}.d`, name), { recursive: true });
    await writeFile(join(source, `${name}.d`, name, name), name);
    await writeFile(join(source, name), name).catch(() => undefined);
  }
  const listOf = async (destination: string, linkDest?: string): Promise<string[]> => {
    const lines: string[] = [];
    const copy = await runRsync('rsync', buildRsyncArgv({ source, destination, linkDest, excludes: [], extraArgs: [], listUnchanged: true }), join(dir, `${destination.length}.log`), { list: { line: (l) => lines.push(l), end: async () => undefined } });
    assert.equal(copy.exitCode, 0, copy.stderrTail);
    return lines;
  };
  const first = await listOf(join(dir, 'copy'));
  const second = await listOf(join(dir, 'next'), join(dir, 'copy'));
  for (const list of [first, second]) {
    const listed = list.map((l) => parseListedLine(l)).filter((e) => e !== undefined && e.kind !== 'dir').map((e) => e!.path);
    assert.deepEqual(listed, [...listed].sort(compareRsyncOrder));
    const walked = [...snapshotOf(source)].filter(([, e]) => e.kind !== 'dir').map(([p]) => p).sort(compareRsyncOrder);
    assert.deepEqual(listed, walked);
  }
  const linked = second.map((l) => parseListedLine(l)).filter((e) => e && e.kind === 'file');
  assert.ok(linked.length > 0 && linked.every((e) => e!.how === 'linked'), 'unchanged files are listed as hard-linked to the --link-dest slot');
});

test('a resumed copy: files the interrupted run copied are listed as kept, and still logged, counted and checksummed against the previous slot', async (t) => {
  const { source, target } = await fixture(t, 3);
  const backup = (env: Record<string, string> = {}) => runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--json', '--verbose'], env);
  assert.equal((await backup()).code, 0);
  const changedFile = [...snapshotOf(source)].find(([, e]) => e.kind === 'file')![0];
  await writeFile(join(source, 'added-before-the-kill'), 'new');
  await appendFile(join(source, changedFile), ' changed');
  await rm(join(source, 'link-to-plain'));
  await writeFile(join(source, 'link-to-plain'), 'a file now');
  // Killed after rsync finished, before the rotation: the next run resumes the finished copy, so
  // rsync finds every new and changed file already there and lists it as kept (`.f`).
  const killed = await backup({ SHADOW_SLOTS_FAULT: 'phase:rotate' });
  assert.notEqual(killed.code, 0);
  assert.equal((await readdir(join(target, '.shadow-slots', 'incoming'))).length, 1);
  await writeFile(join(source, 'added-after-the-kill'), 'newer');
  const resumed = await backup();
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.ok(resumed.events.some((e) => e['type'] === 'result' && JSON.stringify(e).includes('Resuming an unfinished backup')));
  assert.deepEqual(resumed.events.filter((e) => e['type'] === 'log' && e['level'] !== 'info'), [], 'rsync\'s list was used, not a walk');
  await checkNewestSlot(target, 'resumed');
  const log = await readFile(join(target, '.shadow-slots', 'changes', `${(resumed.events.find((e) => e['type'] === 'complete')!['id']) as string}.log`), 'utf8');
  for (const line of ['+ "added-before-the-kill"', `~ ${JSON.stringify(changedFile)}`, '~ "link-to-plain"', '+ "added-after-the-kill"']) assert.ok(log.includes(line), `${line} in ${log}`);
});

test('a slot whose checksums a kill prevented gets them from the next run, and a format-1 list (walk order) is merged and verified', async (t) => {
  const { source, target } = await fixture(t, 5);
  const backup = (env: Record<string, string> = {}) => runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--json'], env);
  assert.equal((await backup()).code, 0);
  // Rewrite slot 0's list as a ring from before format 2 has it: walk order, no header.
  const meta = join(target, '.shadow-slots');
  const [sumsName] = await readdir(join(meta, 'sums'));
  const v2 = (await readFile(join(meta, 'sums', sumsName!), 'utf8')).split('\n').filter((l) => l && l !== SUMS_HEADER);
  const { comparePaths } = await import('../../../src/platform/treeWalk');
  const pathOf = (l: string) => JSON.parse(l.slice(l.lastIndexOf('\t') + 1)) as string;
  await writeFile(join(meta, 'sums', sumsName!), v2.sort((a, b) => comparePaths(pathOf(a), pathOf(b))).map((l) => `${l}\n`).join(''));
  assert.equal(await sumsOrderOf(join(meta, 'sums', sumsName!)), 'walk');
  const someFile = [...snapshotOf(source)].find(([, e]) => e.kind === 'file')![0];
  await appendFile(join(source, someFile), ' v2');
  await writeFile(join(source, 'zz-new'), 'z');
  const merged = await backup();
  assert.equal(merged.code, 0, merged.stderr);
  await checkNewestSlot(target, 'merged with a format-1 list');
  for (const slot of ['0', '1']) assert.equal((await runCli(['verify', '--target', target, '--slot', slot])).code, 0, `verify slot ${slot}`);
  // Killed after the rotation, before its checksums: complete, but without a list until the next run.
  await appendFile(join(source, someFile), ' v3');
  const killed = await backup({ SHADOW_SLOTS_FAULT: 'phase:finalize' });
  assert.notEqual(killed.code, 0);
  const noSums = await runCli(['verify', '--target', target, '--slot', '0', '--json']);
  assert.equal((JSON.parse(noSums.stdout) as { verified: boolean }).verified, false);
  await writeFile(join(source, 'after'), 'a');
  assert.equal((await backup()).code, 0);
  for (const slot of ['0', '1', '2']) assert.equal((await runCli(['verify', '--target', target, '--slot', slot])).code, 0, `verify slot ${slot}`);
});

test('rsync output out of order (another rsync, an option that reorders it): the slot is walked instead, with the same result', async (t) => {
  const { dir, source, target } = await fixture(t, 11);
  // An "rsync" that slips in an entry which sorts before everything, after the first few.
  const wrapper = join(dir, 'rsync-reordering');
  await writeFile(wrapper, '#!/bin/bash\nrsync "$@" | awk \'NR == 6 { print "hf          !first-but-late" } { print }\'\nexit ${PIPESTATUS[0]}\n', { mode: 0o755 });
  const profile = join(dir, 'profile.json');
  await writeFile(profile, JSON.stringify({ source, target, snapshot: 'none', rsyncPath: wrapper }));
  const backup = () => runCli(['backup', '--profile', profile, '--json', '--verbose']);
  assert.equal((await backup()).code, 0);
  const someFile = [...snapshotOf(source)].find(([, e]) => e.kind === 'file')![0];
  await appendFile(join(source, someFile), ' changed');
  await writeFile(join(source, 'new-file'), 'n');
  const run = await backup();
  assert.equal(run.code, 0, run.stderr);
  const logs = run.events.filter((e) => e['type'] === 'log').map((e) => String(e['message']));
  assert.ok(logs.some((m) => m.includes('is not in rsync\'s order') && m.includes('walking the slot instead')), logs.join(' | '));
  await checkNewestSlot(target, 'walked');
  assert.equal((await runCli(['verify', '--target', target, '--slot', '0'])).code, 0);
});
