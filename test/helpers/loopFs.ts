import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';
import { run } from '../../src/platform/runner';

/** Why a loop-mounted `mkfs` file system of kernel type `fsType` cannot be made here, or null. */
export function loopFsUnavailable(mkfs: string, fsType: string): string | null {
  if (process.platform !== 'linux') return 'loop mounts need Linux';
  const kernel = existsSync('/proc/filesystems') ? readFileSync('/proc/filesystems', 'utf8') : '';
  if (!kernel.split('\n').some((line) => line.trim().split(/\s+/).pop() === fsType)) return `this kernel has no ${fsType} driver (not in /proc/filesystems)`;
  if (process.getuid?.() !== 0) return 'loop mounts need root';
  if (!existsSync('/dev/loop-control')) return 'no loop device support';
  if (!(process.env['PATH'] ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, mkfs)))) return `${mkfs} is not installed`;
  return null;
}

/**
 * A small file system of `mkfs` on a loop device, mounted in a temp folder; unmounted and deleted
 * after the test even when it fails (`-o loop` detaches the loop device on umount).
 */
export async function loopFs(t: TestContext, mkfs: string, sizeMb: number, mkfsArgs: string[] = []): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shadow-slots-loopfs-'));
  const image = join(dir, 'fs.img');
  const mountPoint = join(dir, 'mnt');
  await mkdir(mountPoint);
  let mounted = false;
  t.after(async () => {
    if (mounted) await run('umount', ['--', mountPoint]).catch(() => run('umount', ['-l', '--', mountPoint]).catch(() => undefined));
    await rm(dir, { recursive: true, force: true });
  });
  await run('truncate', ['-s', `${sizeMb}M`, image]);
  await run(mkfs, [...mkfsArgs, image]);
  await run('mount', ['-o', 'loop', '--', image, mountPoint]);
  mounted = true;
  return mountPoint;
}
