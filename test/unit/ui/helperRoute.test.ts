// Which path Back Up Now takes (engine, elevated helper, offer to set it up, live-copy fallback),
// and how the helper's final state becomes the same summary as the engine's. Pure; runs on Linux.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  chooseBackupRoute, fallbackSnapshot, helperMatters, helperUnavailableMessage, installStateOf, liveCopyExplanation, routeAfterOffer, routeAfterServerNotice, serverOutdatedText, setupOfferText,
  type BackupRouteInput,
} from '../../../src/ui/windows/backupRoute';
import { helperOutcome, helperProgress } from '../../../src/ui/windows/helperResult';
import { HelperCommands } from '../../../src/ui/windows/helperCommandIds';
import type { HelperState } from '../../../src/core/windows/helperState';
import type { SlotSummary } from '../../../src/rpc/protocol';

const root = join(import.meta.dirname, '..', '..', '..');
const win = (over: Partial<BackupRouteInput>): BackupRouteInput => ({ platform: 'win32', snapshot: 'auto', helper: 'missing', declined: false, remote: false, ...over });

test('off Windows, or with a method that needs no shadow copy, Back Up Now is the engine\'s', () => {
  for (const platform of ['linux', 'darwin'] as const) {
    for (const snapshot of ['auto', 'vss', 'none', 'btrfs']) {
      assert.deepEqual(chooseBackupRoute({ platform, snapshot, helper: 'installed', declined: false, remote: false }), { kind: 'engine' }, `${platform} ${snapshot}`);
      assert.equal(helperMatters(platform, snapshot), false);
    }
  }
  for (const snapshot of ['none', 'btrfs', 'apfs', 'lvm', 'bogus']) {
    assert.deepEqual(chooseBackupRoute(win({ snapshot, helper: 'installed' })), { kind: 'engine' }, snapshot);
  }
  assert.equal(helperMatters('win32', 'vss'), true);
  assert.equal(helperMatters('win32', 'auto'), true);
});

test('on Windows with vss/auto: installed helper → the task; missing → offer once; declined → live copy', () => {
  for (const snapshot of ['vss', 'auto']) {
    assert.deepEqual(chooseBackupRoute(win({ snapshot, helper: 'installed' })), { kind: 'helper' });
    assert.deepEqual(chooseBackupRoute(win({ snapshot, helper: 'installed', declined: true })), { kind: 'helper' }, 'a helper set up later wins over an old "no"');
    assert.deepEqual(chooseBackupRoute(win({ snapshot, helper: 'missing' })), { kind: 'offer-setup', why: 'first-time' });
    assert.deepEqual(chooseBackupRoute(win({ snapshot, helper: 'outdated' })), { kind: 'offer-setup', why: 'outdated' });
    const declined = chooseBackupRoute(win({ snapshot, helper: 'missing', declined: true }));
    assert.equal(declined.kind, 'live-copy');
    assert.equal(chooseBackupRoute(win({ snapshot, helper: 'outdated', declined: true })).kind, 'live-copy');
    const unknown = chooseBackupRoute(win({ snapshot, helper: undefined }));
    assert.equal(unknown.kind, 'live-copy', 'a failed check never blocks the backup');
  }
});

