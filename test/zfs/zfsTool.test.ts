// The zfs argv a ZFS ring runs and the parsers of what zfs prints, against output captured from
// zfs-fuse (test/zfs/fixtures/*.txt). Needs no ZFS: runs everywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newSlotId } from '../../src/core/layout';
import { bytesOf, classifyZfsFailure, mountpointsAbove, parseFilesystems, parseGet, ringNames, zfsArgv } from '../../src/platform/target/zfsTool';

const fixture = (name: string) => readFileSync(join(__dirname, 'fixtures', name), 'utf8');
const HOSTILE = '/tmp/zexp/mnt/we ird/a\ttab $(x);&%\'"\\ü';

test('zfs list of file systems is parsed as printed, a mountpoint holding a tab included', () => {
  const filesystems = parseFilesystems(fixture('list-filesystems.txt'));
  assert.equal(filesystems.length, 10);
  assert.deepEqual(filesystems[0], { name: 'zt', mountpoint: '/tmp/zexp/mnt', mounted: true });
  assert.deepEqual(filesystems[1], { name: 'zt/a', mountpoint: '/tmp/zexp/mnt/y', mounted: false });
  assert.deepEqual(filesystems[2], { name: 'zt/hostile', mountpoint: HOSTILE, mounted: true });
  assert.deepEqual(filesystems.find((f) => f.name === 'zt/shadow-slots-8'), { name: 'zt/shadow-slots-8', mountpoint: 'none', mounted: false });
});

test('the dataset holding a folder: the deepest mounted mountpoint above it, whole path segments only', () => {
  const filesystems = parseFilesystems(fixture('list-filesystems.txt'));
  assert.deepEqual(mountpointsAbove(filesystems, '/tmp/zexp/mnt/ring').map((f) => f.name), ['zt']);
  assert.deepEqual(mountpointsAbove(filesystems, '/tmp/zexp/mnt').map((f) => f.name), ['zt']);
  assert.deepEqual(mountpointsAbove(filesystems, `${HOSTILE}/ring`).map((f) => f.name), ['zt/hostile', 'zt']);
  // A slot's own clone is below the target, never above it.
  assert.deepEqual(mountpointsAbove(filesystems, '/tmp/zexp/mnt/ring/0/sub').map((f) => f.name), ['zt/shadow-slots-8/slot-20261203T101300Z-0f3a4d', 'zt']);
  assert.deepEqual(mountpointsAbove(filesystems, '/tmp/zexp/mntx/ring'), [], 'a name that only starts like a mountpoint');
  assert.deepEqual(mountpointsAbove(filesystems, '/tmp/zexp/mnt/y/ring').map((f) => f.name), ['zt'], 'an unmounted dataset holds nothing');
});

test('zfs get -H -p is parsed as printed: exact bytes, "-" where a property does not apply', () => {
  const props = parseGet(fixture('get-ring.txt'));
  const clone = props.get('zt/shadow-slots-8/slot-20261203T101249Z-d01344')!;
  assert.equal(clone.get('mountpoint'), '/tmp/zexp/mnt/ring/3');
  assert.equal(clone.get('mounted'), 'yes');
  assert.equal(clone.get('origin'), 'zt/shadow-slots-8/work@20261203T101249Z-d01344');
  const snapshot = props.get('zt/shadow-slots-8/work@20261203T101249Z-d01344')!;
  assert.equal(snapshot.get('type'), 'snapshot');
  assert.equal(bytesOf(snapshot.get('used')), 86016);
  assert.equal(bytesOf(snapshot.get('referenced')), 131072);
  assert.equal(bytesOf(snapshot.get('mountpoint')), null);
  assert.equal(bytesOf(undefined), null);
  assert.equal(props.get('zt/shadow-slots-8/work')!.get('mountpoint'), 'none');
  assert.equal(props.size, 10, 'container, working copy, four clones, four snapshots');
  assert.deepEqual(parseGet('zt/x\tmountpoint\t/a\tb\n'), new Map([['zt/x', new Map([['mountpoint', '/a\tb']])]]));
});

