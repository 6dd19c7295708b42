import { mkdir, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../../src/platform/runner';

/**
 * Throw-away file systems for the target benchmark: btrfs on a loop device (sparse image), and the
 * bytes each one holds, measured by the file system itself after its writes are on disk.
 */
export interface Disk {
  mount: string;
  /** Bytes the file system has allocated (data and metadata), after a sync. */
  usedBytes(): Promise<number>;
  release(): Promise<void>;
}

function mounted(dir: string): boolean {
  return readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === dir);
}

/** A fresh btrfs of `sizeGiB` on a sparse image in `dir`, mounted at `<dir>/<label>`. */
export async function btrfsDisk(dir: string, label: string, sizeGiB: number): Promise<Disk> {
  const image = join(dir, `${label}.img`);
  const mount = join(dir, label);
  await run('truncate', ['-s', `${sizeGiB}G`, image]);
  await run('mkfs.btrfs', ['-q', image]);
  await mkdir(mount, { recursive: true });
  await run('mount', ['-o', 'loop', image, mount]);
  return {
    mount,
    async usedBytes() {
      await run('btrfs', ['filesystem', 'sync', mount]);
      const out = (await run('btrfs', ['filesystem', 'usage', '-b', mount])).stdout;
      const used = /^\s*Used:\s+(\d+)/m.exec(out);
      if (!used) throw new Error(`no "Used:" line in btrfs filesystem usage of ${mount}`);
      return Number(used[1]);
    },
    async release() {
      // umount -d frees the loop device; a busy mount is retried once the writers are gone.
      for (let i = 0; i < 20 && mounted(mount); i++) {
        try { await run('umount', ['-d', mount]); } catch { await new Promise((r) => setTimeout(r, 500)); }
      }
      if (!mounted(mount)) await rm(image, { force: true });
    },
  };
}

/** A ZFS pool's bytes in use, all datasets, snapshots and clones included, after a sync. */
export async function zfsUsedBytes(pool: string): Promise<number> {
  await run('sync', []);
  const out = (await run('zfs', ['get', '-Hp', '-o', 'value', 'used', pool])).stdout.trim();
  const n = Number(out);
  if (!Number.isFinite(n)) throw new Error(`zfs get used ${pool} printed ${JSON.stringify(out)}`);
  return n;
}
