import { mkdir, rmdir, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { ShadowSlotsError } from '../../core/errors';
import { fileSystemType } from '../fsProbe';
import { exists } from '../fsutil';
import { run } from '../runner';
import type { SnapshotProvider } from './provider';

/** Snapshots live inside the source's subvolume (btrfs snapshots cannot cross file systems). */
export const BTRFS_SNAPSHOT_DIR = '.shadow-slots-snapshots';
/** btrfs gives every subvolume root this inode number (BTRFS_FIRST_FREE_OBJECTID). */
const SUBVOLUME_ROOT_INODE = 256;

/** The argv of every btrfs command the provider runs, exported for golden tests. */
export const btrfsArgv = {
  snapshot: (subvolume: string, destination: string) => ['subvolume', 'snapshot', '-r', '--', subvolume, destination],
  remove: (snapshot: string) => ['subvolume', 'delete', '--', snapshot],
};

/** The root of the subvolume holding `path`: the nearest ancestor on the same device with inode 256. */
export async function subvolumeRoot(path: string): Promise<string> {
  const device = (await stat(path)).dev;
  let current = path;
  for (;;) {
    const s = await stat(current);
    if (s.dev !== device) break;
    if (s.ino === SUBVOLUME_ROOT_INODE) return current;
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  throw new ShadowSlotsError('snapshot', `Could not find the btrfs subvolume that holds ${path}.`, { hint: 'Use snapshot method "none", or put the source in a btrfs subvolume.' });
}

export function btrfsProvider(btrfsPath = 'btrfs'): SnapshotProvider {
  return {
    method: 'btrfs',
    async availability(source) {
      const { type } = await fileSystemType(source);
      if (type !== 'btrfs') return { available: false, reason: `the source is on ${type}, not btrfs` };
      try {
        await run(btrfsPath, ['--version'], { timeoutMs: 10000 });
      } catch {
        return { available: false, reason: 'the btrfs command (btrfs-progs) is not installed' };
      }
      return { available: true, reason: 'the source is on btrfs' };
    },
    async create(source, runId, journal, signal) {
      const root = await subvolumeRoot(source);
      const container = join(root, BTRFS_SNAPSHOT_DIR);
      await mkdir(container, { recursive: true });
      const destination = join(container, runId);
      await journal({ method: 'btrfs', id: destination, path: destination });
      try {
        await run(btrfsPath, btrfsArgv.snapshot(root, destination), { errorCode: 'snapshot', ...(signal ? { signal } : {}) });
      } catch (error) {
        throw new ShadowSlotsError('snapshot', `btrfs could not snapshot ${root}: ${(error as Error).message}`, {
          hint: 'Creating snapshots needs permission on the subvolume (run as its owner or root), or use snapshot method "none".',
          cause: error,
        });
      }
      const inside = relative(root, source);
      const readPath = inside === '' ? destination : join(destination, inside);
      // The container appears inside the source when the source is the subvolume root.
      const excludes = inside === '' ? [`/${BTRFS_SNAPSHOT_DIR}/`] : [];
      return { method: 'btrfs', id: destination, readPath: readPath.split(sep).join('/'), excludes, warning: null, journal: { method: 'btrfs', id: destination, path: destination } };
    },
    async release(record) {
      if (await exists(record.path)) await run(btrfsPath, btrfsArgv.remove(record.path), { errorCode: 'snapshot' });
      // Leave no empty container in the user's source once the last snapshot is gone.
      await rmdir(dirname(record.path)).catch(() => undefined);
    },
  };
}
