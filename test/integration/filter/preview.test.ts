// Preview Backup against a real ring: slot 0 made by rsync, then the source changes; the preview's
// dry runs must list exactly what a real backup with the same command line then copies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../src/platform/runner';
import { buildRsyncArgv } from '../../../src/core/rsyncArgs';
import { parseItemizedLine } from '../../../src/core/rsyncOutput';
import { previewBackup } from '../../../src/platform/filter/preview';

test('preview lists what the next backup copies, changes and drops', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'ss-filter-preview-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const source = join(work, 'my source');
  const target = join(work, 'ring');
  await mkdir(join(source, 'docs'), { recursive: true });
  await mkdir(join(source, 'cache'), { recursive: true });
  await mkdir(target);
  await writeFile(join(source, 'same.txt'), 'same');
  await writeFile(join(source, 'docs', 'changed.md'), 'v1');
  await writeFile(join(source, 'gone.txt'), 'bye');
  await writeFile(join(source, 'cache', 'blob'), 'cached');
  await writeFile(join(source, 'ünï cödé [1].txt'), 'x');
  await run('rsync', ['-a', `${source}/`, `${join(target, '0')}/`]);

  await writeFile(join(source, 'docs', 'changed.md'), 'version two');
  await utimes(join(source, 'docs', 'changed.md'), new Date('2030-01-01'), new Date('2030-01-01'));
  await writeFile(join(source, 'new file.txt'), 'new');
  await rm(join(source, 'gone.txt'));
  const filterFile = join(work, 'rules $(x) & more');
  await writeFile(filterFile, '- /cache/\n');

  const preview = await previewBackup({ source, target, filterFile });
  const by = (a: string) => preview.items.filter((i) => i.action === a).map((i) => i.path).sort();
  assert.equal(preview.newestSlot, join(target, '0'));
  assert.deepEqual(by('copy'), ['new file.txt']);
  assert.deepEqual(by('change'), ['docs/changed.md']);
  assert.deepEqual(by('delete'), ['cache/', 'cache/blob', 'gone.txt']);
  assert.ok(preview.commands.every((c) => c.includes('--dry-run')));
  assert.deepEqual(await readdir(target), ['0'], 'a dry run writes nothing');

  // The real backup with the same command line (without --dry-run) transfers the same files.
  const argv = buildRsyncArgv({ source, destination: join(target, 'next'), linkDest: join(target, '0'), excludes: [], filterFile, extraArgs: [], progress: false });
  const real = await run('rsync', argv);
  const transferred = real.stdout.split('\n').map(parseItemizedLine).filter((i) => i && i.kind === 'file').map((i) => i!.path).sort();
  assert.deepEqual(transferred, ['docs/changed.md', 'new file.txt']);
  assert.deepEqual((await readdir(join(target, 'next'))).sort(), ['docs', 'new file.txt', 'same.txt', 'ünï cödé [1].txt']);
});

test('the first backup previews every included file as a copy', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'ss-filter-preview-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  await mkdir(join(work, 'src'));
  await mkdir(join(work, 'ring'));
  await writeFile(join(work, 'src', 'a'), 'a');
  await writeFile(join(work, 'src', 'b.log'), 'b');
  const preview = await previewBackup({ source: join(work, 'src'), target: join(work, 'ring'), excludes: ['*.log'] });
  assert.equal(preview.newestSlot, undefined);
  assert.deepEqual(preview.items.filter((i) => i.kind === 'file').map((i) => `${i.action} ${i.path}`), ['copy a']);
});
