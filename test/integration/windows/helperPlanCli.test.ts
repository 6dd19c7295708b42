import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fakeMsys2Runtime, fakeMsys2SshRuntime } from '../../unit/windows/peBuilder';
import { HOSTILE_WINDOWS_NAMES, planFor, USER_SID } from '../../unit/windows/planFixtures';
import { collectRsyncRuntime } from '../../../src/platform/windows/rsyncRuntime';

const root = join(__dirname, '../../..');

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--conditions=import', '--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { cwd: root, encoding: 'utf8' });
}

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)).split('\\').join('/')).sort();
}

/** A folder like MSYS2's usr\bin copied from a Windows machine: rsync.exe, the DLLs it needs, and more. */
async function rsyncFolder(dir: string): Promise<string> {
  const bin = join(dir, 'usr', 'bin');
  await mkdir(bin, { recursive: true });
  for (const f of fakeMsys2Runtime()) await writeFile(join(bin, f.name), f.bytes);
  await writeFile(join(bin, 'unrelated.dll'), 'not needed by rsync.exe');
  return join(bin, 'rsync.exe');
}

test('helper plan writes byte-for-byte what Set Up Elevated Helper stages, rsync copy included, for hostile paths too', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ss-helper-plan-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rsync = await rsyncFolder(join(dir, 'msys64'));
  for (const [i, name] of HOSTILE_WINDOWS_NAMES.entries()) {
    const out = join(dir, `out${i}`);
    const source = `C:\\Users\\alice\\${name}`;
    const target = `D:\\Backups\\${name}`;
    const r = cli(['helper', 'plan', '--source', source, '--target', target, '--name', 'hostile', '--slots', '5', '--rsync', rsync, '--rsync-flavor', 'cygwin', '--user-sid', USER_SID, '--target-fs', 'NTFS', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    // Off Windows the installer's read location defaults to the flavor's usual folder (--rsync-origin changes it).
    const expected = planFor({ source, target, name: 'hostile', slots: 5 }, { rsync: { path: 'C:\\cygwin64\\bin\\rsync.exe', flavor: 'cygwin', files: fakeMsys2Runtime() } });
    assert.deepEqual(await listTree(out), expected.staging.map((f) => f.name).sort());
    for (const f of expected.staging) assert.ok((await readFile(join(out, ...f.name.split('/')))).equals(f.bytes), `${name}: ${f.name}`);
    assert.match(r.stdout, /nothing was installed/);
    assert.match(r.stdout, /rsync: C:\\cygwin64\\bin\\rsync\.exe \(cygwin\), read by the installer with 2 DLL\(s\) from that folder, only if administrators alone can change it/);
    assert.match(r.stdout, /runs as SYSTEM/);
  }
});

test('helper plan --rsync-origin: where the installer reads rsync on Windows; a share or relative path is refused', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ss-helper-plan-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rsync = await rsyncFolder(dir);
  const base = ['helper', 'plan', '--source', 'C:\\src\\p', '--target', 'D:\\B', '--rsync', rsync, '--user-sid', USER_SID];
  const ok = cli([...base, '--rsync-origin', 'C:\\Program Files\\cwRsync\\bin\\rsync.exe', '--out', join(dir, 'ok')]);
  assert.equal(ok.status, 0, ok.stderr);
  const manifest = JSON.parse(await readFile(join(dir, 'ok', 'install.json'), 'utf8'));
  assert.deepEqual(manifest.rsync.map((f: { from: string }) => f.from), ['C:\\Program Files\\cwRsync\\bin\\rsync.exe', 'C:\\Program Files\\cwRsync\\bin\\msys-2.0.dll', 'C:\\Program Files\\cwRsync\\bin\\msys-iconv-2.dll']);
  for (const origin of ['\\\\nas\\tools\\rsync.exe', 'tools\\rsync.exe']) {
    const r = cli([...base, '--rsync-origin', origin, '--out', join(dir, 'bad')]);
    assert.equal(r.status, 2, `${origin}: ${r.stderr}`);
    assert.match(r.stderr, /not on a local drive|not an absolute/);
    await assert.rejects(readdir(join(dir, 'bad')), /ENOENT/);
  }
});

