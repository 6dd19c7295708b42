import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp';
import { runCli } from '../../helpers/cli';
import { purgeFinished } from '../../helpers/purge';

/** Names that break anything that splices them into a shell or script. */
const HOSTILE = ['sp ace', `quo'te`, 'dq"uote', 'amp&ersand', '100%', '$(touch PWNED)', 'semi;colon', 'new\nline', 'ünïcødé-文件', 'back\\slash', '`tick`', '-dash-first'];

async function tree(root: string, files: Record<string, string>) {
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), content);
  }
}

/** Makes a file look older so rsync's quick check sees a change even within the same second. */
async function age(path: string, seconds = 3600) {
  const t = new Date(Date.now() - seconds * 1000);
  await utimes(path, t, t);
}

async function setup(t: import('node:test').TestContext) {
  const dir = await tempDir(t);
  const source = join(dir, 'source');
  const target = join(dir, 'ring');
  await mkdir(source);
  await mkdir(target);
  return { dir, source, target };
}

const backup = (source: string, target: string, ...extra: string[]) => runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--json', ...extra]);

test('first and incremental backups: unchanged files share an inode with the previous slot', async (t) => {
  const { source, target } = await setup(t);
  await tree(source, { 'a.txt': 'alpha', 'dir/b.txt': 'beta', 'dir/deep/c.bin': 'x'.repeat(100000) });
  const first = await backup(source, target);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  const result = first.events.find((e) => e['type'] === 'result')?.['result'] as { slot: { number: number; manifest: { counts: { files: number; created: number } } } };
  assert.equal(result.slot.number, 0);
  assert.equal(result.slot.manifest.counts.files, 3);
  assert.equal(result.slot.manifest.counts.created, 3, 'created counts files, not the folders holding them');
  assert.ok(first.events.some((e) => e['type'] === 'complete'), 'a complete event is printed');
  assert.ok(first.events.some((e) => e['type'] === 'progress' && e['phase'] === 'copy'));

  await writeFile(join(source, 'a.txt'), 'ALPHA changed');
  const second = await backup(source, target);
  assert.equal(second.code, 0, second.stderr);
  const [s0, s1] = [join(target, '0'), join(target, '1')];
  assert.equal(await readFile(join(s0, 'a.txt'), 'utf8'), 'ALPHA changed');
  assert.equal(await readFile(join(s1, 'a.txt'), 'utf8'), 'alpha');
  const [i0, i1] = await Promise.all([stat(join(s0, 'dir/deep/c.bin')), stat(join(s1, 'dir/deep/c.bin'))]);
  assert.equal(i0.ino, i1.ino, 'unchanged file is a hard link to the previous slot');
  assert.equal(i0.nlink, 2);
  assert.notEqual((await stat(join(s0, 'a.txt'))).ino, (await stat(join(s1, 'a.txt'))).ino);
});

test('a same-size rewrite within the same second is still backed up (nanosecond quick check)', async (t) => {
  const { source, target } = await setup(t);
  await tree(source, { 'same.txt': 'aaaa' });
  assert.equal((await backup(source, target)).code, 0);
  await writeFile(join(source, 'same.txt'), 'bbbb');
  assert.equal((await backup(source, target)).code, 0);
  assert.equal(await readFile(join(target, '0', 'same.txt'), 'utf8'), 'bbbb');
});

test('deletions and renames propagate, and the change log records added, changed, deleted', async (t) => {
  const { source, target } = await setup(t);
  await tree(source, { 'keep.txt': 'k', 'old-name.txt': 'r', 'gone.txt': 'g', 'mod.txt': 'm1' });
  await age(join(source, 'mod.txt'));
  assert.equal((await backup(source, target)).code, 0);
  await rename(join(source, 'old-name.txt'), join(source, 'new-name.txt'));
  await rm(join(source, 'gone.txt'));
  await writeFile(join(source, 'mod.txt'), 'm2');
  const run = await backup(source, target);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual((await readdir(join(target, '0'))).sort(), ['keep.txt', 'mod.txt', 'new-name.txt']);
  assert.deepEqual((await readdir(join(target, '1'))).sort(), ['gone.txt', 'keep.txt', 'mod.txt', 'old-name.txt']);
  const list = await runCli(['list', '--target', target, '--json']);
  const listing = JSON.parse(list.stdout) as { slots: Array<{ number: number; manifest: { counts: { created: number; changed: number; deleted: number }; changeLog: string } }> };
  const counts = listing.slots[0]!.manifest.counts;
  assert.deepEqual([counts.created, counts.changed, counts.deleted], [1, 1, 2]);
  const log = (await readFile(join(target, '.shadow-slots', listing.slots[0]!.manifest.changeLog), 'utf8')).trim().split('\n').sort();
  assert.deepEqual(log, ['+ "new-name.txt"', '- "gone.txt"', '- "old-name.txt"', '~ "mod.txt"']);
});

