import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lutimesSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sweepLeftovers } from '../../../src/platform/target/sshTempFolders';

const here = dirname(new URL(import.meta.url).pathname);

test('local copies of server files live in a folder only this user can enter, gone when the process exits', (t) => {
  const base = mkdtempSync(join(tmpdir(), 'ss-scratch-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const script = `
    const module = await import(${JSON.stringify(join(here, '../../../src/platform/target/sshTempFolders.ts'))});
    // tsx hands a CommonJS-compiled module over as its default export.
    const { localScratch } = module.localScratch ? module : module.default;
    const { writeFileSync, statSync } = await import('node:fs');
    const { dirname } = await import('node:path');
    const a = localScratch(), b = localScratch();
    // A write stream with a permissive umask: the folder, not the file's mode, keeps it private.
    process.umask(0o022);
    writeFileSync(a, 'src/secret-plans.txt\\n');
    const folderMode = statSync(dirname(a)).mode & 0o777;
    // A temp cleaner removes the folder of a long-lived engine, and someone makes one by that name.
    const { rmSync, mkdirSync, chmodSync } = await import('node:fs');
    rmSync(dirname(a), { recursive: true });
    mkdirSync(dirname(a));
    chmodSync(dirname(a), 0o777);
    const c = localScratch();
    console.log(JSON.stringify({ a, b, c, folderMode, cMode: statSync(dirname(c)).mode & 0o777, planted: dirname(a) }));
  `;
  const child = spawnSync(process.execPath, ['--conditions=import', '--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, TMPDIR: base }, encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  const { a, b, c, folderMode, cMode, planted } = JSON.parse(child.stdout) as { a: string; b: string; c: string; folderMode: number; cMode: number; planted: string };
  assert.equal(dirname(a), dirname(b), 'one folder per process');
  assert.match(dirname(a), new RegExp(`^${base}/shadow-slots-stage-${child.pid}-`), 'named by the process, so a sweep can tell whether it still runs');
  assert.notEqual(a, b);
  assert.equal(folderMode, 0o700);
  assert.notEqual(dirname(c), dirname(a), 'a folder that is not the one made here is not used');
  assert.equal(cMode, 0o700, 'a new private one is made');
  assert.equal(existsSync(dirname(c)), false, 'removed with what it held when the process exited');
  assert.equal(existsSync(planted), true, 'the planted folder is not ours to remove');
});

test('the sweep removes a dead run\'s stage folder once it is an hour old, and keeps a live run\'s and a recent one', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'ss-sweep-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
  const make = (name: string, old: boolean) => {
    const folder = join(base, name);
    mkdirSync(folder);
    writeFileSync(join(folder, 'draft'), 'x');
    if (old) utimesSync(folder, twoHoursAgo, twoHoursAgo);
    return folder;
  };
  const deadOld = make(`shadow-slots-stage-${dead}-aaaaaa`, true);
  const deadRecent = make(`shadow-slots-stage-${dead}-bbbbbb`, false);
  const liveOld = make(`shadow-slots-stage-${process.pid}-cccccc`, true);
  const olderVersionsFile = join(base, `shadow-slots-stage-${dead}-0a1b2c3d4e5f`);
  writeFileSync(olderVersionsFile, 'x');
  utimesSync(olderVersionsFile, twoHoursAgo, twoHoursAgo);
  // Someone else's link by such a name (to a folder of ours that is old enough) is neither followed nor a failure.
  const precious = make('precious', true);
  symlinkSync(precious, join(base, `shadow-slots-stage-${dead}-dddddd`));
  lutimesSync(join(base, `shadow-slots-stage-${dead}-dddddd`), twoHoursAgo, twoHoursAgo);
  await sweepLeftovers(base);
  assert.equal(existsSync(join(precious, 'draft')), true, 'a link is not followed');
  assert.equal(existsSync(deadOld), false, 'a dead run\'s old folder goes');
  assert.equal(existsSync(olderVersionsFile), false, 'so does a single staged file an older version left');
  assert.equal(existsSync(deadRecent), true, 'a recent folder stays (its run may have just ended)');
  assert.equal(existsSync(liveOld), true, 'a live run\'s folder stays, however old (a long copy keeps its draft for hours)');
  assert.equal(statSync(join(liveOld, 'draft')).size, 1);
});
