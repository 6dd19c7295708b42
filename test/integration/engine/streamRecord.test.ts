// The checksum list, change log and counts a backup derives from rsync's -ii output (no walk of
// the new slot) compared with what a full walk of the two newest slots says, on randomized trees
// changed every way a working day changes a drive, with real rsync.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { appendFile, mkdir, readFile, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tempDir } from '../../helpers/tmp';
import { runCli } from '../../helpers/cli';
import { compareRsyncOrder } from '../../../src/core/rsyncOrder';
import { parseListedLine } from '../../../src/core/rsyncOutput';
import { buildRsyncArgv } from '../../../src/core/rsyncArgs';
import { runRsync } from '../../../src/engine/rsyncRun';
import { readSums, sumsOrderOf } from '../../../src/platform/treeSums';
import { walkTree } from '../../../src/platform/treeWalk';
import { SUMS_HEADER } from '../../../src/core/sums';
import { createRng } from '../../../bench/lib/random';

/** Names that break shell splicing, rsync's escaping, and naive orderings. */
const NAMES = ['plain', 'sp ace', ' lead', `quo'te`, 'dq"uote', 'amp&', '100%', '$(touch PWNED)', 'semi;colon', 'new\nline', 'tab\there',
  'back\\slash', 'back\\#134slash', 'ünïcødé', '文件', '\u{1F600}smile', '\uff61half', 'a', 'a.b', 'a-c', 'a0', 'B', '-dash'];

/** Seeded, so a failure can be replayed (the seed is in the test name). */
function rng(seed: number): { int(n: number): number; pick<T>(items: readonly T[]): T } {
  const r = createRng(seed);
  return { int: r.int, pick: (items) => items[r.int(items.length)]! };
}

/** A source folder with a seeded tree, and an empty ring folder. */
async function fixture(t: import('node:test').TestContext, seed: number): Promise<{ dir: string; source: string; target: string }> {
  const dir = await tempDir(t);
  const source = join(dir, 'source');
  const target = join(dir, 'ring');
  await mkdir(source);
  await mkdir(target);
  await seedTree(source, rng(seed));
  return { dir, source, target };
}

type Kind = 'file' | 'symlink' | 'dir';
interface Entry { kind: Kind; ino: number; hash: string | null }

/** A plain recursive walk with lstat: the reference, sharing no code with the engine's walk. */
function snapshotOf(root: string): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const visit = (rel: string): void => {
    for (const name of readdirSync(rel === '' ? root : join(root, rel))) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const full = join(root, path);
      const st = lstatSync(full);
      if (st.isDirectory()) {
        out.set(path, { kind: 'dir', ino: st.ino, hash: null });
        visit(path);
      } else if (st.isSymbolicLink()) {
        out.set(path, { kind: 'symlink', ino: st.ino, hash: 'link:' + createHash('sha256').update(readlinkSync(full)).digest('hex') });
      } else if (st.isFile()) {
        out.set(path, { kind: 'file', ino: st.ino, hash: createHash('sha256').update(readFileSync(full)).digest('hex') });
      }
    }
  };
  visit('');
  return out;
}

/** The change log a walk of both slots implies: a file or symlink is new, a new version, or gone. */
function expectedChanges(newer: Map<string, Entry>, older: Map<string, Entry>): string[] {
  const lines: string[] = [];
  for (const [path, e] of newer) {
    if (e.kind === 'dir') {
      if (older.get(path)?.kind !== 'dir') lines.push(`+ ${JSON.stringify(`${path}/`)}`);
      continue;
    }
    const o = older.get(path);
    if (!o || o.kind === 'dir') lines.push(`+ ${JSON.stringify(path)}`);
    else if (o.ino !== e.ino) lines.push(`~ ${JSON.stringify(path)}`);
  }
  for (const [path, o] of older) {
    if (o.kind === 'dir') continue;
    const e = newer.get(path);
    if (!e || e.kind === 'dir') lines.push(`- ${JSON.stringify(path)}`);
  }
  return lines.sort();
}