test('excludes keep matching files out of every slot', async (t) => {
  const { source, target } = await setup(t);
  await tree(source, { 'src/app.ts': 'a', 'node_modules/x/index.js': 'x', 'build/out.o': 'o', 'notes.tmp': 't', 'sub/build/keep.txt': 'k' });
  const run = await backup(source, target, '--exclude', 'node_modules/', '--exclude', '*.tmp', '--exclude', '/build/');
  assert.equal(run.code, 0, run.stderr);
  const s0 = join(target, '0');
  assert.deepEqual((await readdir(s0)).sort(), ['src', 'sub']);
  assert.equal(await readFile(join(s0, 'sub/build/keep.txt'), 'utf8'), 'k', 'an anchored exclude only matches at the root');
});

test('hostile names in source, target and excludes are backed up literally and nothing is executed', async (t) => {
  const { dir } = await setup(t);
  const source = join(dir, `src ${HOSTILE.slice(0, 7).join(' ').replace(/\n/g, '')}`);
  const target = join(dir, `ring $(touch PWNED-TARGET); & %PATH% 'q'`);
  await mkdir(source);
  await mkdir(target);
  const files: Record<string, string> = {};
  for (const name of HOSTILE) files[name] = `content of ${name}`;
  files['excluded $(touch PWNED-EXCLUDE).log'] = 'x';
  await tree(source, files);
  const run = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--json', '--exclude', '*$(touch PWNED-EXCLUDE).log']);
  assert.equal(run.code, 0, run.stderr);
  for (const name of HOSTILE) assert.equal(await readFile(join(target, '0', name), 'utf8'), `content of ${name}`, `name ${JSON.stringify(name)}`);
  assert.ok(!(await readdir(join(target, '0'))).some((n) => n.startsWith('excluded')));
  for (const where of [dir, source, target, process.cwd()]) {
    assert.ok(!(await readdir(where)).some((n) => n.startsWith('PWNED')), `nothing executed in ${where}`);
  }
});

test('the ring wraps past N: exactly the oldest slot is dropped, numbering has no gap', async (t) => {
  const { source, target } = await setup(t);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    await writeFile(join(source, 'n.txt'), `run ${i}`);
    const run = await backup(source, target, '--slots', '3');
    assert.equal(run.code, 0, run.stderr);
    ids.push((run.events.find((e) => e['type'] === 'complete')!['id']) as string);
  }
  const folders = (await readdir(target)).filter((n) => /^\d+$/.test(n)).sort();
  assert.deepEqual(folders, ['0', '1', '2']);
  assert.equal(await readFile(join(target, '0', 'n.txt'), 'utf8'), 'run 4');
  assert.equal(await readFile(join(target, '2', 'n.txt'), 'utf8'), 'run 2');
  const listing = JSON.parse((await runCli(['list', '--target', target, '--json'])).stdout) as { slots: Array<{ id: string }> };
  assert.deepEqual(listing.slots.map((s) => s.id), [ids[4], ids[3], ids[2]]);
  assert.ok(await purgeFinished(target), 'the detached purge finished');
  assert.deepEqual(await readdir(join(target, '.shadow-slots', 'trash')), [], 'dropped slots are deleted after the run');
  const manifests = await readdir(join(target, '.shadow-slots', 'manifests'));
  assert.equal(manifests.length, 3, 'manifests of dropped slots are removed too');
});

