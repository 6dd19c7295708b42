// Restore safety: a restore never writes outside the chosen destination (symlinks in the slot,
// symlinks in the destination, ".." in paths), never replaces anything without confirmation, and
// keeps every replaced version. Folders outside the destination are fingerprinted byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { errorEvent, explain, runCli } from './lib/cli';
import { recordFigures } from './lib/figures';
import { workDir } from './lib/setup';
import { restore as engineRestore } from '../../src/engine/restore';

/** Waits until the wall clock has just entered a new second. */
async function nextSecond(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
}
import { diffTrees, fingerprint } from './lib/tree';

test('restore never escapes the destination, never overwrites unasked, keeps what it replaces', { timeout: 120_000 }, async (t) => {
  const rows: Array<[string, string]> = [];
  let ok = false;
  try {
    const work = await workDir(t, 'restore');
    const source = join(work, 'source');
    const ring = join(work, 'ring');
    const outside = join(work, 'outside');
    await mkdir(join(source, 'real', 'nested'), { recursive: true });
    await mkdir(ring);
    await mkdir(outside);
    await writeFile(join(outside, 'victim.txt'), 'outside data');
    await writeFile(join(source, 'real', 'file.txt'), 'slot file');
    await writeFile(join(source, 'real', 'nested', 'deep.txt'), 'slot deep');
    await writeFile(join(source, 'x.txt'), 'slot x');
    await symlink(outside, join(source, 'escape-dir'));
    await symlink(join(outside, 'victim.txt'), join(source, 'escape-file'));
    await symlink('../../outside', join(source, 'real', 'rel-up'));
    const b = await runCli(['backup', '--source', source, '--target', ring, '--snapshot', 'none', '--json']);
    assert.equal(b.code, 0, explain(b));
    const outsideBefore = await fingerprint(outside);

    let n = 0;
    const dest = async () => { const d = join(work, `dest-${++n}`); await mkdir(d); return d; };
    const restore = (to: string, path: string, ...extra: string[]) => runCli(['restore', '--target', ring, '--slot', '0', `--path=${path}`, '--to', to, '--json', ...extra]);
    const outcomes: string[] = [];
    const refused = async (label: string, to: string, path: string, message: RegExp, exit = 2, ...extra: string[]) => {
      const before = await fingerprint(to);
      const r = await restore(to, path, ...extra);
      const text = `${errorEvent(r)?.['message'] ?? ''} ${r.stderr}`;
      assert.equal(r.code, exit, `${label}: ${explain(r)}`);
      assert.match(text, message, label);
      assert.deepEqual(diffTrees(before, await fingerprint(to)), [], `${label}: destination unchanged`);
      outcomes.push(`${label}: refused`);
    };

    // 1-3. Symlinks inside the slot.
    await refused('path through a symlinked folder of the slot', await dest(), 'escape-dir/victim.txt', /symbolic link inside the slot/);
    await refused('path through a relative ../ link of the slot', await dest(), 'real/rel-up/victim.txt', /symbolic link inside the slot/);
    for (const link of ['escape-dir', 'escape-file', 'real/rel-up']) {
      const d = await dest();
      const r = await restore(d, link);
      assert.equal(r.code, 0, explain(r));
      assert.ok((await lstat(join(d, link))).isSymbolicLink(), `${link} is restored as the link itself, not what it points to`);
      assert.equal(await readlink(join(d, link)), await readlink(join(ring, '0', link)));
      outcomes.push(`${link}: restored as a link`);
    }
    // 4. ".." and absolute paths.
    await refused('".." in the path', await dest(), 'real/../../outside/victim.txt', /contains "\.\."/);
    await refused('absolute path', await dest(), join(outside, 'victim.txt'), /must be relative/);
    // Until 5c5e75b refused with a misleading "Restoring  would write outside …".
    await refused('whole slot over a folder', await dest(), '.', /a whole slot is restored into a new or empty folder/);

    // 5. The destination holds a symlink to elsewhere on the way.
    const d5 = await dest();
    const elsewhere = join(work, 'elsewhere');
    await mkdir(elsewhere);
    await symlink(elsewhere, join(d5, 'real'));
    const elsewhereBefore = await fingerprint(elsewhere);
    await refused('destination folder is a link elsewhere', d5, 'real/file.txt', /would write outside/);
    await refused('destination folder is a link elsewhere (with --overwrite)', d5, 'real/nested/deep.txt', /would write outside/, 2, '--overwrite');
    assert.deepEqual(diffTrees(elsewhereBefore, await fingerprint(elsewhere)), []);

    // 6. A dangling link on the way, pointing where a folder could be created.
    const d6 = await dest();
    await symlink(join(outside, 'created-by-restore'), join(d6, 'real'));
    const r6 = await restore(d6, 'real/file.txt');
    assert.notEqual(r6.code, 0, 'a dangling link on the way is not followed');
    assert.equal(existsSync(join(outside, 'created-by-restore')), false);
    outcomes.push(`dangling link on the way: refused (exit ${r6.code})`);

    // 7. The destination file itself is a link to a file outside.
    const d7 = await dest();
    await mkdir(join(d7, 'real'));
    await symlink(join(outside, 'victim.txt'), join(d7, 'real', 'file.txt'));
    await refused('destination file is a link outside (no --overwrite)', d7, 'real/file.txt', /already exists; it was not overwritten/);
    const r7 = await restore(d7, 'real/file.txt', '--overwrite');
    assert.equal(r7.code, 0, explain(r7));
    assert.ok((await lstat(join(d7, 'real', 'file.txt'))).isFile(), 'the link was replaced by the restored file');
    assert.equal(await readFile(join(d7, 'real', 'file.txt'), 'utf8'), 'slot file');
    const kept7 = (JSON.parse(r7.stdout) as { keptAside: string }).keptAside;
    assert.ok((await lstat(kept7)).isSymbolicLink(), 'the replaced link was kept aside');
    outcomes.push('destination file is a link outside: replaced only with --overwrite, the link kept aside, its target untouched');

    // 8. Dangling final link: "exists" even though it points nowhere.
    const d8 = await dest();
    await symlink(join(outside, 'new.txt'), join(d8, 'x.txt'));
    await refused('destination is a dangling link (no --overwrite)', d8, 'x.txt', /already exists/);
    assert.equal(existsSync(join(outside, 'new.txt')), false);

    // 9. Never overwrite without confirmation; keep the replaced version.
    const d9 = await dest();
    await mkdir(join(d9, 'real', 'nested'), { recursive: true });
    await writeFile(join(d9, 'real', 'nested', 'deep.txt'), 'local edits');
    await writeFile(join(d9, 'real', 'local-only.txt'), 'only here');
    await refused('existing file, no --overwrite', d9, 'real/nested/deep.txt', /already exists; it was not overwritten/);
    const r9 = await restore(d9, 'real/nested/deep.txt', '--overwrite');
    assert.equal(r9.code, 0, explain(r9));
    assert.equal(await readFile(join(d9, 'real', 'nested', 'deep.txt'), 'utf8'), 'slot deep');
    const kept9 = (JSON.parse(r9.stdout) as { keptAside: string }).keptAside;
    assert.equal(await readFile(kept9, 'utf8'), 'local edits', 'the replaced version is kept');
    await refused('existing folder, no --overwrite', d9, 'real', /already exists/);
    await nextSecond(); // keep-aside folders were named by the second: see the regression test below
    const r9b = await restore(d9, 'real', '--overwrite');
    assert.equal(r9b.code, 0, explain(r9b));
    const kept9b = (JSON.parse(r9b.stdout) as { keptAside: string }).keptAside;
    assert.equal(await readFile(join(kept9b, 'local-only.txt'), 'utf8'), 'only here', 'the replaced folder is kept whole');
    assert.equal(existsSync(join(d9, 'real', 'local-only.txt')), false, 'the folder now equals the slot');
    assert.equal(await readFile(join(d9, 'real', 'file.txt'), 'utf8'), 'slot file');
    outcomes.push('existing file/folder: refused without --overwrite; with it, the replaced version is kept aside');

    assert.deepEqual(diffTrees(outsideBefore, await fingerprint(outside)), [], 'nothing outside any destination changed');
    const refusals = outcomes.filter((o) => o.endsWith('refused') || o.includes('refused (')).length;
    rows.push(['Restore safety', `${outcomes.length} cases: ${refusals} unsafe restores refused (slot symlinks, "..", absolute, destination links incl. dangling, overwrite without confirmation), links restored as links, every replaced version kept; 0 bytes written outside the destinations`]);
    ok = true;
  } finally {
    await recordFigures({ area: '6-restore', ok, rows: rows.length > 0 ? rows : [['Restore safety', 'FAILED (see the test output)']] });
  }
});

