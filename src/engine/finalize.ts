import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { SlotManifest } from '../core/manifest';
import { LineSplitter, parseItemizedLine } from '../core/rsyncOutput';
import { RingStore } from '../platform/ringStore';
import { writeSlotSums } from '../platform/treeSums';
import { tempPathBeside } from '../platform/fsutil';
import { BatchedWriter } from '../platform/batchedWriter';
import { SshHost } from '../platform/target/sshHost';
import { writeRemoteSlotSums } from '../platform/target/remoteSums';

/**
 * Work that needs the new slot but must not delay it: the list of deleted files (rsync cannot
 * itemize deletions into a fresh folder), the checksums `verify` compares against, and deleting
 * the slots the rotation dropped. Runs after slot 0 is already complete and listed.
 */
export async function finalizeSlot(ring: RingStore, rsyncPath: string, manifest: SlotManifest, previous: SlotManifest | null, signal?: AbortSignal): Promise<string[]> {
  const warnings: string[] = [];
  try {
    await recordSlotDetails(ring, rsyncPath, manifest, previous, signal);
  } catch (error) {
    if (signal?.aborted) throw error;
    warnings.push(`The slot is complete, but recording its deleted-file list or checksums failed: ${(error as Error).message}`);
  }
  try {
    const filled = await backfillChecksums(ring, signal);
    if (filled > 0) warnings.push(`Recorded checksums for ${filled} older slot(s) that an interrupted run had left without them.`);
  } catch (error) {
    warnings.push(`Could not record checksums of older slots: ${(error as Error).message}`);
  }
  // Dropped slots are deleted whatever happened above: otherwise every night would leave one
  // more full slot in the trash until the target is full.
  const { failed } = await ring.purgeTrash();
  if (failed.length > 0) warnings.push(`Could not delete ${failed.length} dropped slot(s) in ${ring.paths.trash}: ${failed.join('; ')}. The next run tries again.`);
  return warnings;
}

async function recordSlotDetails(ring: RingStore, rsyncPath: string, manifest: SlotManifest, previous: SlotManifest | null, signal?: AbortSignal): Promise<void> {
  const { state } = await ring.readState();
  const current = state.entries.find((e) => e.id === manifest.id);
  if (!current) {
    await ring.writeManifest(manifest);
    return;
  }
  const prior = state.entries.find((e) => e.number === current.number + 1);
  const comparable = prior !== undefined && previous !== null && prior.id === previous.id;
  const previousSums = previous?.checksums ? ring.sumsPath(previous.id) : null;
  // On a server the change log is appended to here and sent back (the host stages it).
  const changeLog = await ring.host.staged(ring.changeLogPath(manifest.id), 'read');
  try {
    await recordSums(ring, rsyncPath, manifest, current.number, prior?.number ?? null, comparable, previousSums, changeLog, signal);
  } finally {
    await ring.host.publishStaged(ring.changeLogPath(manifest.id));
  }
}

async function recordSums(ring: RingStore, rsyncPath: string, manifest: SlotManifest, number: number, priorNumber: number | null, comparable: boolean, previousSums: string | null, changeLog: string, signal?: AbortSignal): Promise<void> {
  // The previous slot's checksum list names every file it had: the ones this slot's walk does not
  // meet are the deleted files, so no second walk of both trees is needed. They are collected
  // aside and appended only when the whole walk succeeded; otherwise rsync lists them.
  const aside = comparable && previousSums !== null && (await ring.host.exists(previousSums)) ? tempPathBeside(changeLog) : null;
  let deleted: number | null = null;
  let sumsFailure: unknown = null;
  try {
    const gone = aside ? await BatchedWriter.open(aside, 'write') : null;
    let count = 0;
    try {
      await sumsWriter(ring)(ring.slotPath(number), ring.sumsPath(manifest.id), previousSums, signal, gone ? (path) => { count++; return gone.write(`- ${JSON.stringify(path)}\n`); } : undefined);
    } finally {
      await gone?.close();
    }
    manifest.checksums = `sums/${manifest.id}.tsv`;
    if (aside) {
      await pipeline(createReadStream(aside), createWriteStream(changeLog, { flags: 'a' }));
      deleted = count;
    }
  } catch (error) {
    sumsFailure = error;
  } finally {
    if (aside) await rm(aside, { force: true });
  }
  if (manifest.counts && deleted !== null) manifest.counts.deleted = deleted;
  else if (manifest.counts && comparable && priorNumber !== null && !signal?.aborted) {
    manifest.counts.deleted = await listDeletions(ring, rsyncPath, ring.slotPath(number), ring.slotPath(priorNumber), changeLog, signal);
  }
  await ring.writeManifest(manifest);
  if (sumsFailure !== null) throw sumsFailure;
}

/**
 * `rsync --existing --ignore-existing --delete --dry-run new/ old/` transfers nothing and lists
 * exactly the entries of the old slot that the new one no longer has. Only needed when the previous
 * slot has no checksum list (adopted, or made by a run that was interrupted before recording it).
 */
async function listDeletions(ring: RingStore, rsyncPath: string, newSlot: string, oldSlot: string, changeLog: string, signal?: AbortSignal): Promise<number> {
  const splitter = new LineSplitter();
  let deleted = 0;
  const out = await BatchedWriter.open(changeLog, 'append');
  try {
    // Both slots are on the ring's host: its own rsync compares them there.
    await ring.host.run(ring.host.name === null ? rsyncPath : 'rsync', ['-r', '--dry-run', '--delete', '--existing', '--ignore-existing', '--out-format=%i %n', '--', `${newSlot}/`, `${oldSlot}/`], {
      onStdout: (chunk) => splitter.push(chunk, (line) => {
        const item = parseItemizedLine(line);
        if (item?.change === 'deleted') {
          if (!item.path.endsWith('/')) deleted++;
          out.append(`- ${JSON.stringify(item.path)}\n`);
        }
      }),
      ...(signal ? { signal } : {}),
    });
    splitter.end(() => undefined);
  } finally {
    await out.close();
  }
  return deleted;
}

/**
 * A run killed between its rotation and its finalize leaves a complete slot without checksums;
 * record them now (reusing the hashes of the slot it was linked against), so verify can check it.
 */
async function backfillChecksums(ring: RingStore, signal?: AbortSignal): Promise<number> {
  const { state } = await ring.readState();
  let filled = 0;
  for (const entry of state.entries) {
    const manifest = await ring.readManifest(entry.id);
    if (!manifest || manifest.adopted || manifest.state !== 'complete' || manifest.checksums) continue;
    // Hashes carried forward by inode hold only between hard-linked slots: a copy-on-write slot
    // rewrote changed files in place, under the same inode.
    const base = manifest.linkDest && (manifest.storage?.kind ?? 'links') === 'links' ? await ring.readManifest(manifest.linkDest) : null;
    await sumsWriter(ring)(ring.slotPath(entry.number), ring.sumsPath(entry.id), base?.checksums ? ring.sumsPath(base.id) : null, signal);
    await ring.writeManifest({ ...manifest, checksums: `sums/${entry.id}.tsv`, warnings: [...manifest.warnings, 'Checksums were recorded by a later run, after this run was interrupted.'] });
    filled++;
  }
  return filled;
}

/** Checksums are computed where the slot is: on a server by its own sha256sum. */
function sumsWriter(ring: RingStore): typeof writeSlotSums {
  const host = ring.host;
  return host instanceof SshHost ? (root, out, previous, signal, onGone) => writeRemoteSlotSums(host, root, out, previous, signal, onGone) : writeSlotSums;
}