test('a seed ring made by the original scripts is adopted and continued, not overwritten', async (t) => {
  const { source, target } = await setup(t);
  for (const n of [0, 1, 2]) await tree(join(target, String(n)), { 'seed.txt': `seed ${n}` });
  await tree(join(target, '0'), { 'dropped/old.txt': 'o' });
  await tree(source, { 'seed.txt': 'seed 0', 'new.txt': 'new' });
  // An adopted slot is named after its folder's time (the only date the seed scripts left).
  for (const n of [0, 1, 2]) await utimes(join(target, String(n)), new Date(Date.UTC(2024, 0, 10 - n, 3, 4, 5)), new Date(Date.UTC(2024, 0, 10 - n, 3, 4, 5)));
  const before = await runCli(['list', '--target', target, '--json']);
  assert.equal((JSON.parse(before.stdout) as { slots: unknown[] }).slots.length, 3, 'listed before any metadata exists');
  const run = await backup(source, target, '--slots', '16');
  assert.equal(run.code, 0, run.stderr);
  for (const n of [1, 2, 3]) assert.equal(await readFile(join(target, String(n), 'seed.txt'), 'utf8'), `seed ${n - 1}`);
  assert.equal(await readFile(join(target, '0', 'new.txt'), 'utf8'), 'new');
  const listing = JSON.parse((await runCli(['list', '--target', target, '--json'])).stdout) as { slots: Array<{ number: number; manifest: { adopted: boolean } }> };
  assert.deepEqual(listing.slots.map((s) => [s.number, s.manifest.adopted]), [[0, false], [1, true], [2, true], [3, true]]);
  assert.deepEqual(listing.slots.slice(1).map((s) => (s as unknown as { id: string }).id), ['adopted-0-20240110T030405Z', 'adopted-1-20240109T030405Z', 'adopted-2-20240108T030405Z']);
  // An adopted slot has no checksum list to merge against: the deleted files come from rsync.
  const made = (listing.slots[0] as unknown as { manifest: { changeLog: string; counts: { deleted: number } } }).manifest;
  assert.equal(made.counts.deleted, 1);
  // (seed.txt may also be listed as changed: the seed copy's mtime is not the source's.)
  const log = (await readFile(join(target, '.shadow-slots', made.changeLog), 'utf8')).trim().split('\n').filter((l) => !l.startsWith('~')).sort();
  assert.deepEqual(log, ['+ "new.txt"', '- "dropped/"', '- "dropped/old.txt"']);
  // Nothing to compare an adopted slot with: verify says so, and does not pass it.
  const unverified = await runCli(['verify', '--target', target, '--slot', '1']);
  assert.equal(unverified.code, 1, unverified.stdout + unverified.stderr);
  assert.match(unverified.stdout, /NOT VERIFIED: no checksums to compare with/);
  const asJson = await runCli(['verify', '--target', target, '--slot', '1', '--json']);
  assert.deepEqual(pick(JSON.parse(asJson.stdout) as Record<string, unknown>, ['ok', 'verified', 'checked']), { ok: false, verified: false, checked: 0 });
});

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

test('restore: never overwrites without --overwrite, keeps the replaced version, restores folders', async (t) => {
  const { dir, source, target } = await setup(t);
  await tree(source, { 'doc.txt': 'version 1', 'folder/a.txt': 'a1', 'folder/b.txt': 'b1' });
  assert.equal((await backup(source, target)).code, 0);
  await writeFile(join(source, 'doc.txt'), 'version 2 (current)');
  const refused = await runCli(['restore', '--target', target, '--slot', '0', '--path', 'doc.txt', '--to', source]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /already exists; it was not overwritten/);
  assert.equal(await readFile(join(source, 'doc.txt'), 'utf8'), 'version 2 (current)');
  const done = await runCli(['restore', '--target', target, '--slot', '0', '--path', 'doc.txt', '--to', source, '--overwrite', '--json']);
  assert.equal(done.code, 0, done.stderr);
  const result = JSON.parse(done.stdout) as { keptAside: string };
  assert.equal(await readFile(join(source, 'doc.txt'), 'utf8'), 'version 1');
  assert.equal(await readFile(result.keptAside, 'utf8'), 'version 2 (current)');
  const elsewhere = join(dir, 'restored');
  await mkdir(elsewhere);
  assert.equal((await runCli(['restore', '--target', target, '--slot', '0', '--path', 'folder', '--to', elsewhere])).code, 0);
  assert.equal(await readFile(join(elsewhere, 'folder', 'b.txt'), 'utf8'), 'b1');
  for (const bad of ['../etc/passwd', '/etc/passwd', 'folder/../../x']) {
    const r = await runCli(['restore', '--target', target, '--slot', '0', '--path', bad, '--to', elsewhere]);
    assert.equal(r.code, 2, `${bad} refused`);
  }
  assert.equal((await runCli(['restore', '--target', target, '--slot', '7', '--path', 'doc.txt', '--to', elsewhere])).code, 1);
});