// Regression: found by this suite, fixed in de490ad. restore() kept replaced versions under
// <target>/.shadow-slots/replaced/<UTC time to the second>/<path>: two overwriting restores of the
// same path within one second used the same keep-aside path, and rename() silently replaced the
// version the first one kept — the user's own edits were lost. (A folder restored after a file
// inside it in the same second failed with a raw ENOTEMPTY.)
test('regression: two overwriting restores within one second keep both replaced versions', async (t) => {
  const work = await workDir(t, 'keepaside');
  const source = join(work, 'source');
  const ring = join(work, 'ring');
  const to = join(work, 'to');
  for (const d of [source, ring, to]) await mkdir(d);
  await writeFile(join(source, 'notes.txt'), 'from the slot');
  const b = await runCli(['backup', '--source', source, '--target', ring, '--snapshot', 'none', '--json']);
  assert.equal(b.code, 0, explain(b));
  await writeFile(join(to, 'notes.txt'), 'my unsaved edits');
  await nextSecond();
  const first = await engineRestore({ target: ring, slot: 0, path: 'notes.txt', to, overwrite: true });
  const second = await engineRestore({ target: ring, slot: 0, path: 'notes.txt', to, overwrite: true });
  const kept = [first.keptAside, second.keptAside];
  const contents = await Promise.all(kept.map((k) => (k ? readFile(k, 'utf8').catch(() => '(gone)') : '(none)')));
  const lost = !contents.includes('my unsaved edits');
  await recordFigures({ area: '6b-restore-keepaside', ok: !lost, rows: [['Restore keep-aside, two restores in one second', lost ? `BUG: the user's edits are lost (both kept at ${kept[0] === kept[1] ? 'the same path' : 'different paths'}; contents now ${JSON.stringify(contents)})` : 'both replaced versions kept']] });
  assert.notEqual(first.keptAside, second.keptAside, 'each restore keeps its replaced version at its own path');
  assert.ok(!lost, `the first replaced version ("my unsaved edits") survives: ${JSON.stringify(contents)}`);
});
