// Kill -9 at every phase of a backup into a hard-linked ring, at least 30 times (see lib/killSuite.ts).
import { test } from 'node:test';
import { runKillSuite } from './lib/killSuite';

test('kill -9 at every phase: no complete slot is ever lost, the next run always recovers', { timeout: 300_000 }, async (t) => {
  await runKillSuite(t, { target: 'links', minKills: 30, area: '1-kill', title: 'Kill -9 at every phase' });
});