test('restore refuses symlinks that would lead outside the slot or the destination', async (t) => {
  const { dir, source, target } = await setup(t);
  const outside = join(dir, 'outside');
  await mkdir(outside);
  await tree(source, { 'real/file.txt': 'f' });
  await symlink(outside, join(source, 'escape'));
  assert.equal((await backup(source, target)).code, 0);
  const dest = join(dir, 'dest');
  await mkdir(dest);
  const through = await runCli(['restore', '--target', target, '--slot', '0', '--path', 'escape/x', '--to', dest]);
  assert.equal(through.code, 2, through.stderr);
  assert.match(through.stderr, /symbolic link/);
  const link = await runCli(['restore', '--target', target, '--slot', '0', '--path', 'escape', '--to', dest]);
  assert.equal(link.code, 0, link.stderr);
  assert.deepEqual(await readdir(outside), [], 'restoring the link itself wrote nothing outside');
  await symlink(outside, join(dest, 'real'));
  const via = await runCli(['restore', '--target', target, '--slot', '0', '--path', 'real/file.txt', '--to', dest]);
  assert.equal(via.code, 2);
  assert.match(via.stderr, /outside/);
  assert.deepEqual(await readdir(outside), []);
});

test('verify: a slot matches its checksums; a tampered file is reported', async (t) => {
  const { source, target } = await setup(t);
  await tree(source, { 'a.txt': 'a', 'b/c.txt': 'c', 'b/d.txt': 'd' });
  assert.equal((await backup(source, target)).code, 0);
  await writeFile(join(source, 'a.txt'), 'a2');
  assert.equal((await backup(source, target)).code, 0);
  for (const slot of ['0', '1']) {
    const ok = await runCli(['verify', '--target', target, '--slot', slot, '--json']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { checked: number }).checked, 3);
  }
  await writeFile(join(target, '1', 'b', 'c.txt'), 'tampered');
  await rm(join(target, '1', 'b', 'd.txt'));
  const bad = await runCli(['verify', '--target', target, '--slot', '1', '--json']);
  assert.equal(bad.code, 1);
  const r = JSON.parse(bad.stdout) as { changed: string[]; missing: string[]; ok: boolean };
  assert.deepEqual([r.ok, r.changed, r.missing], [false, ['b/c.txt'], ['b/d.txt']]);
});

