import { ShadowSlotsError } from '../../core/errors';
import type { TargetMode } from '../../core/target';
import { RingStore } from '../ringStore';
import { btrfsStorage } from './btrfsStorage';
import type { RingHost } from './host';
import { linksStorage } from './linksStorage';
import { localHost } from './localHost';
import { openTarget, type OpenedTarget } from './remoteHosts';
import type { SlotStorage, StorageContext } from './storage';

/**
 * A file system that can hold copy-on-write slots. A new copy-on-write kind is one more entry
 * here and its own storage file.
 */
interface CowKind {
  fsType: string;
  /** Why it cannot be used on this host (its tool is missing…), or null when it can. */
  unavailable(host: RingHost, target: string): Promise<string | null>;
  storage(ctx: StorageContext, cow: boolean): SlotStorage;
}

const COW_KINDS: CowKind[] = [
  {
    fsType: 'btrfs',
    async unavailable(host) {
      try {
        await host.run('btrfs', ['--version'], { timeoutMs: 10_000 });
        return null;
      } catch {
        return 'the btrfs command (btrfs-progs) is not installed';
      }
    },
    storage: (ctx, cow) => btrfsStorage(ctx, { cow }),
  },
];

/**
 * Opens the ring at `target` with the storage its file system calls for. `mode` decides how new
 * slots are made (`auto`: copy-on-write where the file system offers it); reading and repairing a
 * ring works whatever the mode, because each kind also rotates slots the other kind made.
 * The target folder must exist (preflight checks that first).
 */
export async function openRing(target: string, mode: TargetMode, host: RingHost = localHost): Promise<{ ring: RingStore; notes: string[] }> {
  const fsType = (await host.fileSystem(target).catch(() => null))?.type ?? 'unknown';
  const kind = COW_KINDS.find((k) => k.fsType === fsType);
  const where = host.name ? `${host.name}:${target}` : target;
  if (!kind) {
    if (mode === 'cow') {
      throw new ShadowSlotsError('invalid-input', `Copy-on-write slots need a btrfs or ZFS target; ${where} is on ${fsType}.`, {
        hint: 'Choose a target on btrfs or ZFS, or use target mode "links" (hard-linked slots, the default elsewhere). Nothing was changed.',
      });
    }
    return { ring: new RingStore(target, host, (ctx) => linksStorage(ctx)), notes: [] };
  }
  const why = await kind.unavailable(host, target);
  if (why !== null) {
    if (mode === 'cow') throw new ShadowSlotsError('preflight', `Copy-on-write slots on ${where} cannot be made: ${why}.`, { hint: `Install it, or use target mode "links".` });
    return { ring: new RingStore(target, host, (ctx) => linksStorage(ctx)), notes: mode === 'auto' ? [`The target is on ${fsType}, but ${why}: slots are hard-linked folders.`] : [] };
  }
  return { ring: new RingStore(target, host, (ctx) => kind.storage(ctx, mode !== 'links')), notes: [] };
}

/**
 * Opens the ring at `target` — a folder here, or `ssh://…`/`host:/path` on a server — runs `fn`
 * with it and releases its host (a remote connection) afterwards, whatever happened.
 */
export async function withRing<T>(target: string, mode: TargetMode, fn: (ring: RingStore, opened: OpenedTarget & { notes: string[] }) => Promise<T>): Promise<T> {
  const opened = await openTarget(target);
  try {
    const { ring, notes } = await openRing(opened.path, mode, opened.host);
    return await fn(ring, { ...opened, notes });
  } finally {
    await opened.release();
  }
}
