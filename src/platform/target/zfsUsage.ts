import { basename, dirname } from 'node:path';
import type { RingHost } from './host';
import { localHost } from './localHost';
import { failureOf, zfsDatasetHolding, zfsRunner } from './zfsRun';
import { bytesOf, parseGet, RING_PROPERTIES, ringNames, zfsArgv } from './zfsTool';

/** One slot of a ZFS ring as ZFS accounts for it. */
export interface ZfsSlotUsage {
  /** The slot's number, from where its clone is mounted; null for a dropped slot still in the trash. */
  number: number | null;
  id: string;
  snapshot: string;
  /** What destroying this snapshot alone would free now (it grows when a neighbour is destroyed). */
  usedBytes: number;
  /** All the data the slot shows, shared or not. */
  referencedBytes: number;
  /** The read-only clone's own blocks (metadata only: nothing writes a clone). */
  cloneUsedBytes: number;
}

export interface ZfsRingUsage {
  container: string;
  /** The ring's datasets, snapshots and working copy together: what the ring costs the pool. */
  usedBytes: number;
  /** The working copy's blocks that no snapshot holds (`usedbydataset`: what a run wrote since the newest slot). */
  workingCopyUsedBytes: number;
  /**
   * What the slots hold beyond the working copy, together (`usedbysnapshots`): the cost of the
   * history. More than the sum of the slots' own `used`, since a block two slots share is
   * neither's alone.
   */
  snapshotsUsedBytes: number;
  /** Newest first; dropped slots waiting in the trash last. */
  slots: ZfsSlotUsage[];
}

/**
 * A ZFS ring's space by ZFS's own accounting (`zfs get -p used,referenced`), for benchmarks and
 * reports: what each slot adds is the `used` of its snapshot once the next run has rewritten the
 * working copy. Null when no ring datasets exist at `target`.
 */
export async function zfsRingUsage(target: string, host: RingHost = localHost): Promise<ZfsRingUsage | null> {
  const [parent, stat] = await Promise.all([zfsDatasetHolding(host, target), host.stat(target)]);
  if (!parent || !stat) return null;
  const names = ringNames(parent.name, stat.ino);
  let text: string;
  try {
    text = await zfsRunner(host, () => parent.name)(zfsArgv.get([...RING_PROPERTIES, 'usedbydataset', 'usedbysnapshots'], names.container, true));
  } catch (error) {
    if (failureOf(error) === 'not-found') return null;
    throw error;
  }
  const props = parseGet(text);
  const bytes = (name: string, property: 'used' | 'referenced') => bytesOf(props.get(name)?.get(property)) ?? 0;
  const slots: ZfsSlotUsage[] = [];
  for (const [name, p] of props) {
    const origin = p.get('origin') ?? '';
    if (!name.startsWith(`${names.container}/slot-`) || !origin.startsWith(`${names.work}@`)) continue;
    const mountpoint = p.get('mountpoint') ?? '';
    const numbered = dirname(mountpoint) === target && /^(0|[1-9]\d*)$/.test(basename(mountpoint));
    slots.push({
      number: numbered ? Number(basename(mountpoint)) : null,
      id: origin.slice(names.work.length + 1),
      snapshot: origin,
      usedBytes: bytes(origin, 'used'),
      referencedBytes: bytes(origin, 'referenced'),
      cloneUsedBytes: bytes(name, 'used'),
    });
  }
  slots.sort((a, b) => (a.number ?? Infinity) - (b.number ?? Infinity));
  return {
    container: names.container,
    usedBytes: bytes(names.container, 'used'),
    workingCopyUsedBytes: bytesOf(props.get(names.work)?.get('usedbydataset')) ?? 0,
    snapshotsUsedBytes: bytesOf(props.get(names.work)?.get('usedbysnapshots')) ?? 0,
    slots,
  };
}
