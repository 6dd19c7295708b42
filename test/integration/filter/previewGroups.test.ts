// Preview Backup explains itself (platform/filter/preview.ts): per rule what it decides in the
// source, why each item leaves the ring (a named rule, or gone from the folder), and an invalid
// rule refused with the engine's own diagnostic and its place, before rsync runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../src/platform/runner';
import { previewBackup } from '../../../src/platform/filter/preview';
import { ShadowSlotsError } from '../../../src/core/errors';

async function ring(t: import('node:test').TestContext) {
  const work = await mkdtemp(join(tmpdir(), 'ss-preview-groups-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const source = join(work, 'src');
  const target = join(work, 'ring');
  await mkdir(join(source, 'build'), { recursive: true });
  await mkdir(target);
  await writeFile(join(source, 'app.ts'), 'a');
  await writeFile(join(source, 'build', 'out.o'), 'o'.repeat(3000));
  await writeFile(join(source, 'debug.log'), 'l');
  await writeFile(join(source, 'old.txt'), 'x');
  await run('rsync', ['-a', `${source}/`, `${join(target, '0')}/`]);
  return { work, source, target };
}

test('each item leaving the ring names the rule that excludes it now, or says it is gone from the folder', async (t) => {
  const { work, source, target } = await ring(t);
  await rm(join(source, 'old.txt'));
  const filterFile = join(work, '.shadowslots-filter');
  await writeFile(filterFile, '# generated\n- /build/\n- *.nothing\n');
  const r = await previewBackup({ source, target, filterFile, excludes: ['*.log'] });
  assert.deepEqual(r.rules!.map((x) => [x.origin, x.line, x.text, x.files, x.dirs, x.bytes]), [
    ['settings', 0, '- *.log', 1, 0, 1],
    ['filter-file', 1, '- /build/', 1, 1, 3000],
    ['filter-file', 2, '- *.nothing', 0, 0, 0],
  ]);
  assert.equal(r.rules![1]!.file, filterFile);
  const why = Object.fromEntries(r.items.filter((i) => i.action === 'delete').map((i) => [i.path, i.reason]));
  assert.deepEqual(why, {
    'build/': { kind: 'excluded', rule: 1 }, 'build/out.o': { kind: 'excluded', rule: 1 },
    'debug.log': { kind: 'excluded', rule: 0 }, 'old.txt': { kind: 'gone' },
  });
  assert.deepEqual(r.included, { files: 1, bytes: 1 });
  assert.deepEqual(r.excluded, { files: 2, bytes: 3001 });
});

test('an invalid rule is refused before rsync runs, with the engine\'s diagnostic and where the rule is', async (t) => {
  const { work, source, target } = await ring(t);
  const filterFile = join(work, '.shadowslots-filter');
  await writeFile(filterFile, '- /build/\n-node_modules/\nexlude x\n');
  await assert.rejects(previewBackup({ source, target, filterFile }), (e: ShadowSlotsError) => {
    assert.equal(e.code, 'invalid-input');
    assert.match(e.message, /^\.shadowslots-filter, line 2: invalid modifier 'n' at position 1 in filter rule: -node_modules\/ — .* \(and 1 more invalid rule\)\. rsync would stop on it, so nothing was started\.$/);
    assert.doesNotMatch(e.message, /exclude\.c/);
    assert.deepEqual(e.details, { filterRule: { file: filterFile, line: 1, character: 1 } });
    return true;
  });
});
