import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { run } from '../../src/platform/runner';

function onPath(name: string): boolean {
  return (process.env['PATH'] ?? '').split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, name)));
}

/** Why btrfs loop tests cannot run here, or null when they can (synchronous: decides `skip`). */
export function btrfsUnavailable(): string | null {
  if (process.platform !== 'linux') return 'btrfs loop devices need Linux';
  if (process.getuid?.() !== 0) return 'loop mounts need root';
  if (!onPath('mkfs.btrfs') || !onPath('btrfs')) return 'btrfs-progs (mkfs.btrfs, btrfs) is not installed';
  if (!existsSync('/dev/loop-control')) return 'no loop device support (/dev/loop-control missing)';
  return null;
}

/**
 * A fresh btrfs file system on a loop device, mounted in a temp folder; unmounted, detached and
 * deleted after the test even when it fails.
 */
export async function btrfsLoop(t: TestContext, sizeMb = 320): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shadow-slots-btrfs-'));
  const image = join(dir, 'fs.img');
  const mountPoint = join(dir, 'mnt');
  await mkdir(mountPoint);
  let mounted = false;
  t.after(async () => {
    if (mounted) await run('umount', ['--', mountPoint]).catch(() => run('umount', ['-l', '--', mountPoint]).catch(() => undefined));
    await rm(dir, { recursive: true, force: true });
  });
  await run('truncate', ['-s', `${sizeMb}M`, image]);
  await run('mkfs.btrfs', ['-q', image]);
  // -o loop lets mount pick a loop device and detach it (autoclear) on umount.
  await run('mount', ['-o', 'loop', '--', image, mountPoint]);
  mounted = true;
  return mountPoint;
}
