import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { buildRsyncArgv } from '../../../src/core/rsyncArgs';
import { splitWindowsArgs } from '../../../src/core/windows/cmdline';
import { RIGHTS } from '../../../src/core/windows/acl';
import { checkTargetFilesystem, helperOptionProblem, helperRsyncArgv, validateHelperProfile } from '../../../src/core/windows/helperProfile';
import { rsyncLocationFix, USER_ACCOUNT_WARNING } from '../../../src/platform/windows/helperPlan';
import { fakeMsys2Runtime } from './peBuilder';
import { ShadowSlotsError } from '../../../src/core/errors';
import { golden, HOSTILE_WINDOWS_NAMES, planFor, USER_SID } from './planFixtures';

const parser = new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: true });
/** The generated files; the scripts are constant assets and the rsync binaries are test inputs. */
const GENERATED = ['profile.json', 'task.xml', 'install.json', 'acl.json', 'rsync/etc/fstab'];


function taskOf(plan: ReturnType<typeof planFor>) {
  const bytes = plan.files.find((f) => f.name === 'task.xml')!.bytes;
  assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xfe], 'UTF-16LE BOM');
  return parser.parse(bytes.subarray(2).toString('utf16le')).Task;
}

const staged = (plan: ReturnType<typeof planFor>, name: string) => plan.staging.find((f) => f.name === name)!;

test('golden: the files Set Up Elevated Helper installs (MSYS2, SYSTEM by default, NTFS)', () => {
  const plan = planFor({ source: 'C:\\Users\\alice\\src\\project', target: 'D:\\Backups\\project', slots: 16, excludes: ['node_modules/', '*.tmp'] });
  for (const name of GENERATED) golden('plan-msys2', name, staged(plan, name).bytes);
});

test('golden: Cygwin rsync, the user account chosen explicitly, exFAT target', () => {
  const plan = planFor({ source: 'C:\\Users\\alice', target: 'E:\\Ring', slots: 4, name: 'Ring' },
    { account: 'user', userAccountAccepted: true, rsync: { path: 'C:\\cygwin64\\bin\\rsync.exe', flavor: 'cygwin', files: fakeMsys2Runtime() }, targetFilesystem: 'exFAT' });
  for (const name of GENERATED) golden('plan-cygwin-user-exfat', name, staged(plan, name).bytes);
  const p = plan.storedProfile;
  assert.ok(p.rsync.options.includes('--modify-window=1'));
  assert.match(p.warnings[0]!, /exFAT.*no hard links/);
  assert.equal(p.rsync.snapshotPrefix, '/cygdrive/c/ProgramData/Shadow Slots/Ring/links/');
  assert.equal(p.rsync.snapshotSuffix, '/Users/alice/');
  assert.equal(p.rsync.incomingPrefix, '/cygdrive/e/Ring/.shadow-slots/incoming/');
  assert.equal(p.rsync.excludeFromPrefix, '/cygdrive/c/ProgramData/Shadow Slots/Ring/tmp/');
  assert.equal(p.rsync.linkDest, '--link-dest=/cygdrive/e/Ring/0');
  assert.equal(staged(plan, 'rsync/etc/fstab').bytes.toString(), 'none /cygdrive cygdrive binary,posix=0,noacl,user 0 0\n');
  const t = taskOf(plan);
  assert.equal(t.Principals.Principal.UserId, USER_SID);
  assert.equal(t.Principals.Principal.LogonType, 'InteractiveToken');
  assert.ok(plan.notes.includes(USER_ACCOUNT_WARNING));
});