/** Every way the test changes the source; each picks its own victims. */
async function mutate(source: string, r: ReturnType<typeof rng>, round: number): Promise<string[]> {
  const done: string[] = [];
  let all = snapshotOf(source);
  const of = (kind: Kind): string[] => [...all].filter(([, e]) => e.kind === kind).map(([p]) => p);
  const fresh = (): string => {
    const dirs = ['', ...of('dir')];
    for (;;) {
      const d = r.pick(dirs);
      const p = d === '' ? `${r.pick(NAMES)}-${round}-${r.int(1000)}` : `${d}/${r.pick(NAMES)}`;
      if (!all.has(p)) return p;
    }
  };
  const ops = 4 + r.int(6);
  for (let i = 0; i < ops; i++) {
    all = snapshotOf(source);
    const files = of('file');
    const op = r.int(11);
    try {
      if (op === 0 || files.length === 0) {
        const p = fresh();
        await mkdir(dirname(join(source, p)), { recursive: true });
        await writeFile(join(source, p), `new ${round} ${i}`);
        done.push(`create ${p}`);
      } else if (op === 1) {
        const p = r.pick(files);
        await appendFile(join(source, p), ` +${round}`);
        done.push(`append ${p}`);
      } else if (op === 2) {
        // Same size, same second: only nanosecond times tell rsync it changed.
        const p = r.pick(files);
        const old = await readFile(join(source, p));
        await writeFile(join(source, p), Buffer.from(old.map((b) => (b === 0x58 ? 0x59 : 0x58))));
        done.push(`rewrite ${p}`);
      } else if (op === 3) {
        const p = r.pick(files);
        await rm(join(source, p));
        done.push(`delete ${p}`);
      } else if (op === 4) {
        const p = r.pick(files);
        const to = fresh();
        await mkdir(dirname(join(source, to)), { recursive: true });
        await rename(join(source, p), join(source, to));
        done.push(`rename ${p} -> ${to}`);
      } else if (op === 5) {
        const p = r.pick(files);
        await rm(join(source, p));
        await mkdir(join(source, p));
        await writeFile(join(source, p, r.pick(NAMES)), `was a file ${round}`);
        done.push(`file->folder ${p}`);
      } else if (op === 6 && of('dir').length > 0) {
        const p = r.pick(of('dir'));
        await rm(join(source, p), { recursive: true });
        await writeFile(join(source, p), `was a folder ${round}`);
        done.push(`folder->file ${p}`);
      } else if (op === 7) {
        const p = r.pick(files);
        await rm(join(source, p));
        await symlink(r.pick(NAMES), join(source, p));
        done.push(`file->symlink ${p}`);
      } else if (op === 8 && of('symlink').length > 0) {
        const p = r.pick(of('symlink'));
        await rm(join(source, p));
        if (r.int(2) === 0) await writeFile(join(source, p), `was a link ${round}`);
        else await mkdir(join(source, p));
        done.push(`symlink->file/folder ${p}`);
      } else if (op === 9) {
        const p = fresh();
        await mkdir(dirname(join(source, p)), { recursive: true });
        await symlink(`../${r.pick(NAMES)}`, join(source, p));
        done.push(`symlink ${p}`);
      } else {
        const p = fresh();
        await mkdir(join(source, p, 'deeper'), { recursive: true });
        await writeFile(join(source, p, 'deeper', r.pick(NAMES)), `deep ${round}`);
        done.push(`folder ${p}`);
      }
    } catch (error) {
      // A new name that collides with a file on its way (`x/y` where `x` is a file): skipped.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' && (error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
    }
  }
  return done;
}

async function seedTree(source: string, r: ReturnType<typeof rng>): Promise<void> {
  for (let i = 0; i < 40; i++) {
    const dir = r.int(3) === 0 ? '' : `${r.pick(NAMES)}/${r.int(2) === 0 ? `${r.pick(NAMES)}/` : ''}`;
    await mkdir(join(source, dir), { recursive: true });
    await writeFile(join(source, dir, `${r.pick(NAMES)}-${i}`), `seed ${i} ${'x'.repeat(r.int(3000))}`);
  }
  await symlink('plain-0', join(source, 'link-to-plain'));
}

interface Listing { slots: Array<{ number: number | null; id: string; manifest: { counts: { created: number; changed: number; deleted: number }; changeLog: string; checksums: string | null } }> }

async function checkNewestSlot(target: string, what: string): Promise<void> {
  const listing = JSON.parse((await runCli(['list', '--target', target, '--json'])).stdout) as Listing;
  const [s0, s1] = listing.slots;
  const newer = snapshotOf(join(target, '0'));
  const older = s1 ? snapshotOf(join(target, '1')) : new Map<string, Entry>();
  const meta = join(target, '.shadow-slots');
  // The checksum list: every file and symlink with its content's hash, in rsync's order.
  const sums = join(meta, s0!.manifest.checksums!);
  assert.equal(await sumsOrderOf(sums), 'rsync', what);
  const recorded: Array<[string, string]> = [];
  for await (const line of readSums(sums)) recorded.push([line.path, line.hash]);
  const walked = [...newer].filter(([, e]) => e.kind !== 'dir').map(([p, e]) => [p, e.hash!] as [string, string]);
  assert.deepEqual(new Map(recorded), new Map(walked), `${what}: checksums`);
  assert.deepEqual(recorded.map(([p]) => p), [...recorded.map(([p]) => p)].sort(compareRsyncOrder), `${what}: in rsync's order`);
  const engineWalk: string[] = [];
  for await (const e of walkTree(join(target, '0'))) engineWalk.push(e.path);
  assert.deepEqual(recorded.map(([p]) => p), engineWalk, `${what}: the order verify walks in`);
  if (!s1) return;
  // The change log and the counts, against the walk of both slots.
  const log = (await readFile(join(meta, s0!.manifest.changeLog), 'utf8')).split('\n').filter(Boolean).sort();
  const expected = expectedChanges(newer, older);
  assert.deepEqual(log, expected, `${what}: change log`);
  const leaf = (mark: string) => expected.filter((l) => l.startsWith(mark) && !l.endsWith('/"')).length;
  const { created, changed, deleted } = s0!.manifest.counts;
  assert.deepEqual({ created, changed, deleted }, { created: leaf('+'), changed: leaf('~'), deleted: leaf('-') }, `${what}: counts`);
}

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
