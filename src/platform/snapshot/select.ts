import { ShadowSlotsError } from '../../core/errors';
import type { SnapshotMethod } from '../../core/profile';
import { btrfsProvider } from './btrfs';
import { noneProvider } from './none';
import type { SnapshotProvider } from './provider';

function unavailableHere(method: 'vss' | 'apfs' | 'lvm', why: string, hint: string): SnapshotProvider {
  return {
    method,
    async availability() { return { available: false, reason: why }; },
    async create() { throw new ShadowSlotsError('snapshot', `Snapshot method "${method}" cannot run here: ${why}.`, { hint }); },
    async release() { /* nothing created by this engine */ },
  };
}

export function providerFor(method: Exclude<SnapshotMethod, 'auto'>): SnapshotProvider {
  switch (method) {
    case 'none': return noneProvider;
    case 'btrfs': return btrfsProvider();
    case 'vss': return unavailableHere('vss', process.platform === 'win32' ? 'VSS needs administrator rights; it runs in the elevated helper task' : 'VSS exists only on Windows',
      process.platform === 'win32' ? 'Run "Shadow Slots: Set Up Elevated Helper" once, or use snapshot method "none".' : 'Use "btrfs" or "none" on this system.');
    case 'apfs': return unavailableHere('apfs', process.platform === 'darwin' ? 'APFS snapshots need an administrator prompt, which this build does not run yet' : 'APFS exists only on macOS', 'Use snapshot method "none".');
    case 'lvm': return unavailableHere('lvm', 'LVM snapshots are generated but not executed by this build', 'Use snapshot method "none", or btrfs.');
  }
}

/**
 * `auto` picks the best method that works for this source here, and says why, so the manifest
 * can record what was used and the user sees why a live copy was made.
 */
export async function chooseProvider(method: SnapshotMethod, source: string): Promise<{ provider: SnapshotProvider; reason: string }> {
  if (method !== 'auto') {
    const provider = providerFor(method);
    const { available, reason } = await provider.availability(source);
    if (!available) {
      throw new ShadowSlotsError('snapshot', `Snapshot method "${method}" cannot be used for ${source}: ${reason}.`, { hint: 'Choose "auto" or "none" as the snapshot method.' });
    }
    return { provider, reason };
  }
  const candidates: SnapshotProvider[] = process.platform === 'linux' ? [btrfsProvider()] : [];
  const reasons: string[] = [];
  for (const candidate of candidates) {
    const { available, reason } = await candidate.availability(source);
    if (available) return { provider: candidate, reason: `auto: ${reason}` };
    reasons.push(`${candidate.method}: ${reason}`);
  }
  return { provider: noneProvider, reason: `auto: no snapshot method available (${reasons.join('; ') || 'none for this platform'}), making a live copy` };
}
