// Kill -9 at every phase of a backup into a ZFS copy-on-write ring (issue 14): the kill suite of
// the other kinds, on a zfs-fuse pool, at least 12 kills with no complete slot lost; every slot a
// mounted read-only clone at the end and no dataset left over.
import { test } from 'node:test';
import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { figuresDir } from '../reliability/lib/figures';
import { runKillSuite } from '../reliability/lib/killSuite';
import { useZfsDaemon, zfsUnavailable } from '../helpers/zfsPool';

const skip = zfsUnavailable() ?? false;
useZfsDaemon();
const AREA = '1c-kill-zfs';

test('kill -9 at every phase of a ZFS ring: no complete slot is ever lost, the next run always recovers', { timeout: 900_000, skip }, async (t) => {
  // The figures are printed here; no reliability summary collects them in this suite.
  t.after(async () => {
    await rm(join(figuresDir, `${AREA}.json`), { force: true });
    await rmdir(figuresDir).catch(() => undefined);
  });
  await runKillSuite(t, { target: 'zfs-cow', minKills: 12, area: AREA, title: 'Kill -9 at every phase (ZFS copy-on-write ring)' });
});
