import { test } from 'node:test';
import assert from 'node:assert/strict';
import { apfsPlan, lvmPlan, parseTmutilLocalSnapshot } from '../../../src/platform/snapshot/plans';

// These commands cannot run here (no macOS, no device-mapper): the argv is the contract.

test('APFS: local snapshot, mounted read-only, released by date', () => {
  const name = parseTmutilLocalSnapshot('Created local snapshot with date: 2026-11-26-233000\n');
  assert.equal(name, 'com.apple.TimeMachine.2026-11-26-233000.local');
  const plan = apfsPlan({ volume: '/System/Volumes/Data', snapshotName: name!, mountPoint: '/tmp/ss mnt $(x)', sourceInVolume: 'Users/dev/my project' });
  assert.deepEqual(plan.create, [
    { command: '/usr/bin/tmutil', argv: ['localsnapshot'] },
    { command: '/sbin/mount_apfs', argv: ['-o', 'rdonly,nobrowse', '-s', 'com.apple.TimeMachine.2026-11-26-233000.local', '/System/Volumes/Data', '/tmp/ss mnt $(x)'] },
  ]);
  assert.deepEqual(plan.release, [
    { command: '/sbin/umount', argv: ['/tmp/ss mnt $(x)'] },
    { command: '/usr/bin/tmutil', argv: ['deletelocalsnapshots', '2026-11-26-233000'] },
  ]);
  assert.equal(plan.readPath, '/tmp/ss mnt $(x)/Users/dev/my project');
  assert.equal(parseTmutilLocalSnapshot('Error: no space'), undefined);
  assert.throws(() => apfsPlan({ volume: '/', snapshotName: 'evil; rm -rf /', mountPoint: '/m', sourceInVolume: '' }), /not a Time Machine/);
});

test('LVM: snapshot volume, read-only mount (nouuid for xfs), removal; names validated', () => {
  const plan = lvmPlan({ volumeGroup: 'vg0', logicalVolume: 'home', snapshotName: 'shadow-slots-1', size: '5G', mountPoint: '/run/ss', sourceInVolume: 'dev/proj', fsType: 'xfs' });
  assert.deepEqual(plan.create, [
    { command: 'lvcreate', argv: ['--snapshot', '--name', 'shadow-slots-1', '--size', '5G', 'vg0/home'] },
    { command: 'mount', argv: ['-o', 'ro,nouuid', '--', '/dev/vg0/shadow-slots-1', '/run/ss'] },
  ]);
  assert.deepEqual(plan.release, [
    { command: 'umount', argv: ['--', '/run/ss'] },
    { command: 'lvremove', argv: ['--yes', 'vg0/shadow-slots-1'] },
  ]);
  assert.equal(plan.readPath, '/run/ss/dev/proj');
  for (const bad of ['vg0; rm', '-rf', 'a b', '../x', '']) {
    assert.throws(() => lvmPlan({ volumeGroup: bad, logicalVolume: 'home', snapshotName: 's', size: '1G', mountPoint: '/m', sourceInVolume: '', fsType: 'ext4' }), /invalid LVM/);
  }
  assert.throws(() => lvmPlan({ volumeGroup: 'vg', logicalVolume: 'home', snapshotName: 's', size: '1G; reboot', mountPoint: '/m', sourceInVolume: '', fsType: 'ext4' }), /size/);
});
