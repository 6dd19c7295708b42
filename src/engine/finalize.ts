import { createWriteStream } from 'node:fs';
import type { SlotManifest } from '../core/manifest';
import type { Profile } from '../core/profile';
import { LineSplitter, parseItemizedLine } from '../core/rsyncOutput';
import { RingStore } from '../platform/ringStore';
import { run } from '../platform/runner';
import { writeSlotSums } from '../platform/treeSums';
import { locateRsync } from '../platform/rsyncTool';

/**
 * Work that needs the new slot but must not delay it: the list of deleted files (rsync cannot
 * itemize deletions into a fresh folder), the checksums `verify` compares against, and deleting
 * the slots the rotation dropped. Runs after slot 0 is already complete and listed.
 */
export async function finalizeSlot(ring: RingStore, profile: Profile, manifest: SlotManifest, previous: SlotManifest | null, signal?: AbortSignal): Promise<void> {
  const { state } = await ring.readState();
  const current = state.entries.find((e) => e.id === manifest.id);
  const prior = state.entries.find((e) => e.number === (current?.number ?? 0) + 1);
  if (current && prior && previous) {
    const deleted = await listDeletions(ring, profile, ring.slotPath(current.number), ring.slotPath(prior.number), ring.changeLogPath(manifest.id), signal);
    if (manifest.counts) manifest.counts.deleted = deleted;
  }
  if (current) {
    const previousSums = previous?.checksums ? ring.sumsPath(previous.id) : null;
    await writeSlotSums(ring.slotPath(current.number), ring.sumsPath(manifest.id), previousSums, signal);
    manifest.checksums = `sums/${manifest.id}.tsv`;
  }
  await ring.writeManifest(manifest);
  await ring.purgeTrash();
}

/**
 * `rsync --existing --ignore-existing --delete --dry-run new/ old/` transfers nothing and lists
 * exactly the entries of the old slot that the new one no longer has.
 */
async function listDeletions(ring: RingStore, profile: Profile, newSlot: string, oldSlot: string, changeLog: string, signal?: AbortSignal): Promise<number> {
  const rsync = await locateRsync(profile.rsyncPath);
  const splitter = new LineSplitter();
  let deleted = 0;
  const out = createWriteStream(changeLog, { flags: 'a', encoding: 'utf8' });
  await run(rsync.path, ['-r', '--dry-run', '--delete', '--existing', '--ignore-existing', '--out-format=%i %n', '--', `${newSlot}/`, `${oldSlot}/`], {
    onStdout: (chunk) => splitter.push(chunk, (line) => {
      const item = parseItemizedLine(line);
      if (item?.change === 'deleted') {
        if (!item.path.endsWith('/')) deleted++;
        out.write(`- ${JSON.stringify(item.path)}\n`);
      }
    }),
    ...(signal ? { signal } : {}),
  }).finally(() => new Promise<void>((resolve) => out.end(() => resolve())));
  splitter.end(() => undefined);
  void ring;
  return deleted;
}
