// Review H1, M2, M3 of issue 12: what the user sees before the administrator prompt, and when
// only rsync changed. Pure functions; helperFeature.ts shows them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareHelperProfiles } from '../../../src/core/windows/helperInstall';
import { chooseBackupRoute, setupOfferText } from '../../../src/ui/windows/backupRoute';
import { installReview, rsyncChangedNotice, settingOrigin } from '../../../src/ui/windows/installReview';
import { fakeMsys2Runtime } from './peBuilder';
import { planFor } from './planFixtures';

const base = { source: 'C:\\Users\\alice\\src', target: 'D:\\Backups\\src', slots: 8 };
const plan = planFor(base);
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

test('where the target setting comes from: the most specific scope that sets it', () => {
  assert.equal(settingOrigin(undefined), 'default');
  assert.equal(settingOrigin({ globalValue: 'D:\\A' }), 'user');
  assert.equal(settingOrigin({ globalValue: 'D:\\A', workspaceValue: 'E:\\B' }), 'workspace');
  assert.equal(settingOrigin({ workspaceValue: 'E:\\B', workspaceFolderValue: 'F:\\C' }), 'workspace-folder');
});

test('M2/M3: before the prompt the user sees the account, the target (and that a workspace chose it), and every file with its SHA-256', () => {
  const user = installReview(plan, 'user', false);
  assert.equal(user.message, 'Install the elevated helper for "src"?');
  assert.match(user.detail, /Runs as SYSTEM with administrator rights when you back up, and writes into D:\\Backups\\src\./);
  assert.doesNotMatch(user.detail, /workspace/);
  assert.match(user.detail, /read by the installer from C:\\msys64\\usr\\bin\\rsync\.exe \(only if administrators alone can change that folder\)/);
  for (const f of plan.files.filter((x) => x.name.startsWith('rsync/usr/bin/') || x.name === 'helper.ps1' || x.name === 'native.cs')) {
    assert.ok(user.detail.includes(f.sha256), f.name);
  }
  for (const origin of ['workspace', 'workspace-folder'] as const) {
    assert.match(installReview(plan, origin, true).detail, /This target is set in this workspace's own settings .*install only if you chose it/);
  }
  assert.equal(installReview(plan, 'user', true).message, 'Update the elevated helper for "src"?');
  assert.match(user.detail, /Backs up C:\\Users\\alice\\src \(8 slots\), leaving out nothing\./);
  // What the elevated rsync skips can come from a workspace too: it is on the review (review 12b).
  assert.match(installReview(planFor({ ...base, excludes: ['node_modules/', '*.iso'] }), 'user', false).detail, /leaving out "node_modules\/", "\*\.iso"\./);
  const mine = planFor(base, { account: 'user', userAccountAccepted: true });
  assert.match(installReview(mine, 'user', false).detail, /Runs as your account/);
});

test('H1: a change of rsync\'s bytes alone is "rsync-changed", runs the installed helper, and is said with path and hashes, never as new settings', () => {
  const installed = clone(plan.storedProfile);
  assert.equal(compareHelperProfiles(undefined, plan.storedProfile).state, 'missing');
  assert.deepEqual(compareHelperProfiles(installed, plan.storedProfile), { state: 'installed', settings: [], rsync: { origin: { installed: 'C:\\msys64\\usr\\bin\\rsync.exe', planned: 'C:\\msys64\\usr\\bin\\rsync.exe' }, files: [] } });

  const dll = installed.rsync.files.find((f) => f.name === 'rsync/usr/bin/msys-2.0.dll')!;
  const plannedSha = dll.sha256;
  dll.sha256 = 'a'.repeat(64);
  const change = compareHelperProfiles(installed, plan.storedProfile);
  assert.equal(change.state, 'rsync-changed');
  assert.deepEqual(change.settings, []);
  assert.deepEqual(change.rsync.files, [{ name: 'rsync/usr/bin/msys-2.0.dll', installed: 'a'.repeat(64), planned: plannedSha }]);
  assert.deepEqual(chooseBackupRoute({ platform: 'win32', snapshot: 'vss', helper: change.state, declined: false }), { kind: 'helper' });
  const notice = rsyncChangedNotice(change);
  assert.match(notice, /rsync at C:\\msys64\\usr\\bin\\rsync\.exe is not the one the elevated helper installed \(msys-2\.0\.dll aaaaaaaaaaaaaaaa… → /);
  assert.ok(notice.includes(plannedSha.slice(0, 16)));
  assert.match(notice, /keeps using the copy it installed/);
  assert.doesNotMatch(notice, /different backup settings/);

  // rsync found elsewhere (a planted rsync.exe earlier on PATH, a changed setting): also only said.
  const moved = planFor(base, { rsync: { path: 'C:\\tools\\rsync.exe', flavor: 'msys2', files: fakeMsys2Runtime() } });
  const movedChange = compareHelperProfiles(clone(plan.storedProfile), moved.storedProfile);
  assert.equal(movedChange.state, 'rsync-changed');
  assert.match(rsyncChangedNotice(movedChange), /installed from C:\\msys64\\usr\\bin\\rsync\.exe, the settings now find it at C:\\tools\\rsync\.exe/);
});

test('a settings change is "outdated" and the offer names what changed', () => {
  const other = planFor({ ...base, target: 'E:\\Elsewhere', excludes: ['*.iso'] });
  const change = compareHelperProfiles(clone(plan.storedProfile), other.storedProfile);
  assert.equal(change.state, 'outdated');
  assert.deepEqual(change.settings, ['target: D:\\Backups\\src → E:\\Elsewhere', 'excludes or rsync options']);
  const offer = setupOfferText('outdated', change.settings);
  assert.match(offer.message, /different backup settings/);
  assert.match(offer.detail, /^Changed since it was set up: target: D:\\Backups\\src → E:\\Elsewhere; excludes or rsync options\./);
  assert.equal(compareHelperProfiles({ format: 2 }, plan.storedProfile).state, 'outdated');
});
