import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { buildRsyncArgv } from '../../../src/core/rsyncArgs';
import { splitWindowsArgs } from '../../../src/core/windows/cmdline';
import { checkTargetFilesystem, helperRsyncArgv, validateHelperProfile } from '../../../src/core/windows/helperProfile';
import { ELEVATION_LAUNCHER, elevationCommand } from '../../../src/platform/windows/helperPlan';
import { HOSTILE_WINDOWS_NAMES, planFor, USER_SID } from './planFixtures';

const fixtures = join(__dirname, '../../fixtures/windows');
const update = process.env['UPDATE_GOLDEN'] === '1';
const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: true });

function golden(dir: string, name: string, actual: Buffer): void {
  const file = join(fixtures, dir, name);
  if (update) { mkdirSync(join(fixtures, dir), { recursive: true }); writeFileSync(file, actual); }
  assert.ok(readFileSync(file).equals(actual), `${dir}/${name} differs from the golden file (UPDATE_GOLDEN=1 to accept a deliberate change)`);
}

function taskOf(plan: ReturnType<typeof planFor>) {
  const bytes = plan.files.find((f) => f.name === 'task.xml')!.bytes;
  assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xfe], 'UTF-16LE BOM');
  return parser.parse(bytes.subarray(2).toString('utf16le')).Task;
}

test('golden: the files Set Up Elevated Helper installs (MSYS2, user, NTFS)', () => {
  const plan = planFor({ source: 'C:\\Users\\alice\\src\\project', target: 'D:\\Backups\\project', slots: 16, excludes: ['node_modules/', '*.tmp'] });
  for (const f of plan.staging) if (f.name !== 'helper.ps1' && f.name !== 'install.ps1') golden('plan-msys2', f.name, f.bytes);
});

test('golden: Cygwin rsync, SYSTEM account, exFAT target, volume-root source', () => {
  const plan = planFor({ source: 'C:\\', target: 'E:\\Ring', slots: 4, name: 'Ring' }, { account: 'system', rsync: { path: 'C:\\cygwin64\\bin\\rsync.exe', flavor: 'cygwin' }, targetFilesystem: 'exFAT' });
  for (const f of plan.staging) if (f.name !== 'helper.ps1' && f.name !== 'install.ps1') golden('plan-cygwin-system-exfat', f.name, f.bytes);
  const p = plan.storedProfile;
  assert.ok(p.rsync.options.includes('--modify-window=1'));
  assert.match(p.warnings[0]!, /exFAT.*no hard links/);
  assert.equal(p.rsync.snapshotPrefix, '/cygdrive/c/ProgramData/Shadow Slots/Ring/links/');
  assert.equal(p.rsync.snapshotSuffix, '/');
  assert.equal(p.rsync.incomingPrefix, '/cygdrive/e/Ring/.shadow-slots/incoming/');
  assert.equal(p.rsync.linkDest, '--link-dest=/cygdrive/e/Ring/0');
  const t = taskOf(plan);
  assert.equal(t.Principals.Principal.UserId, 'S-1-5-18');
  assert.equal(t.Principals.Principal.LogonType, undefined);
});

