import type { TestContext } from 'node:test';
import { loopFs, loopFsUnavailable } from './loopFs';

/** Why btrfs loop tests cannot run here, or null when they can (synchronous: decides `skip`). */
export function btrfsUnavailable(): string | null {
  return loopFsUnavailable('mkfs.btrfs', 'btrfs') ?? loopFsUnavailable('btrfs', 'btrfs');
}

/** A fresh btrfs file system on a loop device; unmounted, detached and deleted after the test. */
export function btrfsLoop(t: TestContext, sizeMb = 320): Promise<string> {
  return loopFs(t, 'mkfs.btrfs', sizeMb, ['-q']);
}
