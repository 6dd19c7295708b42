import { ShadowSlotsError } from '../../core/errors';
import type { TargetMode } from '../../core/target';
import { RingStore } from '../ringStore';
import { btrfsStorage } from './btrfsStorage';
import type { RingHost } from './host';
import { linksStorage } from './linksStorage';
import { localHost } from './localHost';
import { openTarget, type OpenedTarget } from './remoteHosts';
import type { SlotStorage, StorageContext } from './storage';
import { failureOf, zfsDatasetHolding } from './zfsRun';
import { zfsStorage } from './zfsStorage';

/**
 * A file system that can hold copy-on-write slots. A new copy-on-write kind is one more entry
 * here and its own storage file.
 */
interface CowKind {
  /** statfs types it can live on. */
  fsTypes: string[];
  /**
   * null when it can be used; why it cannot on this host (its tool is missing…); or false when
   * the type is one other file systems share (zfs-fuse reports "fuse", as sshfs does) and the
   * target is not on this kind.
   */
  unavailable(host: RingHost, target: string, fsType: string): Promise<string | null | false>;
  storage(ctx: StorageContext, cow: boolean): SlotStorage;
}

const COW_KINDS: CowKind[] = [
  {
    fsTypes: ['btrfs'],
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
  {
    fsTypes: ['zfs', 'fuse'],
    async unavailable(host, target, fsType) {
      try {
        if (await zfsDatasetHolding(host, target)) return null;
      } catch (error) {
        const failure = failureOf(error);
        if (fsType === 'fuse' && (failure === 'missing' || failure === 'no-daemon')) return false;
        if (failure === 'missing') return 'the zfs command is not installed';
        if (failure === 'no-permission') return 'this user may not use zfs (permission denied; root can delegate it with "zfs allow", and zfs-fuse answers only root)';
        return (error as Error).message.replace(/\.$/, '');
      }
      return fsType === 'fuse' ? false : 'zfs lists no mounted dataset that holds it';
    },
    storage: (ctx, cow) => zfsStorage(ctx, { cow }),
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
  let kind: CowKind | undefined;
  let why: string | null = null;
  for (const k of COW_KINDS.filter((c) => c.fsTypes.includes(fsType))) {
    const reason = await k.unavailable(host, target, fsType);
    if (reason === false) continue;
    kind = k;
    why = reason;
    break;
  }
  const where = host.name ? `${host.name}:${target}` : target;
  if (!kind) {
    if (mode === 'cow') {
      // A FUSE file system is ZFS only when zfs says so: its tool or daemon may be what is missing.
      const fuse = fsType === 'fuse' ? ' (ZFS on FUSE is recognised only when the zfs command is installed and its daemon answers)' : '';
      throw new ShadowSlotsError('invalid-input', `Copy-on-write slots need a btrfs or ZFS target; ${where} is on ${fsType}${fuse}.`, {
        hint: 'Choose a target on btrfs or ZFS, or use target mode "links" (hard-linked slots, the default elsewhere). Nothing was changed.',
      });
    }
    return { ring: new RingStore(target, host, (ctx) => linksStorage(ctx)), notes: [] };
  }
  if (why !== null) {
    if (mode === 'cow') throw new ShadowSlotsError('preflight', `Copy-on-write slots on ${where} cannot be made: ${why}.`, { hint: `Fix that (install the tool, or get the rights it needs), or use target mode "links". Nothing was changed.` });
    return { ring: new RingStore(target, host, (ctx) => linksStorage(ctx)), notes: mode === 'auto' ? [`The target is on ${fsType}, but ${why}: slots are hard-linked folders.`] : [] };
  }
  const chosen = kind;
  return { ring: new RingStore(target, host, (ctx) => chosen.storage(ctx, mode !== 'links')), notes: [] };
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