test('task XML: SYSTEM by default, HighestAvailable, owned by Administrators, the user may only read and run it', () => {
  const plan = planFor({ source: 'C:\\src\\p', target: 'D:\\Backups' });
  const t = taskOf(plan);
  assert.equal(t.Principals.Principal.UserId, 'S-1-5-18');
  assert.equal(t.Principals.Principal.LogonType, undefined);
  assert.equal(t.Principals.Principal.RunLevel, 'HighestAvailable');
  assert.equal(t.Triggers, '');
  assert.equal(t.RegistrationInfo.URI, '\\Shadow Slots\\helper-p');
  // O:BA: a task owned by its creator could be changed by that account later (issue 12, finding 7).
  assert.equal(t.RegistrationInfo.SecurityDescriptor, `O:BAD:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FRFX;;;${USER_SID})`);
  assert.equal(t.Settings.MultipleInstancesPolicy, 'IgnoreNew');
  assert.equal(t.Settings.DisallowStartIfOnBatteries, 'false');
  assert.equal(t.Settings.ExecutionTimeLimit, 'PT72H');
  assert.equal(t.Actions.Exec.Command, 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
  assert.deepEqual(splitWindowsArgs(t.Actions.Exec.Arguments), ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-WindowStyle', 'Hidden', '-File', 'C:\\ProgramData\\Shadow Slots\\p\\helper.ps1']);
  assert.equal(t.Actions.Exec.WorkingDirectory, 'C:\\ProgramData\\Shadow Slots\\p');
  assert.match(plan.notes.join('\n'), /runs as SYSTEM: it cannot see your mapped drive letters and has none of your network credentials/);
});

test('the user accounts need an explicit choice, and then say what they risk', () => {
  for (const account of ['user', 'user-s4u'] as const) {
    assert.throws(() => planFor({ source: 'C:\\src\\p', target: 'D:\\B' }, { account }), (e: Error) => e.message.includes(USER_ACCOUNT_WARNING) && /must be chosen explicitly/.test(e.message));
    const plan = planFor({ source: 'C:\\src\\p', target: 'D:\\B' }, { account, userAccountAccepted: true });
    const t = taskOf(plan);
    assert.equal(t.Principals.Principal.UserId, USER_SID);
    assert.equal(t.Principals.Principal.LogonType, account === 'user' ? 'InteractiveToken' : 'S4U');
    assert.ok(plan.notes.includes(USER_ACCOUNT_WARNING));
  }
  assert.match(USER_ACCOUNT_WARNING, /any program running as you .* administrator rights/);
});

test('stored profile: the helper\'s rsync argv is buildRsyncArgv with converted paths, after the reparse-point exclude list', () => {
  const plan = planFor({ source: 'C:\\Users\\alice\\src', target: '\\\\nas\\backup\\alice', excludes: ['*.iso'] });
  const p = validateHelperProfile(JSON.parse(staged(plan, 'profile.json').bytes.toString('utf8')));
  const id = '20261126T070000Z-a1b2c3';
  const common = { excludes: ['*.iso'], extraArgs: [], windowsRsync: true, timePrecision: 'seconds' as const, progress: true };
  const source = `/c/ProgramData/Shadow Slots/src/links/${id}/Users/alice/src`;
  const destination = `//nas/backup/alice/.shadow-slots/incoming/${id}`;
  const excludeFrom = `--exclude-from=/c/ProgramData/Shadow Slots/src/tmp/${id}.exclude`;
  assert.deepEqual(helperRsyncArgv(p, id, true), [excludeFrom, ...buildRsyncArgv({ ...common, source, destination, linkDest: '//nas/backup/alice/0' })]);
  assert.deepEqual(helperRsyncArgv(p, id, false), [excludeFrom, ...buildRsyncArgv({ ...common, source, destination })]);
  assert.ok(p.rsync.options.includes('--chmod=ugo=rwX'));
  assert.equal(p.requester, USER_SID);
  assert.equal(p.slotSddl, `O:S-1-5-32-544D:P(A;OICI;0x1f01ff;;;S-1-5-18)(A;OICI;0x1f01ff;;;S-1-5-32-544)(A;OICI;0x1200a9;;;${USER_SID})`);
});

test('finding 1 / review H1: the installer reads rsync and its DLLs from where they were found, by SHA-256; only the installed copy runs', () => {
  const plan = planFor({ source: 'C:\\src\\p', target: 'D:\\Backups' });
  const p = plan.storedProfile;
  assert.equal(p.rsync.exe, 'C:\\ProgramData\\Shadow Slots\\p\\rsync\\usr\\bin\\rsync.exe');
  assert.equal(p.rsync.origin, 'C:\\msys64\\usr\\bin\\rsync.exe');
  const runtime = ['rsync/usr/bin/rsync.exe', 'rsync/usr/bin/msys-2.0.dll', 'rsync/usr/bin/msys-iconv-2.dll'];
  assert.deepEqual(p.rsync.files.map((f) => f.name), [...runtime, 'rsync/etc/fstab']);
  // Copied from the staging folder: the constant scripts, the generated files and fstab; never a binary.
  assert.deepEqual(plan.manifest.files.map((f) => f.name), ['helper.ps1', 'native.cs', 'profile.json', 'task.xml', 'rsync/etc/fstab']);
  // Read from rsync's own folder by the installer, after its location check, and compared with these hashes.
  assert.deepEqual(plan.manifest.rsync.map((f) => [f.name, f.from]), [
    ['rsync/usr/bin/rsync.exe', 'C:\\msys64\\usr\\bin\\rsync.exe'],
    ['rsync/usr/bin/msys-2.0.dll', 'C:\\msys64\\usr\\bin\\msys-2.0.dll'],
    ['rsync/usr/bin/msys-iconv-2.dll', 'C:\\msys64\\usr\\bin\\msys-iconv-2.dll'],
  ]);
  for (const f of [...plan.manifest.files, ...plan.manifest.rsync]) {
    assert.equal(f.sha256, createHash('sha256').update(staged(plan, f.name).bytes).digest('hex'), f.name);
    const listed = p.rsync.files.find((r) => r.name === f.name);
    if (listed) assert.equal(listed.sha256, f.sha256);
  }
  assert.ok(!plan.staging.some((f) => /kernel32|ntdll|advapi32/i.test(f.name)), 'Windows\' own DLLs load from System32');
  assert.equal(staged(plan, 'rsync/etc/fstab').bytes.toString(), 'none / cygdrive binary,posix=0,noacl,user 0 0\n');
  // The install root's folder for the copy is administrators-only.
  assert.deepEqual(plan.manifest.folders.find((f) => f.path.endsWith('\\rsync'))!.rules, ['S-1-5-18|2032127|3|0', 'S-1-5-32-544|2032127|3|0']);
  // rsync on a share or given by a relative path is refused before anything is staged.
  for (const origin of ['\\\\nas\\tools\\rsync.exe', 'rsync.exe', 'C:\\rsync']) {
    assert.throws(() => planFor({ source: 'C:\\src\\p', target: 'D:\\B' }, { rsync: { path: origin, flavor: 'msys2', files: fakeMsys2Runtime() } }), /not on a local drive|not an absolute/, origin);
  }
});

test('review H1: the lock-down the installer proposes is the same text in both languages', () => {
  const installer = readFileSync(join(__dirname, '../../../src/platform/windows/assets/install.ps1'), 'utf8');
  const body = /function Get-LockDownFix\(\[string\]\$Folder\) \{\r?\n {2}"(.*)"\r?\n\}/.exec(installer)![1]!;
  const folder = 'C:\\msys64';
  const fromPs = body.replace(/""/g, '"').replace(/\$Folder/g, folder).replace(/`r`n/g, '\r\n');
  assert.equal(fromPs, rsyncLocationFix(folder));
  assert.match(rsyncLocationFix(folder), /\/inheritance:r \/grant:r \*S-1-5-18:\(OI\)\(CI\)F \*S-1-5-32-544:\(OI\)\(CI\)F \*S-1-5-32-545:\(OI\)\(CI\)RX/);
  assert.match(rsyncLocationFix(folder), /\/setowner \*S-1-5-32-544 \/T/);
});

test('review M2: a drive\'s root, an administrative share and a share on this computer are refused as targets', () => {
  for (const target of ['D:\\', 'e:\\']) assert.throws(() => planFor({ source: 'C:\\src\\p', target }), /drive's root/, target);
  for (const target of ['\\\\nas\\C$\\x', '\\\\nas\\ADMIN$', '\\\\nas\\d$']) assert.throws(() => planFor({ source: 'C:\\src\\p', target }), /administrative share/, target);
  for (const target of ['\\\\localhost\\share\\x', '\\\\127.0.0.1\\s', '\\\\127.1.2.3\\s', '\\\\PC-ALICE\\s\\x', '\\\\pc-alice.corp.example\\s']) {
    assert.throws(() => planFor({ source: 'C:\\src\\p', target }, { localNames: ['PC-ALICE', 'pc-alice.corp.example'] }), /names this computer/, target);
  }
  assert.doesNotThrow(() => planFor({ source: 'C:\\src\\p', target: '\\\\nas\\backups\\alice' }, { localNames: ['PC-ALICE'] }));
});

test('review L2: the requester is a user account; the stored options are on the helper\'s allow-list', () => {
  for (const sid of ['S-1-5-32-545', 'S-1-1-0', 'S-1-5-11', 'S-1-5-18', 'S-1-5-21-1-2-3']) {
    assert.throws(() => planFor({ source: 'C:\\src\\p', target: 'D:\\B' }, { userSid: sid }), /not the SID of a user account/, sid);
  }
  assert.doesNotThrow(() => planFor({ source: 'C:\\src\\p', target: 'D:\\B' }, { userSid: 'S-1-12-1-1111111111-2222222222-3333333333-444444444' }));
  for (const arg of ['-A', '--perms', '-H', '--chmod=a+rwx']) {
    assert.throws(() => planFor({ source: 'C:\\src\\p', target: 'D:\\B', rsyncArgs: [arg] }), /not an option the elevated helper runs rsync with/, arg);
  }
  const plan = planFor({ source: 'C:\\src\\p', target: 'D:\\B', rsyncArgs: ['--bwlimit=2000', '-c'] });
  assert.ok(plan.storedProfile.rsync.options.includes('--bwlimit=2000'));
  for (const o of plan.storedProfile.rsync.options) assert.equal(helperOptionProblem(o), undefined, o);
  const stored = JSON.parse(staged(plan, 'profile.json').bytes.toString('utf8'));
  assert.throws(() => validateHelperProfile({ ...stored, requester: 'S-1-5-32-545' }), /requester/);
  assert.throws(() => validateHelperProfile({ ...stored, rsync: { ...stored.rsync, options: [...stored.rsync.options, '--log-file=/c/x'] } }), /rsync\.options/);
  // Review 12b: "!" would clear the link excludes; a device path skips Win32 path checks.
  assert.throws(() => validateHelperProfile({ ...stored, rsync: { ...stored.rsync, options: [...stored.rsync.options, '--exclude=!'] } }), /rsync\.options/);
  assert.throws(() => validateHelperProfile({ ...stored, rsync: { ...stored.rsync, options: [...stored.rsync.options, '--exclude=- *'] } }), /rsync\.options/);
  for (const target of ['\\\\?\\C:\\B', '\\\\.\\C:\\B', '\\\\?\\UNC\\nas\\b']) assert.throws(() => validateHelperProfile({ ...stored, target }), /target/);
});

test('findings 2 and 7: every folder gets a fresh protected DACL owned by Administrators, read back exactly; no grant to all Users', () => {
  const { manifest } = planFor({ source: 'C:\\src\\p', target: 'D:\\Backups' });
  const admins = '(A;OICI;0x1f01ff;;;S-1-5-18)(A;OICI;0x1f01ff;;;S-1-5-32-544)';
  const byLeaf = Object.fromEntries(manifest.folders.map((f) => [f.path.replace('C:\\ProgramData\\Shadow Slots', '') || '\\', f]));
  assert.deepEqual(Object.keys(byLeaf), ['\\', '\\p', '\\p\\links', '\\p\\state', '\\p\\cancel', '\\p\\tmp', '\\p\\rsync'], 'the root is fixed first');
  assert.equal(byLeaf['\\']!.sddl, `O:S-1-5-32-544D:P${admins}`);
  assert.equal(byLeaf['\\p']!.sddl, `O:S-1-5-32-544D:P${admins}(A;OICI;0x1200a9;;;${USER_SID})`);
  assert.equal(byLeaf['\\p\\links']!.sddl, `O:S-1-5-32-544D:P${admins}`);
  assert.equal(byLeaf['\\p\\state']!.sddl, `O:S-1-5-32-544D:P${admins}(A;OICI;0x120089;;;${USER_SID})`);
  // The cancel folder: append (not overwrite) access to the files in it (inherit-only), nothing on the folder itself.
  assert.equal(byLeaf['\\p\\cancel']!.sddl, `O:S-1-5-32-544D:P${admins}(A;OIIO;0x120194;;;${USER_SID})`);
  assert.deepEqual(byLeaf['\\p\\cancel']!.rules, ['S-1-5-18|2032127|3|0', `${USER_SID}|1180052|2|2`, 'S-1-5-32-544|2032127|3|0']);
  assert.equal(RIGHTS.cancelAppend & 0x2, 0, 'no FILE_WRITE_DATA: the requester cannot truncate or overwrite the request');
  assert.equal(byLeaf['\\p\\tmp']!.sddl, `O:S-1-5-32-544D:P${admins}`);
  for (const f of manifest.folders) {
    assert.match(f.sddl, /^O:S-1-5-32-544D:P\(/, f.path);
    assert.doesNotMatch(f.sddl, /S-1-5-32-545|S-1-1-0|S-1-5-11/, 'no Users, Everyone or Authenticated Users');
  }
  assert.equal(manifest.cancelRequest, 'C:\\ProgramData\\Shadow Slots\\p\\cancel\\request');
  assert.deepEqual(manifest.register, ['C:\\Windows\\System32\\schtasks.exe', '/Create', '/XML', 'C:\\ProgramData\\Shadow Slots\\p\\task.xml', '/TN', '\\Shadow Slots\\helper-p', '/F']);
});

test('finding 4: a double quote in any value that reaches rsync is refused by the planner', () => {
  const injection = 'Q" --log-file=/cygdrive/c/ProgramData/x.log --exclude="Z';
  assert.throws(() => planFor({ source: 'C:\\src\\p', target: 'D:\\B', excludes: ['ok/', injection] }), /Exclude pattern #2 .* contains a double quote/);
  assert.throws(() => planFor({ source: 'C:\\src\\p', target: 'D:\\B', rsyncArgs: ['--chmod=Q" --log-file=/c/x'] }), /contains a double quote/);
  assert.throws(() => planFor({ source: 'C:\\src\\p', target: 'D:\\B', rsyncArgs: ['--copy-unsafe-links'] }), /follows links out of the backed-up folder/);
  // Paths cannot hold one on Windows at all.
  assert.throws(() => planFor({ source: 'C:\\a "quoted" dir', target: 'D:\\B' }), /does not allow in names/);
  // Stored profiles are checked again (the helper's Assert-Profile has the same rule).
  const plan = planFor({ source: 'C:\\src\\p', target: 'D:\\B' });
  const stored = JSON.parse(staged(plan, 'profile.json').bytes.toString('utf8'));
  stored.rsync.options.push(`--exclude=${injection}`);
  assert.throws(() => validateHelperProfile(stored), /rsync\.options/);
});

test('finding 5: a whole drive is never a helper source', () => {
  for (const source of ['C:\\', 'D:\\', 'c:\\', 'C:/']) {
    assert.throws(() => planFor({ source, target: 'E:\\Ring' }), /does not back up a whole drive/, source);
  }
  const stored = JSON.parse(staged(planFor({ source: 'C:\\src\\p', target: 'D:\\B' }), 'profile.json').bytes.toString('utf8'));
  assert.throws(() => validateHelperProfile({ ...stored, source: 'C:\\' }), /source is the volume itself/);
});

test('hostile path names cannot change any command, the XML or the script', () => {
  const plain = planFor({ source: 'C:\\Users\\alice\\plain', target: 'D:\\Backups\\plain' });
  const helperBytes = plain.files.find((f) => f.name === 'helper.ps1')!.bytes;
  const id = '20261126T070000Z-a1b2c3';
  for (const name of HOSTILE_WINDOWS_NAMES) {
    const source = `C:\\Users\\alice\\${name}\\src`;
    const target = `D:\\Backups\\${name}`;
    const plan = planFor({ source, target, name: 'hostile', excludes: [`${name}/`] });
    const script = plan.files.find((f) => f.name === 'helper.ps1')!;
    assert.ok(script.bytes.equals(helperBytes), name);
    assert.ok(!script.bytes.toString('utf8').includes(name), name);
    const stored = validateHelperProfile(JSON.parse(staged(plan, 'profile.json').bytes.toString('utf8')));
    assert.equal(stored.source, source);
    assert.equal(stored.target, target);
    const argv = helperRsyncArgv(stored, id, true);
    assert.equal(argv.length, helperRsyncArgv(plain.storedProfile, id, true).length + 1 /* the exclude */, name);
    assert.equal(argv.at(-3), '--');
    assert.equal(argv.at(-2), `/c/ProgramData/Shadow Slots/hostile/links/${id}/Users/alice/${name}/src/`);
    assert.equal(argv.at(-1), `/d/Backups/${name}/.shadow-slots/incoming/${id}/`);
    assert.ok(argv.includes(`--exclude=${name}/`));
    assert.ok(argv.includes(`--link-dest=/d/Backups/${name}/0`));
    assert.deepEqual(plan.manifest.folders.map((f) => f.rules.length), plain.manifest.folders.map((f) => f.rules.length));
    assert.equal(plan.manifest.register.length, plain.manifest.register.length);
    const t = taskOf(plan);
    assert.equal(t.RegistrationInfo.Description, `Shadow Slots elevated helper for profile "hostile": backs up ${source} to ${target} from a Volume Shadow Copy. Started on demand by the Shadow Slots extension.`);
    assert.deepEqual(splitWindowsArgs(t.Actions.Exec.Arguments).length, 8);
  }
});

test('refusals with a clear message', () => {
  assert.throws(() => planFor({ source: '\\\\nas\\share\\src', target: 'D:\\B' }), /not on a local drive/);
  assert.throws(() => planFor({ source: 'C:\\src\\p', target: '\\\\nas\\b' }, { account: 'user-s4u', userAccountAccepted: true }), /S4U task has no network credentials/);
  assert.throws(() => planFor({ source: 'C:\\src\\p', target: 'D:\\B' }, { userSid: 'alice' }), /not the SID of a user account/);
  assert.throws(() => planFor({ source: 'C:\\src\\p', target: 'D:\\B', name: 'nul' }), /reserved device name/);
  assert.throws(() => planFor({ source: 'C:\\src\\p', target: 'D:\\B', name: 'trailing.' }), /ends with a dot/);
  assert.throws(() => planFor({ source: 'C:\\src\\p', target: 'D:\\B', snapshot: 'none' }), /snapshot method is "none"/);
  assert.throws(() => planFor({ source: 'C:\\src\\p', target: 'D:\\B', targetMode: 'cow' }), (e: ShadowSlotsError) => /copy-on-write slots need a btrfs or ZFS target/.test(e.message) && /"auto" or "links"/.test(e.hint ?? ''));
  for (const targetMode of ['auto', 'links']) assert.doesNotThrow(() => planFor({ source: 'C:\\src\\p', target: 'D:\\B', targetMode }));
  assert.throws(() => planFor({ source: 'C:\\a|b', target: 'D:\\B' }), /does not allow in names/);
  assert.throws(() => planFor({ source: 'C:\\src\\p', target: 'D:\\B' }, { rsync: { path: 'C:\\x\\rsync.exe', flavor: 'msys2', files: [] } }), /must start with rsync\.exe/);
  assert.throws(() => checkTargetFilesystem('NTFS', 1024), /NTFS allows 1023/);
  assert.deepEqual(checkTargetFilesystem('NTFS', 1023), { coarseTimes: false, warnings: [] });
  assert.equal(checkTargetFilesystem('FAT32', 16).coarseTimes, true);
  const filtered = planFor({ source: 'C:\\src\\p', target: 'D:\\B', filterFile: 'C:\\src\\p\\.shadowslots-filter' });
  assert.match(filtered.notes.join('\n'), /does not read the filter file/);
});