test('failed zfs commands are told apart by what zfs printed', () => {
  const cases: Array<[string, string]> = [
    ['err-no-permission-fuse.txt', 'no-permission'],
    ['err-no-daemon.txt', 'no-daemon'],
    ['err-out-of-space-snapshot.txt', 'out-of-space'],
    ['err-out-of-space-set.txt', 'out-of-space'],
    ['err-unmount-busy.txt', 'busy'],
    ['err-readonly-mountpoint.txt', 'read-only'],
    ['err-not-found.txt', 'not-found'],
    ['err-already-mounted.txt', 'already-mounted'],
    ['err-dependent-clones.txt', 'other'],
    ['err-snapshot-exists.txt', 'other'],
  ];
  for (const [file, failure] of cases) assert.equal(classifyZfsFailure(fixture(file)), failure, file);
  // OpenZFS without a delegation (zfs allow), and the runner's message when zfs cannot be started.
  assert.equal(classifyZfsFailure("cannot create snapshot 'tank/backup/ring@x': permission denied\n"), 'no-permission');
  assert.equal(classifyZfsFailure('\nzfs spawn zfs ENOENT'), 'missing');
  assert.equal(classifyZfsFailure("cannot destroy 'zt/fill': dataset is busy\n"), 'busy');
});

test('zfs argv: values are single arguments, never quoted or split, whatever the folder is called', () => {
  const mountpoint = `${HOSTILE}/ring/0`;
  assert.deepEqual(zfsArgv.clone('p/c/work@id', 'p/c/slot-id', mountpoint), ['clone', '-o', 'readonly=on', '-o', `mountpoint=${mountpoint}`, 'p/c/work@id', 'p/c/slot-id']);
  assert.deepEqual(zfsArgv.setMountpoint('p/c/slot-id', mountpoint), ['set', `mountpoint=${mountpoint}`, 'p/c/slot-id']);
  assert.deepEqual(zfsArgv.setMountpoint('p/c/work', null), ['set', 'mountpoint=none', 'p/c/work']);
  assert.deepEqual(zfsArgv.get(['used', 'referenced'], 'p/c', true), ['get', '-H', '-p', '-r', '-o', 'name,property,value', 'used,referenced', 'p/c']);
  assert.deepEqual(zfsArgv.get(['used'], 'p/c', false), ['get', '-H', '-p', '-o', 'name,property,value', 'used', 'p/c']);
  assert.deepEqual(zfsArgv.createContainer('p/c'), ['create', '-o', 'canmount=off', '-o', 'mountpoint=none', 'p/c']);
  assert.deepEqual(zfsArgv.createWork('p/c/work'), ['create', '-o', 'mountpoint=none', '-o', 'readonly=off', 'p/c/work']);
  assert.deepEqual(zfsArgv.destroy('p/c/work@id'), ['destroy', 'p/c/work@id']);
  assert.deepEqual(zfsArgv.filesystems(), ['list', '-H', '-o', 'name,mountpoint,mounted', '-t', 'filesystem']);
});

test('ring dataset names: one container per target folder, snapshot names without colons', () => {
  const names = ringNames('tank/backups', 1234);
  const id = newSlotId(new Date('2026-12-03T10:12:13.456Z'), 'a1b2c3');
  assert.equal(names.container, 'tank/backups/shadow-slots-1234');
  assert.equal(names.work, 'tank/backups/shadow-slots-1234/work');
  assert.equal(names.snapshot(id), 'tank/backups/shadow-slots-1234/work@20261203T101213Z-a1b2c3');
  assert.equal(names.slot(id), 'tank/backups/shadow-slots-1234/slot-20261203T101213Z-a1b2c3');
  // Colons in snapshot names are mangled over SMB and on macOS (sanoid #142).
  assert.doesNotMatch(names.snapshot(id), /:/);
  assert.doesNotMatch(names.snapshot('adopted-3-20261203T101213Z'), /:/);
});