test('on Windows with vss/auto, a ring on a server runs the helper installed for it, else a live copy that says why and names Set Up (which asks for the host key), never a modal offer', () => {
  for (const snapshot of ['vss', 'auto']) {
    for (const helper of ['installed', 'missing', 'outdated', undefined] as const) {
      const route = chooseBackupRoute(win({ snapshot, helper, remote: true }));
      assert.deepEqual(route, { kind: 'live-copy', why: 'no elevated helper is set up for this ring on a server', remote: true }, `${snapshot} ${helper}`);
      assert.deepEqual(chooseBackupRoute(win({ snapshot, helper, remote: true, remoteHelper: 'installed' })), { kind: 'helper' }, `${snapshot} ${helper}`);
      assert.equal(chooseBackupRoute(win({ snapshot, helper, remote: false, remoteHelper: 'installed' })).kind === 'helper', helper === 'installed', 'remoteHelper counts only for a server ring');
    }
  }
  assert.deepEqual(chooseBackupRoute(win({ snapshot: 'none', remote: true, remoteHelper: 'installed' })), { kind: 'engine' }, 'no shadow copy asked for: the engine, without a warning');
  const text = liveCopyExplanation('no elevated helper is set up for this ring on a server', true);
  assert.match(text, /Run "Shadow Slots: Set Up Elevated Helper" \(it asks for the server's host key/);
  assert.match(text, /snapshot method to "none"/);
});

test('review 15b finding 7: a server ring\'s helper set up with other excludes or rsync options is never run; the user is told to run Set Up again (live copy or nothing)', () => {
  for (const snapshot of ['vss', 'auto']) {
    for (const helper of ['installed', 'missing', 'outdated', undefined] as const) {
      assert.deepEqual(chooseBackupRoute(win({ snapshot, helper, remote: true, remoteHelper: 'outdated' })), { kind: 'server-outdated' }, `${snapshot} ${helper}`);
      const declined = chooseBackupRoute(win({ snapshot, helper, remote: true, remoteHelper: 'outdated', declined: true }));
      assert.equal(declined.kind, 'live-copy', 'declined before: a live copy, as for a local ring');
      assert.equal(declined.kind === 'live-copy' && declined.remote, true, 'its warning names Set Up and the host key');
      assert.match(declined.kind === 'live-copy' ? declined.why : '', /different excludes or rsync options/);
    }
  }
  assert.deepEqual(chooseBackupRoute(win({ snapshot: 'none', remote: true, remoteHelper: 'outdated' })), { kind: 'engine' }, 'no shadow copy asked for: the engine');
  // The answers: Set Up starts the command and nothing is backed up now (a new key must reach the
  // server first); a live copy says why; Escape runs nothing.
  assert.deepEqual(routeAfterServerNotice('set-up'), { kind: 'cancel' });
  assert.deepEqual(routeAfterServerNotice('dismissed'), { kind: 'cancel' });
  const live = routeAfterServerNotice('live-copy');
  assert.equal(live.kind === 'live-copy' && live.remote, true);
  assert.match(liveCopyExplanation(live.kind === 'live-copy' ? live.why : '', true), /set up with different excludes or rsync options and was not set up again.*it asks for the server's host key/s);
  const text = serverOutdatedText(['excludes or rsync options (now --exclude=secrets/)']);
  assert.match(text.message, /different excludes or rsync options\. Run Set Up again\?/);
  assert.match(text.detail, /^Changed since it was set up: excludes or rsync options \(now --exclude=secrets\/\)\./);
  assert.match(text.detail, /host key and makes a new key pair.*authorized_keys/s);
  assert.match(text.detail, /nothing is backed up now/);
  assert.match(text.detail, /live copy, marked as such/);
});

test('after the offer: set up → task; no / UAC declined / failed → live copy; Escape → nothing runs', () => {
  assert.deepEqual(routeAfterOffer('set-up'), { kind: 'helper' });
  assert.equal(routeAfterOffer('declined').kind, 'live-copy');
  assert.equal(routeAfterOffer('failed').kind, 'live-copy');
  assert.deepEqual(routeAfterOffer('dismissed'), { kind: 'cancel' });
});

test('the live-copy fallback never fails on "vss" and says it is marked as a live copy', () => {
  assert.equal(fallbackSnapshot('vss'), 'auto');
  assert.equal(fallbackSnapshot('auto'), 'auto');
  const text = liveCopyExplanation('the elevated helper is not set up');
  assert.match(text, /without a shadow copy because the elevated helper is not set up/);
  assert.match(text, /live copy \(no snapshot\)/);
  assert.match(text, /Set Up Elevated Helper/);
  assert.match(setupOfferText('first-time').detail, /one UAC prompt/);
  assert.match(setupOfferText('outdated').message, /different backup settings/);
});

test('installed = the installed profile.json has the bytes the current settings plan', () => {
  assert.equal(installStateOf(undefined, 'abc'), 'missing');
  assert.equal(installStateOf('abc', 'abc'), 'installed');
  assert.equal(installStateOf('abd', 'abc'), 'outdated');
});

test('off Windows the commands exist and say the helper is a Windows thing', () => {
  assert.match(helperUnavailableMessage('linux'), /only needed and available on Windows.*btrfs/);
  assert.match(helperUnavailableMessage('darwin'), /only needed and available on Windows.*macOS/);
});

const state = (over: Partial<HelperState>): HelperState => ({
  format: 1, profile: 'proj', runId: '20261126T230000Z-ab12', pid: 42, status: 'complete', phase: 'done', message: 'Done', percent: 100, bytes: 2048, files: 12,
  rate: null, etaSeconds: null, startedAt: '2026-11-26T23:00:00.000Z', updatedAt: '2026-11-26T23:00:42.500Z', exitCode: 0, error: null, warnings: [], ...over,
});
const slot0: SlotSummary = { number: 0, id: '20261126T230000Z-ab12', state: 'complete', path: 'D:\\B\\0', manifest: null };
const older: SlotSummary = { number: 1, id: 'older', state: 'complete', path: 'D:\\B\\1', manifest: null };

test('the helper\'s final state becomes the engine\'s BackupResult, its run\'s slot found by id', () => {
  const done = helperOutcome(state({}), [older, slot0]);
  assert.deepEqual(done, { kind: 'result', result: { slot: slot0, outcome: 'complete', durationMs: 42_500, timeToCompleteMs: 42_500, warnings: [], notes: [] } });
  const warned = helperOutcome(state({ warnings: ['FAT32: no hard links'] }), [slot0]);
  assert.equal(warned.kind === 'result' && warned.result.outcome, 'complete-with-warnings');
  const partial = helperOutcome(state({ status: 'partial', exitCode: 3 }), []);
  assert.equal(partial.kind === 'result' && partial.result.outcome, 'partial');
  assert.equal(partial.kind === 'result' && partial.result.slot.number, null, 'a partial run is not in the ring');
  assert.deepEqual(helperOutcome(state({ status: 'cancelled', exitCode: 7 }), []), { kind: 'cancelled' });
});

test('a failed helper run says why: its own error, then the exit code\'s message', () => {
  const failed = helperOutcome(state({ status: 'failed', exitCode: 5, error: 'Win32_ShadowCopy.Create returned 6.' }), []);
  assert.equal(failed.kind, 'failed');
  assert.match(failed.kind === 'failed' ? failed.message : '', /^Win32_ShadowCopy\.Create returned 6\. \S/);
  const bare = helperOutcome(state({ status: 'failed', exitCode: 4, error: null }), []);
  assert.match(bare.kind === 'failed' ? bare.message : '', /Another backup of this ring is running/);
  const unknown = helperOutcome(state({ status: 'failed', exitCode: 99, error: null }), []);
  assert.match(unknown.kind === 'failed' ? unknown.message : '', /exit 99/);
});

test('helper progress reads like the engine\'s: percent, files and bytes; the event goes along for rate and time left', () => {
  const event = { phase: 'copy' as const, message: 'Copying', percent: 37, bytes: 1_500_000, files: 1234, rate: 2 * 1024 * 1024, etaSeconds: 90 };
  const copy = helperProgress(event);
  assert.equal(copy.percentage, 37);
  assert.equal(copy.message, '37% · 1,234 files, 1.5 MB');
  assert.equal(copy.event, event, 'Back Up Now smooths the rate from the events, as on the engine path');
  const snapshot = { phase: 'snapshot' as const, message: 'Creating the shadow copy…', percent: null, bytes: 0, files: 0, rate: null, etaSeconds: null };
  assert.deepEqual(helperProgress(snapshot), { message: 'Creating the shadow copy…', percentage: undefined, event: snapshot });
});

test('package.json: the helper commands are declared, palette-only on Windows; schedule nodes have their menus', async () => {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
  const declared = pkg.contributes.commands.map((c: { command: string }) => c.command);
  for (const id of Object.values(HelperCommands)) {
    assert.ok(declared.includes(id), `${id} declared`);
    assert.ok(pkg.contributes.menus.commandPalette.some((m: { command: string; when?: string }) => m.command === id && m.when === 'isWindows'), `${id} is in the palette only on Windows`);
  }
  const items = pkg.contributes.menus['view/item/context'] as Array<{ command: string; when: string }>;
  const shows = (command: string, viewItem: string) => items.some((m) => m.command === command && m.when.includes('view == shadowSlots.slots')
    && new RegExp(m.when.match(/viewItem =~ \/(.+)\/$/)?.[1] ?? '^$').test(viewItem));
  for (const v of ['schedule:ok', 'schedule:missed', 'schedule:unregistered']) {
    assert.ok(shows('shadowSlots.editSchedule', v), `Edit on ${v}`);
    assert.ok(shows('shadowSlots.deleteSchedule', v), `Delete on ${v}`);
  }
  assert.ok(shows('shadowSlots.runScheduleNow', 'schedule:ok') && shows('shadowSlots.runScheduleNow', 'schedule:missed'));
  assert.ok(!shows('shadowSlots.runScheduleNow', 'schedule:unregistered'), 'nothing to run when the registration is gone');
  assert.ok(shows('shadowSlots.createSchedule', 'schedules') && shows('shadowSlots.createSchedule', 'schedules:attention'));
  assert.ok(!shows('shadowSlots.restore', 'schedule:ok') && !shows('shadowSlots.copyPath', 'schedule:ok'), 'slot menus stay off schedule nodes');
});
