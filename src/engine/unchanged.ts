import { parseItemizedLine, LineSplitter } from '../core/rsyncOutput';
import type { RingEntry } from '../core/ring';
import type { RingStore } from '../platform/ringStore';
import type { UnchangedCheck } from '../rpc/protocol';
import type { RsyncRunResult } from './rsyncRun';

/**
 * "No changes at all": a run whose copy holds exactly what the newest slot holds makes no slot, so
 * the ring keeps its oldest slot instead of a second copy of the newest (the profile's
 * `skipUnchanged`). The run's own rsync output settles most runs: anything it created, changed or
 * deleted is a change. It cannot see what went missing — rsync writes into a fresh folder next to
 * `--link-dest` and itemizes no deletions — so a run that looks unchanged is compared once more,
 * copy against newest slot, by rsync's dry run on the ring's host.
 */
export function mayBeUnchanged(copy: RsyncRunResult): boolean {
  return copy.stats.created === 0 && copy.itemized.created === 0 && copy.itemized.changed === 0 && copy.itemized.deleted === 0;
}

/**
 * Whether the folder `copy` holds the same entries as `slot`: names and kinds, file sizes and
 * times, symlink targets (`-rlDt --delete --dry-run`, metadata only). A folder whose only
 * difference is its own modification time (a file came and went) is no change.
 */
export async function sameTree(ring: RingStore, rsyncPath: string, copy: string, slot: string, signal?: AbortSignal): Promise<boolean> {
  const splitter = new LineSplitter();
  let differs = false;
  const onLine = (line: string) => {
    const item = parseItemizedLine(line);
    if (item && !(item.kind === 'dir' && item.change === 'attributes')) differs = true;
  };
  // Both folders are on the ring's host: its own rsync compares them there, as listDeletions does.
  await ring.host.run(ring.host.name === null ? rsyncPath : 'rsync', ['-rlDt', '--dry-run', '--delete', '--out-format=%i %n', '--', `${copy}/`, `${slot}/`], {
    onStdout: (chunk) => splitter.push(chunk, onLine),
    ...(signal ? { signal } : {}),
  });
  splitter.end(onLine);
  return !differs;
}

function checkPath(ring: RingStore): string { return ring.host.join(ring.paths.meta, 'unchanged.json'); }

/** Records that a run found no change since slot `newest` (the Slots view and status bar show it). */
export async function recordUnchanged(ring: RingStore, newest: RingEntry, at = new Date()): Promise<UnchangedCheck> {
  const check: UnchangedCheck = { checkedAt: at.toISOString(), slotId: newest.id };
  await ring.host.writeTextAtomic(checkPath(ring), JSON.stringify({ format: 1, ...check }, null, 2) + '\n');
  return check;
}

/** The last "no changes" run, if it came after the newest slot `newestId` (an older one says nothing now). */
export async function readUnchanged(ring: RingStore, newestId: string | undefined): Promise<UnchangedCheck | null> {
  if (newestId === undefined) return null;
  try {
    const raw = JSON.parse((await ring.host.readText(checkPath(ring))) ?? 'null') as Partial<UnchangedCheck> & { format?: unknown } | null;
    if (raw?.format !== 1 || raw.slotId !== newestId || typeof raw.checkedAt !== 'string' || Number.isNaN(Date.parse(raw.checkedAt))) return null;
    return { checkedAt: raw.checkedAt, slotId: raw.slotId };
  } catch {
    return null; // a torn or foreign file only hides the note
  }
}