test('task XML: on-demand, HighestAvailable, the user may run it, 64-bit PowerShell runs the installed helper', () => {
  for (const [account, logonType] of [['user', 'InteractiveToken'], ['user-s4u', 'S4U']] as const) {
    const plan = planFor({ source: 'C:\\src', target: 'D:\\Backups' }, { account });
    const t = taskOf(plan);
    assert.equal(t.Principals.Principal.UserId, USER_SID);
    assert.equal(t.Principals.Principal.LogonType, logonType);
    assert.equal(t.Principals.Principal.RunLevel, 'HighestAvailable');
    assert.equal(t.Triggers, '');
    assert.equal(t.RegistrationInfo.URI, '\\Shadow Slots\\helper-src');
    assert.equal(t.RegistrationInfo.SecurityDescriptor, `D:(A;;FA;;;SY)(A;;FA;;;BA)(A;;FRFX;;;${USER_SID})`);
    assert.equal(t.Settings.MultipleInstancesPolicy, 'IgnoreNew');
    assert.equal(t.Settings.DisallowStartIfOnBatteries, 'false');
    assert.equal(t.Settings.ExecutionTimeLimit, 'PT72H');
    assert.equal(t.Actions.Exec.Command, 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    assert.deepEqual(splitWindowsArgs(t.Actions.Exec.Arguments), ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-WindowStyle', 'Hidden', '-File', 'C:\\ProgramData\\Shadow Slots\\src\\helper.ps1']);
    assert.equal(t.Actions.Exec.WorkingDirectory, 'C:\\ProgramData\\Shadow Slots\\src');
  }
});

test('stored profile: the helper\'s rsync argv is exactly buildRsyncArgv with converted paths', () => {
  const plan = planFor({ source: 'C:\\Users\\alice\\src', target: '\\\\nas\\backup\\alice', excludes: ['*.iso'] });
  const p = validateHelperProfile(JSON.parse(plan.files.find((f) => f.name === 'profile.json')!.bytes.toString('utf8')));
  const id = '20261126T070000Z-a1b2c3';
  const common = { excludes: ['*.iso'], extraArgs: [], windowsRsync: true, timePrecision: 'seconds' as const, progress: true };
  const source = `/c/ProgramData/Shadow Slots/src/links/${id}/Users/alice/src`;
  const destination = `//nas/backup/alice/.shadow-slots/incoming/${id}`;
  assert.deepEqual(helperRsyncArgv(p, id, true), buildRsyncArgv({ ...common, source, destination, linkDest: '//nas/backup/alice/0' }));
  assert.deepEqual(helperRsyncArgv(p, id, false), buildRsyncArgv({ ...common, source, destination }));
  assert.ok(p.rsync.options.includes('--chmod=ugo=rwX'));
  assert.match(plan.notes.join('\n'), /^$/, 'interactive user on a share: no note');
});

test('ACL commands: inheritance cut, SYSTEM/Administrators full, Users read, links admin-only, owner Administrators', () => {
  const { manifest } = planFor({ source: 'C:\\src', target: 'D:\\Backups' });
  const [root, links, cancel] = manifest.acl.beforeCopy;
  assert.deepEqual(root, ['C:\\Windows\\System32\\icacls.exe', 'C:\\ProgramData\\Shadow Slots', '/inheritance:r', '/grant:r', '*S-1-5-18:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F', '*S-1-5-32-545:(OI)(CI)RX']);
  assert.deepEqual(links, ['C:\\Windows\\System32\\icacls.exe', 'C:\\ProgramData\\Shadow Slots\\src\\links', '/inheritance:r', '/grant:r', '*S-1-5-18:(OI)(CI)F', '*S-1-5-32-544:(OI)(CI)F']);
  assert.deepEqual(cancel, ['C:\\Windows\\System32\\icacls.exe', 'C:\\ProgramData\\Shadow Slots\\src\\cancel', '/grant', `*${USER_SID}:(OI)(CI)M`]);
  assert.deepEqual(manifest.acl.afterCopy, [['C:\\Windows\\System32\\icacls.exe', 'C:\\ProgramData\\Shadow Slots', '/setowner', '*S-1-5-32-544', '/T', '/C']]);
  assert.deepEqual(manifest.register, ['C:\\Windows\\System32\\schtasks.exe', '/Create', '/XML', 'C:\\ProgramData\\Shadow Slots\\src\\task.xml', '/TN', '\\Shadow Slots\\helper-src', '/F']);
});

test('hashes in install.json are the SHA-256 of the exact bytes staged', async () => {
  const { createHash } = await import('node:crypto');
  const plan = planFor({ source: 'C:\\src', target: 'D:\\Backups' });
  for (const f of plan.manifest.files) {
    const staged = plan.staging.find((s) => s.name === f.name)!;
    assert.equal(f.sha256, createHash('sha256').update(staged.bytes).digest('hex'));
  }
  assert.deepEqual(plan.manifest.files.map((f) => f.name), ['helper.ps1', 'profile.json', 'task.xml']);
});

test('hostile path names cannot change any command, the XML or the script', () => {
  const plain = planFor({ source: 'C:\\Users\\alice\\plain', target: 'D:\\Backups\\plain' });
  const helperBytes = plain.files.find((f) => f.name === 'helper.ps1')!.bytes;
  const id = '20261126T070000Z-a1b2c3';
  for (const name of HOSTILE_WINDOWS_NAMES) {
    const source = `C:\\Users\\alice\\${name}\\src`;
    const target = `D:\\Backups\\${name}`;
    const plan = planFor({ source, target, name: 'hostile', excludes: [`${name}/`] });
    // The script is constant: the same bytes whatever the profile, and no profile value in it.
    const script = plan.files.find((f) => f.name === 'helper.ps1')!;
    assert.ok(script.bytes.equals(helperBytes), name);
    assert.ok(!script.bytes.toString('utf8').includes(name), name);
    assert.ok(!script.bytes.toString('utf8').includes('Backups'), 'no path of any profile in the script');
    // Stored values round-trip exactly.
    const stored = validateHelperProfile(JSON.parse(plan.files.find((f) => f.name === 'profile.json')!.bytes.toString('utf8')));
    assert.equal(stored.source, source);
    assert.equal(stored.target, target);
    // Every argv keeps its shape: same length as with plain names; values stay whole elements.
    const argv = helperRsyncArgv(stored, id, true);
    assert.equal(argv.length, helperRsyncArgv(plain.storedProfile, id, true).length + 1 /* the exclude */, name);
    assert.equal(argv.at(-3), '--');
    assert.equal(argv.at(-2), `/c/ProgramData/Shadow Slots/hostile/links/${id}/Users/alice/${name}/src/`);
    assert.equal(argv.at(-1), `/d/Backups/${name}/.shadow-slots/incoming/${id}/`);
    assert.ok(argv.includes(`--exclude=${name}/`));
    assert.ok(argv.includes(`--link-dest=/d/Backups/${name}/0`));
    assert.deepEqual(plan.manifest.acl.beforeCopy.map((a) => a.length), plain.manifest.acl.beforeCopy.map((a) => a.length));
    assert.equal(plan.manifest.register.length, plain.manifest.register.length);
    // The XML carries the names only in the description, and parses back to exactly it.
    const t = taskOf(plan);
    assert.equal(t.RegistrationInfo.Description, `Shadow Slots elevated helper for profile "hostile": backs up ${source} to ${target} from a Volume Shadow Copy. Started on demand by the Shadow Slots extension.`);
    assert.deepEqual(splitWindowsArgs(t.Actions.Exec.Arguments).length, 8);
  }
});

test('elevation: a constant launcher; paths reach Start-Process as data in the environment, never as code', () => {
  const hash = 'a'.repeat(64);
  for (const name of HOSTILE_WINDOWS_NAMES) {
    const staging = `C:\\Users\\alice\\AppData\\Local\\Temp\\${name}\\stage`;
    const cmd = elevationCommand('C:\\Windows', staging, hash, 'install');
    assert.equal(cmd.command, 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    assert.deepEqual(cmd.argv.slice(0, 5), ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand']);
    assert.equal(Buffer.from(cmd.argv[5]!, 'base64').toString('utf16le'), ELEVATION_LAUNCHER);
    assert.deepEqual(splitWindowsArgs(cmd.env['SHADOW_SLOTS_ELEVATE_ARGS']!), ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-File', `${staging}\\install.ps1`, '-Plan', `${staging}\\install.json`, '-PlanSha256', hash, '-Mode', 'install']);
  }
  assert.throws(() => elevationCommand('C:\\Windows', 'C:\\x', 'not-a-hash', 'install'), /SHA-256/);
});

test('refusals with a clear message', () => {
  assert.throws(() => planFor({ source: '\\\\nas\\share\\src', target: 'D:\\B' }), /not on a local drive/);
  assert.throws(() => planFor({ source: 'C:\\src', target: '\\\\nas\\b' }, { account: 'user-s4u' }), /S4U task has no network credentials/);
  assert.throws(() => planFor({ source: 'C:\\src', target: 'D:\\B' }, { userSid: 'alice' }), /not a Windows SID/);
  assert.throws(() => planFor({ source: 'C:\\src', target: 'D:\\B', name: 'nul' }), /reserved device name/);
  assert.throws(() => planFor({ source: 'C:\\src', target: 'D:\\B', name: 'trailing.' }), /ends with a dot/);
  assert.throws(() => planFor({ source: 'C:\\src', target: 'D:\\B', snapshot: 'none' }), /snapshot method is "none"/);
  assert.throws(() => planFor({ source: 'C:\\a "quoted" dir', target: 'D:\\B' }), /does not allow in names/);
  assert.throws(() => planFor({ source: 'C:\\a|b', target: 'D:\\B' }), /does not allow in names/);
  assert.throws(() => checkTargetFilesystem('NTFS', 1024), /NTFS allows 1023/);
  assert.deepEqual(checkTargetFilesystem('NTFS', 1023), { coarseTimes: false, warnings: [] });
  assert.equal(checkTargetFilesystem('FAT32', 16).coarseTimes, true);
  const onShareAsSystem = planFor({ source: 'C:\\src', target: '\\\\nas\\b' }, { account: 'system' });
  assert.match(onShareAsSystem.notes.join('\n'), /computer's account/);
});
