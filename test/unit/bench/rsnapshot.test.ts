import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { rsnapshotConf, rsnapshotSlotPath } from '../../../bench/lib/rsnapshotConf';
import { run } from '../../../src/platform/runner';

const HOSTILE = `we ird 'q' "dq" & % ^ $(touch pwned) ; \`x\` Ünïcödé 日本`;

test('rsnapshot.conf: TAB-separated, 16 retained, link_dest, paths kept verbatim', () => {
  const conf = rsnapshotConf({ snapshotRoot: `/b/${HOSTILE}/snaps`, source: `/s/${HOSTILE}`, lockfile: '/b/lock.pid' });
  const rows = conf.trimEnd().split('\n').map((l) => l.split('\t'));
  const get = (k: string) => rows.find((r) => r[0] === k);
  assert.deepEqual(get('retain'), ['retain', 'daily', '16']);
  assert.deepEqual(get('link_dest'), ['link_dest', '1']);
  assert.deepEqual(get('snapshot_root'), ['snapshot_root', `/b/${HOSTILE}/snaps/`]);
  assert.deepEqual(get('backup'), ['backup', `/s/${HOSTILE}/`, 'localhost/']);
  assert.ok(!/ {2}/.test(conf.replace(HOSTILE, '')), 'fields are separated by TABs, never spaces');
});

test('rsnapshot.conf refuses what its format cannot express, and relative paths', () => {
  assert.throws(() => rsnapshotConf({ snapshotRoot: '/b/a\tb', source: '/s', lockfile: '/l' }), /TAB or line break/);
  assert.throws(() => rsnapshotConf({ snapshotRoot: '/b', source: '/s/x\ny', lockfile: '/l' }), /TAB or line break/);
  assert.throws(() => rsnapshotConf({ snapshotRoot: 'rel/b', source: '/s', lockfile: '/l' }), /absolute/);
  assert.throws(() => rsnapshotConf({ snapshotRoot: '/b', source: '/s', lockfile: '/l', retain: 1 }), /retain/);
});

test('real rsnapshot backs up a source with a hostile name into the computed slot path', { skip: !existsSync('/usr/bin/rsnapshot') && 'rsnapshot is not installed' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-rsnap-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const source = join(dir, HOSTILE);
  await mkdir(join(source, 'sub'), { recursive: true });
  await writeFile(join(source, 'sub', 'f.txt'), 'hello');
  const root = join(dir, 'snaps');
  const conf = join(dir, 'rsnapshot.conf');
  await writeFile(conf, rsnapshotConf({ snapshotRoot: root, source, lockfile: join(dir, 'rsnapshot.pid') }));
  await run('rsnapshot', ['-c', conf, 'configtest']);
  await run('rsnapshot', ['-c', conf, 'daily']);
  await run('rsnapshot', ['-c', conf, 'daily']);
  assert.equal(await readFile(join(rsnapshotSlotPath(root, 0, source), 'sub', 'f.txt'), 'utf8'), 'hello');
  assert.ok(existsSync(rsnapshotSlotPath(root, 1, source)), 'second run rotated daily.0 to daily.1');
  assert.ok(!existsSync(join(dir, 'pwned')) && !existsSync('pwned'), 'no part of the name was run by a shell');
});