test('preflight: a missing target is never created silently; bad input exits 2 and writes nothing', async (t) => {
  const { dir, source } = await setup(t);
  const missing = join(dir, 'not-mounted', 'ring');
  const run = await backup(source, missing);
  assert.equal(run.code, 1);
  assert.match(JSON.stringify(run.events), /does not exist/);
  await assert.rejects(stat(join(dir, 'not-mounted')));
  const created = await backup(source, missing, '--create-target');
  assert.equal(created.code, 0, created.stderr);
  const before = await readdir(dir);
  for (const args of [['--slots', '0'], ['--slots', 'NaN'], ['--snapshot', 'zfs'], ['--exclude', '']]) {
    const r = await runCli(['backup', '--source', source, '--target', join(dir, 'fresh'), ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  assert.deepEqual(await readdir(dir), before);
  assert.equal((await runCli(['backup', '--source', source])).code, 2);
  assert.equal((await runCli(['frobnicate'])).code, 2);
});

test('a filter-rule file (rsync merge) is applied after the excludes; invalid rules are refused before anything is written', async (t) => {
  const { dir, source, target } = await setup(t);
  await tree(source, { 'src/a.ts': 'a', 'node_modules/m/i.js': 'm', 'logs/today.log': 'l', 'logs/keep.txt': 'k', 'cache dir/x': 'x' });
  const filterDir = join(dir, `filter $(touch PWNED) & dir`);
  await mkdir(filterDir);
  const filterFile = join(filterDir, '.shadowslots-filter');
  await writeFile(filterFile, '# build output and caches\n- /node_modules/\n+ /logs/keep.txt\n- /logs/*\n- cache dir/\n');
  const run = await backup(source, target, '--filter', filterFile);
  assert.equal(run.code, 0, run.stderr + run.stdout);
  assert.deepEqual((await readdir(join(target, '0'))).sort(), ['logs', 'src']);
  assert.deepEqual(await readdir(join(target, '0', 'logs')), ['keep.txt']);
  assert.ok(!(await readdir(filterDir)).some((n) => n.startsWith('PWNED')));
  await writeFile(filterFile, '- /node_modules/\nbogus rule here\n');
  const before = (await readdir(target)).sort();
  const bad = await backup(source, target, '--filter', filterFile);
  assert.equal(bad.code, 2, bad.stdout);
  assert.match(JSON.stringify(bad.events), /line 2/);
  assert.deepEqual((await readdir(target)).sort(), before);
});

test('a filter file merging a file that cannot be read is refused before anything is written', async (t) => {
  const { dir, source, target } = await setup(t);
  await tree(source, { 'a.txt': 'a' });
  const filterFile = join(dir, 'rules');
  await writeFile(filterFile, `. ${join(dir, 'missing-rules')}\n`);
  const r = await backup(source, target, '--filter', filterFile);
  assert.equal(r.code, 2, r.stdout);
  assert.match(JSON.stringify(r.events), /cannot be read/);
  assert.deepEqual(await readdir(target), []);
});

test('numbered folders that are not a seed ring are never adopted, rotated or deleted', async (t) => {
  const { source, target } = await setup(t);
  await tree(source, { 'a.txt': 'a' });
  await tree(join(target, '2024'), { 'taxes.pdf': 'important' });
  const r = await backup(source, target, '--slots', '2');
  assert.equal(r.code, 1);
  assert.match(JSON.stringify(r.events), /2024.*not slots of this ring/);
  assert.deepEqual((await readdir(target)).sort(), ['.shadow-slots', '2024']);
  assert.equal(await readFile(join(target, '2024', 'taxes.pdf'), 'utf8'), 'important');
  // An existing ring: a folder copied in later is refused the same way.
  const other = join(target, '..', 'ring2');
  await mkdir(other);
  assert.equal((await backup(source, other)).code, 0);
  await tree(join(other, '7'), { 'mine.txt': 'm' });
  const again = await backup(source, other);
  assert.equal(again.code, 1);
  assert.equal(await readFile(join(other, '7', 'mine.txt'), 'utf8'), 'm');
  const listing = JSON.parse((await runCli(['list', '--target', other, '--json'])).stdout) as { slots: Array<{ number: number }>; notes: string[] };
  assert.deepEqual(listing.slots.map((s) => s.number), [0]);
  assert.ok(listing.notes.some((n) => /7 in the target are not slots/.test(n)), listing.notes.join('\n'));
});

test('a seed ring larger than the profile keeps is refused instead of deleting most of it at once', async (t) => {
  const { source, target } = await setup(t);
  await tree(source, { 'a.txt': 'a' });
  for (const n of [0, 1, 2, 3, 4]) await tree(join(target, String(n)), { 'seed.txt': `seed ${n}` });
  const r = await backup(source, target, '--slots', '3');
  assert.equal(r.code, 2);
  assert.match(JSON.stringify(r.events), /ring of 5 slots made without Shadow Slots/);
  assert.deepEqual((await readdir(target)).filter((n) => /^\d+$/.test(n)).sort(), ['0', '1', '2', '3', '4']);
});

test('names with backslashes and brackets are literal on Linux: restore picks the right file; a bracketed target inside the source is excluded', async (t) => {
  const { dir, source, target } = await setup(t);
  await tree(source, { 'a\\b': 'backslash file', 'a/b': 'a/b file' });
  assert.equal((await backup(source, target)).code, 0);
  const out = join(dir, 'out');
  await mkdir(out);
  assert.equal((await runCli(['restore', '--target', target, '--slot', '0', '--path', 'a\\b', '--to', out])).code, 0);
  assert.equal(await readFile(join(out, 'a\\b'), 'utf8'), 'backslash file');
  const inner = join(source, 'ring[1]');
  await mkdir(inner);
  const r = await backup(source, inner);
  assert.equal(r.code, 0, JSON.stringify(r.events.at(-1)));
  assert.ok(!(await readdir(join(inner, '0'))).includes('ring[1]'), 'the ring is not backed up into itself');
});
