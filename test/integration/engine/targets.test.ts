import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { slowCopyFixture, tempDir } from '../../helpers/tmp';
import { runCli } from '../../helpers/cli';
import { loopFs, loopFsUnavailable } from '../../helpers/loopFs';

const noFat = loopFsUnavailable('mkfs.vfat', 'vfat');

test('a FAT target: the user is told every slot is a full copy, times compare with a 2 s window', { skip: noFat ?? false }, async (t) => {
  const target = await loopFs(t, 'mkfs.vfat', 64);
  const source = join(await tempDir(t), 'src');
  await mkdir(source);
  await writeFile(join(source, 'a.txt'), 'a');
  const first = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--json']);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  const result = first.events.find((e) => e['type'] === 'result')!['result'] as { warnings: string[]; slot: { manifest: { rsync: { argv: string[] } } } };
  assert.ok(result.warnings.some((w) => /vfat\) does not support hard links: every slot will be a full copy/.test(w)), result.warnings.join('\n'));
  assert.ok(result.slot.manifest.rsync.argv.includes('--modify-window=1'));
  const second = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--json']);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(await readFile(join(target, '1', 'a.txt'), 'utf8'), 'a');
  assert.equal((await stat(join(target, '0', 'a.txt'))).nlink, 1, 'no hard links on FAT');
});

test('cancelling a backup (SIGTERM to the CLI) stops rsync, leaves the ring as it was and no lock', async (t) => {
  const dir = await tempDir(t);
  const source = join(dir, 'src');
  const target = join(dir, 'ring');
  await mkdir(join(source, 'd'), { recursive: true });
  await mkdir(target);
  await writeFile(join(source, 'd', 'small'), 's');
  assert.equal((await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none'])).code, 0);
  for (let i = 0; i < 40; i++) await writeFile(join(source, 'd', `big${i}`), Buffer.alloc(1024 * 1024, i));
  const { spawn } = await import('node:child_process');
  const { cliPath } = await import('../../helpers/cli');
  // Throttled so the copy is still running when the signal arrives.
  const child = spawn(process.execPath, [cliPath, 'backup', '--profile', await profileFile(dir, source, target), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let signalled = false;
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.includes('"phase":"copy"') && !signalled) { signalled = true; setTimeout(() => child.kill('SIGTERM'), 300); }
  });
  const code: number = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  assert.equal(code, 143, out);
  assert.match(out, /"code":"cancelled"/);
  const listing = JSON.parse((await runCli(['list', '--target', target, '--json'])).stdout) as { slots: Array<{ number: number | null; state: string }>; busy: boolean };
  assert.deepEqual(listing.slots.filter((s) => s.state === 'complete').map((s) => s.number), [0]);
  assert.equal(listing.busy, false, 'the lock was released');
  const { run } = await import('../../../src/platform/runner');
  const ps = await run('ps', ['-eo', 'args=']);
  assert.ok(!ps.stdout.split('\n').some((l) => l.includes('rsync') && l.includes(target)), 'no rsync left running');
  const resumed = await runCli(['backup', '--source', source, '--target', target, '--snapshot', 'none', '--json']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal((await stat(join(target, '0', 'd', 'big39'))).size, 1024 * 1024);
});

async function profileFile(dir: string, source: string, target: string): Promise<string> {
  const file = join(dir, 'profile.json');
  await writeFile(file, JSON.stringify({ source, target, snapshot: 'none', rsyncArgs: ['--bwlimit=4000'] }));
  return file;
}

test('rsync killed by someone else (OOM killer, shutdown) is a failure the user hears about, not a quiet cancel', async (t) => {
  const { dir, source, target } = await slowCopyFixture(t);
  const { spawn } = await import('node:child_process');
  const { cliPath } = await import('../../helpers/cli');
  const { run } = await import('../../../src/platform/runner');
  const child = spawn(process.execPath, [cliPath, 'backup', '--profile', await profileFile(dir, source, target), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let killed = false;
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (!killed && out.includes('"phase":"copy","message":"0%') ) {
      killed = true;
      void run('pkill', ['-KILL', '-f', `rsync.*${target}`]).catch(() => undefined);
    }
  });
  const code: number = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  assert.ok(killed, 'rsync was killed mid-copy');
  assert.equal(code, 1, out);
  assert.match(out, /"code":"rsync"/);
  assert.match(out, /rsync was killed/);
  const listing = JSON.parse((await runCli(['list', '--target', target, '--json'])).stdout) as { slots: Array<{ state: string }> };
  assert.equal(listing.slots.filter((s) => s.state === 'complete').length, 0);
});