test('helper plan: a user account only with --accept-user-account-risk, and then with the warning', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ss-helper-plan-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rsync = await rsyncFolder(dir);
  const base = ['helper', 'plan', '--source', 'C:\\src\\p', '--target', 'D:\\B', '--rsync', rsync, '--user-sid', USER_SID, '--account', 'user'];
  const refused = cli([...base, '--out', join(dir, 'refused')]);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /--account user needs --accept-user-account-risk/);
  await assert.rejects(readdir(join(dir, 'refused')), /ENOENT/);
  const accepted = cli([...base, '--accept-user-account-risk', '--out', join(dir, 'accepted')]);
  assert.equal(accepted.status, 0, accepted.stderr);
  assert.match(accepted.stdout, /any program running as you/);
});

test('helper plan: invalid input exits 2 with a clear message and writes nothing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ss-helper-plan-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rsync = await rsyncFolder(dir);
  const base = ['helper', 'plan', '--user-sid', USER_SID, '--rsync', rsync];
  const cases: Array<[string[], RegExp]> = [
    [['--source', 'src', '--target', 'D:\\B'], /not absolute/],
    [['--source', 'C:\\src', '--target', 'C:\\src'], /is the source itself/],
    [['--source', 'C:\\src', '--target', 'D:\\B', '--slots', '0'], /slot count/],
    [['--source', 'C:\\src', '--target', 'D:\\B', '--account', 'root'], /--account must be one of/],
    [['--source', 'C:\\src', '--target', 'D:\\B', '--rsync-flavor', 'wsl'], /--rsync-flavor must be/],
    [['--source', '\\\\nas\\share', '--target', 'D:\\B'], /not on a local drive/],
    [['--source', 'C:\\', '--target', 'D:\\B'], /does not back up a whole drive/],
    [['--source', 'C:\\src', '--target', 'D:\\B', '--exclude', 'Q" --log-file=/c/x.log --exclude="Z'], /contains a double quote/],
    [['--source', 'C:\\src', '--target', '\\\\nas\\b', '--account', 'user-s4u', '--accept-user-account-risk'], /no network credentials/],
    [['--source', 'C:\\src', '--target', 'D:\\B', '--user-sid', 'bob'], /not the SID of a user account/],
    [['--source', 'C:\\src', '--target', 'D:\\B', '--user-sid', 'S-1-5-32-545'], /not the SID of a user account/],
    [['--source', 'C:\\src', '--target', 'D:\\'], /drive's root/],
    [['--source', 'C:\\src', '--target', '\\\\localhost\\share\\B'], /names this computer/],
    [['--source', 'C:\\src', '--target', 'D:\\B', '--bogus'], /Unknown option/],
    [['--source', 'C:\\src', '--target', 'D:\\B', '--target-mode', 'cow'], /copy-on-write slots need a btrfs or ZFS target/],
    [['--source', 'C:\\src', '--target', 'D:\\B', '--target-mode', 'reflink'], /target mode/i],
  ];
  for (const [i, [args, message]] of cases.entries()) {
    const out = join(dir, `bad${i}`);
    const r = cli([...base, ...args, '--out', out]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    await assert.rejects(readdir(out), /ENOENT/, 'nothing written');
  }
  // A missing rsync is the machine's state, not a typing error: a preflight failure (exit 1).
  const missing = cli([...base, '--source', 'C:\\src', '--target', 'D:\\B', '--rsync', join(dir, 'nowhere', 'rsync.exe'), '--out', join(dir, 'missing')]);
  assert.equal(missing.status, 1, missing.stderr);
  assert.match(missing.stderr, /rsync's folder .*nowhere cannot be read \(ENOENT\)/);
  await assert.rejects(readdir(join(dir, 'missing')), /ENOENT/);
  if (process.platform !== 'win32') {
    const noSid = cli(['helper', 'plan', '--source', 'C:\\src', '--target', 'D:\\B', '--rsync', rsync, '--out', join(dir, 'nosid')]);
    assert.equal(noSid.status, 2);
    assert.match(noSid.stderr, /--user-sid is required when planning off Windows/);
    const noRsync = cli(['helper', 'plan', '--source', 'C:\\src', '--target', 'D:\\B', '--user-sid', USER_SID, '--out', join(dir, 'norsync')]);
    assert.equal(noRsync.status, 2);
    assert.match(noRsync.stderr, /--rsync is required when planning off Windows/);
  }
});

test('helper plan --target ssh://… --host-key: ssh.exe and ssh-keygen.exe of rsync\'s folder, the ssh_config and known_hosts, as Set Up would stage them; without ssh beside rsync it names the package (issue 15)', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ss-helper-plan-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rsync = await rsyncFolder(dir);
  const target = 'ssh://backup@nas:2222/srv/My Backups/alice';
  const hostKey = '[nas]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINQhgIQgO+YeXwREMkVS6VL8CVwJlTeEyLmGUGELzeDn';
  const base = ['helper', 'plan', '--source', 'C:\\src\\p', '--target', target, '--name', 'p', '--rsync', rsync, '--user-sid', USER_SID];
  const noSsh = cli([...base, '--host-key', hostKey, '--out', join(dir, 'no-ssh')]);
  assert.equal(noSsh.status, 1, noSsh.stderr);
  assert.match(noSsh.stderr, /ssh\.exe is not beside rsync\.exe/);
  assert.match(noSsh.stderr, /pacman -S openssh/);
  await assert.rejects(readdir(join(dir, 'no-ssh')), /ENOENT/);
  for (const f of fakeMsys2SshRuntime()) await writeFile(join(dir, 'usr', 'bin', f.name), f.bytes);
  const noKey = cli([...base, '--rsync-version', '3.4.1', '--out', join(dir, 'no-key')]);
  assert.equal(noKey.status, 2, noKey.stderr);
  assert.match(noKey.stderr, /needs it accepted first/);
  // Review H2: rsync.exe cannot run off Windows, so its version is given; below 3.4.0 it is refused.
  const unknown = cli([...base, '--host-key', hostKey, '--out', join(dir, 'unknown')]);
  assert.equal(unknown.status, 2, unknown.stderr);
  assert.match(unknown.stderr, /version of .* is unknown/);
  assert.match(unknown.stderr, /--rsync-version/);
  const old = cli([...base, '--host-key', hostKey, '--rsync-version', '3.2.7', '--out', join(dir, 'old')]);
  assert.equal(old.status, 2, old.stderr);
  assert.match(old.stderr, /rsync 3\.2\.7.*CVE-2024-12084/s);
  await assert.rejects(readdir(join(dir, 'old')), /ENOENT/);
  const out = join(dir, 'out');
  const r = cli([...base, '--host-key', hostKey, '--rsync-version', '3.4.1', '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  // Set Up collects the runtime the same way (rsync.exe, ssh.exe, ssh-keygen.exe, then the DLLs).
  const files = await collectRsyncRuntime(rsync, { ssh: true });
  const expected = planFor({ source: 'C:\\src\\p', target, name: 'p' }, { rsync: { path: 'C:\\msys64\\usr\\bin\\rsync.exe', flavor: 'msys2', files, version: 'rsync  version 3.4.1' }, targetFilesystem: 'unknown', hostKey });
  assert.deepEqual(await listTree(out), expected.staging.map((f) => f.name).sort());
  for (const f of expected.staging) assert.ok((await readFile(join(out, ...f.name.split('/')))).equals(f.bytes), f.name);
  assert.match(r.stdout, /read by the installer with ssh\.exe, ssh-keygen\.exe and 4 DLL\(s\) from that folder/);
  assert.match(r.stdout, /host key accepted for backup@nas:2222: SHA256:DPeSXOKKgHNcuI7ta\+sqyqF06tsg\+8BcWOF00dprx9c/);
});
