import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOSTILE_WINDOWS_NAMES, planFor, USER_SID } from '../../unit/windows/planFixtures';

const root = join(__dirname, '../../..');

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--conditions=import', '--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { cwd: root, encoding: 'utf8' });
}

test('helper plan writes byte-for-byte what Set Up Elevated Helper stages, for hostile paths too', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ss-helper-plan-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [i, name] of HOSTILE_WINDOWS_NAMES.entries()) {
    const out = join(dir, `out${i}`);
    const source = `C:\\Users\\alice\\${name}`;
    const target = `D:\\Backups\\${name}`;
    const r = cli(['helper', 'plan', '--source', source, '--target', target, '--name', 'hostile', '--slots', '5', '--account', 'user-s4u', '--rsync-flavor', 'cygwin', '--user-sid', USER_SID, '--target-fs', 'NTFS', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    const expected = planFor({ source, target, name: 'hostile', slots: 5 }, { account: 'user-s4u', rsync: { path: 'C:\\cygwin64\\bin\\rsync.exe', flavor: 'cygwin' } });
    assert.deepEqual((await readdir(out)).sort(), expected.staging.map((f) => f.name).sort());
    for (const f of expected.staging) assert.ok((await readFile(join(out, f.name))).equals(f.bytes), `${name}: ${f.name}`);
    assert.match(r.stdout, /nothing was installed/);
  }
});

test('helper plan: invalid input exits 2 with a clear message and writes nothing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ss-helper-plan-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const base = ['helper', 'plan', '--user-sid', USER_SID];
  const cases: Array<[string[], RegExp]> = [
    [['--source', 'src', '--target', 'D:\\B'], /not absolute/],
    [['--source', 'C:\\src', '--target', 'C:\\src'], /is the source itself/],
    [['--source', 'C:\\src', '--target', 'D:\\B', '--slots', '0'], /slot count/],
    [['--source', 'C:\\src', '--target', 'D:\\B', '--account', 'root'], /--account must be one of/],
    [['--source', 'C:\\src', '--target', 'D:\\B', '--rsync-flavor', 'wsl'], /--rsync-flavor must be/],
    [['--source', '\\\\nas\\share', '--target', 'D:\\B'], /not on a local drive/],
    [['--source', 'C:\\src', '--target', '\\\\nas\\b', '--account', 'user-s4u'], /no network credentials/],
    [['--source', 'C:\\src', '--target', 'D:\\B', '--user-sid', 'bob'], /not a Windows SID/],
    [['--source', 'C:\\src', '--target', 'D:\\B', '--bogus'], /Unknown option/],
  ];
  for (const [i, [args, message]] of cases.entries()) {
    const out = join(dir, `bad${i}`);
    const r = cli([...base, ...args, '--out', out]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    await assert.rejects(readdir(out), /ENOENT/, 'nothing written');
  }
  const r = cli(['helper', 'plan', '--source', 'C:\\src', '--target', 'D:\\B', '--out', join(dir, 'nosid')]);
  if (process.platform !== 'win32') {
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--user-sid is required when planning off Windows/);
  }
});
