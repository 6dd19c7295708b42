import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findNodeOnPath, installStableCli } from '../../../src/platform/schedule/engineInstall';
import { schedulePaths } from '../../../src/platform/schedule/paths';

test('the bundled CLI is copied to a stable path, and only rewritten when it changed', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'ss-engine-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const bundled = join(root, 'ext-0.1.0', 'dist', 'cli.js');
  await mkdir(join(root, 'ext-0.1.0', 'dist'), { recursive: true });
  await writeFile(bundled, 'v1');
  const paths = schedulePaths({ SHADOW_SLOTS_CONFIG_DIR: join(root, 'cfg') }, 'linux', root);
  const stable = await installStableCli(bundled, paths);
  assert.equal(stable, join(root, 'cfg', 'engine', 'cli.js'));
  assert.equal(await readFile(stable, 'utf8'), 'v1');
  const first = (await stat(stable)).ino;
  await installStableCli(bundled, paths);
  assert.equal((await stat(stable)).ino, first, 'unchanged: not rewritten');
  await writeFile(bundled, 'v2');
  await installStableCli(bundled, paths);
  assert.equal(await readFile(stable, 'utf8'), 'v2');
});

test('node is found on PATH (executables only); config paths follow XDG and APPDATA', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'ss-path-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'a')); await mkdir(join(root, 'b'));
  await writeFile(join(root, 'a', 'node'), '');
  await writeFile(join(root, 'b', 'node'), '#!/bin/sh\n');
  await chmod(join(root, 'b', 'node'), 0o755);
  assert.equal(await findNodeOnPath({ PATH: `relative:${join(root, 'a')}:${join(root, 'b')}` }, 'linux'), join(root, 'b', 'node'));
  assert.equal(await findNodeOnPath({ PATH: join(root, 'a') }, 'linux'), undefined);
  const linux = schedulePaths({ XDG_CONFIG_HOME: '/x/cfg' }, 'linux', '/home/u');
  assert.equal(linux.registryFile, '/x/cfg/shadow-slots/schedules.json');
  assert.equal(linux.systemdUserDir, '/x/cfg/systemd/user');
  assert.equal(schedulePaths({ XDG_CONFIG_HOME: 'relative' }, 'linux', '/home/u').profileFile('p'), '/home/u/.config/shadow-slots/profiles/p.json');
  assert.equal(schedulePaths({ APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, 'win32', 'C:\\Users\\u').registryFile, 'C:\\Users\\u\\AppData\\Roaming\\shadow-slots\\schedules.json');
  assert.equal(schedulePaths({}, 'darwin', '/Users/u').launchAgentsDir, '/Users/u/Library/LaunchAgents');
});
