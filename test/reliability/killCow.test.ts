// Kill -9 at every phase of a backup into a btrfs copy-on-write ring (issue 13): at least 20 kills,
// including the instant between promoting the new subvolume and making it read-only.
import { test } from 'node:test';
import { loopUnavailableReason } from './lib/loop';
import { runKillSuite } from './lib/killSuite';

const unavailable = loopUnavailableReason('btrfs');

test('kill -9 at every phase of a copy-on-write ring: no complete slot is ever lost, the next run always recovers', { timeout: 300_000, skip: unavailable ?? false }, async (t) => {
  await runKillSuite(t, { target: 'btrfs-cow', minKills: 20, area: '1b-kill-cow', title: 'Kill -9 at every phase (btrfs copy-on-write ring)' });
});
