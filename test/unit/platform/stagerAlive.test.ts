import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { stagerAlive } from '../../../src/platform/target/sshTempFolders';

test('a staged file is a live run\'s while the process its name holds runs (a long copy keeps its draft for hours)', () => {
  assert.equal(stagerAlive(`shadow-slots-stage-${process.pid}-0a1b2c3d4e5f`), true);
  const ended = spawnSync(process.execPath, ['-e', '0']).pid;
  assert.equal(stagerAlive(`shadow-slots-stage-${ended}-0a1b2c3d4e5f`), false);
  for (const name of ['shadow-slots-stage-x-1', 'shadow-slots-stage--1-2', 'shadow-slots-stage-0-ab', 'other-123-ab']) assert.equal(stagerAlive(name), false, name);
});
