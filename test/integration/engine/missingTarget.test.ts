// Issue 19, defect 1: a target that does not exist is an unplugged backup disk far more often than
// a ring with no slots yet. "No slots in … yet." with exit 0 told the user the opposite of the truth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../../helpers/tmp';
import { runCli } from '../../helpers/cli';
import { listRing } from '../../../src/engine/list';
import { ShadowSlotsError } from '../../../src/core/errors';

test('list, verify and restore of a target that does not exist: "is the drive connected?", exit 1, nothing created', async (t) => {
  const dir = await tempDir(t);
  const unplugged = join(dir, 'media', 'usb-disk', 'ring');
  for (const args of [
    ['list', '--target', unplugged],
    ['list', '--target', unplugged, '--json'],
    ['verify', '--target', unplugged, '--slot', '0'],
    ['restore', '--target', unplugged, '--slot', '0', '--path', 'a.txt', '--to', dir],
  ]) {
    const r = await runCli(args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, '', `${args[0]} prints no listing`);
    assert.match(r.stderr, new RegExp(`The target folder ${unplugged.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} does not exist`));
    assert.match(r.stderr, /drive connected/);
  }
  assert.equal(existsSync(join(dir, 'media')), false, 'nothing was created on the way');
});

test('a target that is a file, not a folder, is said to be one', async (t) => {
  const file = join(await tempDir(t), 'ring');
  await writeFile(file, 'not a ring');
  const r = await runCli(['list', '--target', file]);
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /is not a folder/);
});

test('an existing, empty target still lists as "no slots yet" (exit 0), and the engine reports a missing one as preflight', async (t) => {
  const target = join(await tempDir(t), 'ring');
  await mkdir(target);
  const r = await runCli(['list', '--target', target]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `No slots in ${target} yet.\n`);
  // The Slots view gets the same answer through the engine: an error with the hint, not an empty ring.
  await assert.rejects(listRing(join(target, 'missing')), (error: unknown) => {
    assert.ok(error instanceof ShadowSlotsError);
    assert.equal(error.code, 'preflight');
    assert.match(error.hint ?? '', /drive connected/);
    return true;
  });
});
