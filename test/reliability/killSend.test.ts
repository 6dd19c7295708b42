// Kill -9 at every phase of a btrfs → btrfs backup copied by btrfs send/receive (issue 13): at least
// 20 kills, including inside send | receive and between keeping the new parent snapshot and
// deleting the old one; the chain of parent snapshots must survive every kill.
import { test } from 'node:test';
import { loopUnavailableReason } from './lib/loop';
import { runKillSuite } from './lib/killSuite';

const unavailable = loopUnavailableReason('btrfs');

test('kill -9 at every phase of a btrfs send/receive backup: no complete slot is ever lost, the next run always recovers', { timeout: 300_000, skip: unavailable ?? false }, async (t) => {
  await runKillSuite(t, { target: 'btrfs-send', minKills: 20, area: '1c-kill-send', title: 'Kill -9 at every phase (btrfs send/receive)' });
});
