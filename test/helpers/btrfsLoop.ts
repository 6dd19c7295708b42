import type { TestContext } from 'node:test';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loopFs, loopFsUnavailable } from './loopFs';
import { run } from '../../src/platform/runner';

/** Why btrfs loop tests cannot run here, or null when they can (synchronous: decides `skip`). */
export function btrfsUnavailable(): string | null {
  return loopFsUnavailable('mkfs.btrfs', 'btrfs') ?? loopFsUnavailable('btrfs', 'btrfs');
}

/** A fresh btrfs file system on a loop device; unmounted, detached and deleted after the test. */
export function btrfsLoop(t: TestContext, sizeMb = 320): Promise<string> {
  return loopFs(t, 'mkfs.btrfs', sizeMb, ['-q']);
}

/**
 * A source subvolume and an empty ring folder on two btrfs loop file systems, for btrfs send
 * runs; `container` is where the engine keeps the source-side snapshots.
 */
export async function btrfsSendPair(t: TestContext): Promise<{ source: string; target: string; container: string }> {
  const from = await btrfsLoop(t, 300);
  const to = await btrfsLoop(t, 300);
  const source = join(from, 'data');
  await run('btrfs', ['subvolume', 'create', source]);
  const target = join(to, 'ring');
  await mkdir(target);
  return { source, target, container: join(from, '.shadow-slots-send', 'data') };
}
