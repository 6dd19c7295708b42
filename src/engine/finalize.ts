import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { SlotManifest } from '../core/manifest';
import { LineSplitter, parseItemizedLine } from '../core/rsyncOutput';
import { RingStore } from '../platform/ringStore';
import { hashSlotEntry, readSums, writeSlotSums, type ReuseRule } from '../platform/treeSums';
import { playDraft } from '../platform/slotDraft';
import { exists, isErrno, tempPathBeside } from '../platform/fsutil';
import { writeSumsFromSend, type SendSumsCounts } from '../platform/sendSums';
import { parseSendChangeLog, UntrustedChangesError, type SendChangeSet } from '../core/sendSums';
import { BatchedWriter } from '../platform/batchedWriter';
import { SshHost } from '../platform/target/sshHost';
import { PatchRefusedError, publishPatchedSums, writeRemoteSlotSums } from '../platform/target/remoteSums';
import { log } from '../platform/runner';
import { startPurge } from './purge';
import { inRsyncOrder, type SlotRecording } from './slotRecording';
import { ServerHashes } from './serverHashes';

export { SlotRecording } from './slotRecording';

/**
 * Work that needs the new slot but must not delay it: its checksum list (what `verify` compares
 * against), the change log relative to the previous slot, and the counts; then the dropped slots
 * are purged (engine/purge.ts: in the background where that is slow). Runs after slot 0 is
 * already complete and listed. A slot received by btrfs send gets its list from the previous
 * slot's and the stream's change log (`sent`: what the stream retimed). Without a usable recording
 * of rsync's list (none, rsync's output out of order, a destination that held files and lost one
 * to the source), or of the stream's changes, the slot is walked instead (on a server: by
 * remoteSums.ts's walk there).
 */
export async function finalizeSlot(ring: RingStore, rsyncPath: string, manifest: SlotManifest, previous: SlotManifest | null, recording: SlotRecording | null, signal?: AbortSignal, sent?: SentChanges): Promise<string[]> {
  const warnings: string[] = [];
  try {
    await recordSlotDetails(ring, rsyncPath, manifest, previous, recording, signal, sent ?? null);
  } catch (error) {
    if (signal?.aborted) throw error;
    warnings.push(`The slot is complete, but recording its deleted-file list or checksums failed: ${(error as Error).message}`);
  } finally {
    await recording?.discard();
  }
  try {
    const filled = await backfillChecksums(ring, signal);
    if (filled > 0) warnings.push(`Recorded checksums for ${filled} older slot(s) that an interrupted run had left without them.`);
  } catch (error) {
    warnings.push(`Could not record checksums of older slots: ${(error as Error).message}`);
  }
  // Dropped slots are deleted whatever happened above: otherwise every night would leave one
  // more full slot in the trash until the target is full.
  try {
    warnings.push(...(await startPurge(ring)));
  } catch (error) {
    warnings.push(`Could not delete the dropped slots in ${ring.paths.trash}: ${(error as Error).message}. The next run tries again.`);
  }
  return warnings;
}

async function recordSlotDetails(ring: RingStore, rsyncPath: string, manifest: SlotManifest, previous: SlotManifest | null, recording: SlotRecording | null, signal: AbortSignal | undefined, sent: SentChanges | null): Promise<void> {
  const { state } = await ring.readState();
  const current = state.entries.find((e) => e.id === manifest.id);
  if (!current) {
    await ring.writeManifest(manifest);
    return;
  }
  const prior = state.entries.find((e) => e.number === current.number + 1);
  // A file that vanished from the source after an interrupted run had copied it is still in a
  // destination that held files, yet rsync does not list it: only a walk finds everything there.
  const usable = recording !== null && recording.failure === null && !(recording.destinationHeldFiles && manifest.rsync.exitCode === 24);
  if (usable) {
    try {
      const deleted = await recordFromList(ring, manifest, current.number, recording, signal);
      if (deleted === null && prior !== undefined && previous !== null && prior.id === previous.id && manifest.counts && !signal?.aborted) {
        // No list to compare with (an adopted slot): rsync itself lists what the new slot lacks.
        const changeLog = await ring.host.staged(ring.changeLogPath(manifest.id), 'read');
        try {
          manifest.counts.deleted = await listDeletions(ring, rsyncPath, ring.slotPath(current.number), ring.slotPath(prior.number), changeLog, signal);
        } finally {
          await ring.host.publishStaged(ring.changeLogPath(manifest.id));
        }
      }
    } finally {
      await ring.writeManifest(manifest);
    }
    return;
  }
  // Checksums carried forward by inode only hold for hard-linked slots: a copy-on-write run
  // rewrites changed files in place, keeping their inode, so its slot is hashed in full. A slot
  // received by btrfs send is a snapshot of the previous one plus the stream's changes, which its
  // change log names: what it does not name is the previous slot's file (same inode and size).
  const base = ring.storage.capabilities.hardLinks ? previous : null;
  const comparable = prior !== undefined && base !== null && prior.id === base.id;
  const sentOnto = manifest.transfer?.method === 'btrfs-send' && manifest.transfer.parentUuid !== null && ring.host.name === null
    && previous?.checksums && prior !== undefined && prior.id === previous.id ? previous : null;
  const carried = base ?? sentOnto;
  const previousSums = carried?.checksums ? ring.sumsPath(carried.id) : null;
  // Read once: for the merge, and for the walk should the merge be refused.
  const sentChanges = sentOnto !== null ? await readSendChanges(ring.changeLogPath(manifest.id)) : null;
  if (manifest.transfer?.method === 'btrfs-send' && manifest.transfer.parentUuid !== null) {
    const why = sentOnto !== null ? await recordFromSend(ring, manifest, current.number, sentOnto, sentChanges!, sent, signal)
      : ring.host.name !== null ? 'the ring is on a server'
        : !previous?.checksums ? 'the slot it was received onto has no checksum list'
          : 'the previous slot is not the one it was received onto';
    if (why === null) return;
    log('info', `Checksums of the received slot cannot be merged from the change log (${why}): walking the slot instead.`);
  }
  // A log that says nothing trustworthy reuses nothing: every file is hashed.
  const reuse = sentChanges !== null && typeof sentChanges !== 'string' ? untouchedBySend(sentChanges.made) : undefined;
  // On a server the change log is appended to here and sent back (the host stages it).
  const changeLog = await ring.host.staged(ring.changeLogPath(manifest.id), 'read');
  try {
    await recordByWalking(ring, rsyncPath, manifest, current.number, prior?.number ?? null, comparable, previousSums, changeLog, signal, reuse);
  } finally {
    await ring.host.publishStaged(ring.changeLogPath(manifest.id));
  }
  if (manifest.transfer?.method === 'btrfs-send' && manifest.checksums && manifest.counts) {
    // A send stream does not count the files it did not touch: the checksum list does.
    let files = 0;
    let size = 0;
    for await (const line of readSums(ring.sumsPath(manifest.id))) { if (!line.hash.startsWith('link:')) { files++; size += line.size; } }
    manifest.counts.files = files;
    manifest.counts.totalSize = size;
    await ring.writeManifest(manifest);
  }
}

/** What a send run knows beyond its change log, for finalize (see SendResult.retimed). */
export interface SentChanges {
  retimed: readonly string[];
}

/**
 * A received slot's checksum list from the previous slot's list and the stream's change log
 * (platform/sendSums.ts), without walking the slot; its file count and size come with it.
 * Returns null when done, or why the inputs cannot be trusted (the caller walks the slot then).
 */
async function recordFromSend(ring: RingStore, manifest: SlotManifest, number: number, previous: SlotManifest, changes: SendChangeSet | string, sent: SentChanges | null, signal?: AbortSignal): Promise<string | null> {
  if (sent === null) return 'what the stream retimed is not known (the run that received it was interrupted)';
  if (typeof changes === 'string') return changes;
  let counts: SendSumsCounts;
  try {
    counts = await writeSumsFromSend({ slotRoot: ring.slotPath(number), previousSums: ring.sumsPath(previous.id), changes, retimed: sent.retimed, outFile: ring.sumsPath(manifest.id), ...(signal ? { signal } : {}) });
  } catch (error) {
    if (error instanceof UntrustedChangesError) return error.message;
    throw error;
  }
  log('info', `Checksums from the change log: ${counts.hashed} entries hashed, ${counts.carried} carried over from the previous slot's list, ${counts.restated} stat'ed again (their times changed).`);
  manifest.checksums = `sums/${manifest.id}.tsv`;
  if (manifest.counts) {
    manifest.counts.files = counts.files;
    manifest.counts.totalSize = counts.totalSize;
  }
  await ring.writeManifest(manifest);
  return null;
}

/**
 * The checksum list and change log from rsync's list of the slot: only new and changed entries
 * are hashed. Returns the deleted files' count, null without a previous list. For a ring on a
 * server the slot is not walked there either: the new entries are hashed there, in batches (serverHashes.ts),
 * and the list (as a patch against the server's previous list: only new lines travel) and the
 * change log go up together in one command (remoteSums.ts).
 */
async function recordFromList(ring: RingStore, manifest: SlotManifest, number: number, recording: SlotRecording, signal?: AbortSignal): Promise<number | null> {
  const slotRoot = ring.slotPath(number);
  const changeLog = ring.changeLogPath(manifest.id);
  const sumsPath = ring.sumsPath(manifest.id);
  const server = ring.host instanceof SshHost ? ring.host : null;
  const newLog = server ? await server.staged(changeLog, 'write') : tempPathBeside(changeLog);
  const hashes = server ? new ServerHashes(server, slotRoot, recording.draft, signal) : null;
  try {
    const sumsFile = server ? await server.staged(sumsPath, 'write') : sumsPath;
    const hashEntry = hashes ? hashes.hashEntry : (path: string, kind: 'file' | 'symlink') => hashSlotEntry(slotRoot, path, kind, signal);
    const play = (sumsAs: 'list' | 'patch') => playDraft({ draft: recording.draft, previousSums: recording.previousSums, sumsFile, sumsAs, changeLog: newLog, hashEntry });
    // A server holds the previous list already: unless it had to be sorted here, only the new lines go up.
    const patched = server !== null && (recording.previousSums === null || recording.previousOnServer !== null);
    let counts = await play(patched ? 'patch' : 'list');
    if (server && patched) {
      try {
        await publishPatchedSums(server, { previousSums: recording.previousOnServer, sumsPath, patchFile: sumsFile, bytes: counts.sumsBytes, changeLogPath: changeLog, changeLogFile: newLog }, signal);
      } catch (error) {
        if (!(error instanceof PatchRefusedError)) throw error;
        log('warn', `${error.message} The whole checksum list is sent instead.`);
        counts = await play('list');
        await publishLists(server, sumsPath, changeLog);
      }
    } else if (server) {
      await publishLists(server, sumsPath, changeLog);
    } else {
      await rename(newLog, changeLog);
    }
    log('info', `Checksums from rsync's list: ${counts.hashed} entries hashed${server ? ' on the server' : ''}, ${counts.carried} carried over from the previous slot's list.`);
    manifest.checksums = `sums/${manifest.id}.tsv`;
    if (manifest.counts) {
      manifest.counts.created = counts.created;
      manifest.counts.changed = counts.changed;
      if (counts.deleted !== null) manifest.counts.deleted = counts.deleted;
    }
    return counts.deleted;
  } finally {
    await hashes?.close();
    if (server) {
      await server.discardStaged(sumsPath);
      await server.discardStaged(changeLog);
    } else {
      await rm(newLog, { force: true });
    }
  }
}

/** Sends a staged checksum list and change log up as they are. */
async function publishLists(server: SshHost, sumsPath: string, changeLog: string): Promise<void> {
  await server.publishStaged(sumsPath);
  await server.publishStaged(changeLog);
}

/**
 * The fallback: walks the slot, reusing the previous list's hashes for files with the same inode
 * (hard links made by --link-dest). The previous slot's files the walk did not meet are the
 * deleted files; they are collected aside and appended to the change log only when the whole
 * walk succeeded; otherwise (or without a previous list) rsync lists them.
 */
async function recordByWalking(ring: RingStore, rsyncPath: string, manifest: SlotManifest, number: number, priorNumber: number | null, comparable: boolean, previousSums: string | null, changeLog: string, signal?: AbortSignal, reuse?: ReuseRule): Promise<void> {
  const aside = comparable && previousSums !== null && (await ring.host.exists(previousSums)) ? tempPathBeside(changeLog) : null;
  let deleted: number | null = null;
  let sumsFailure: unknown = null;
  try {
    const gone = aside ? await BatchedWriter.open(aside, 'write') : null;
    let count = 0;
    try {
      await writeSums(ring, number, manifest.id, previousSums, signal, gone ? (path) => { count++; return gone.write(`- ${JSON.stringify(path)}\n`); } : undefined, reuse);
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
 * Writes slot `number`'s checksum list by walking it. On a server its own sha256sum hashes (file
 * contents never cross the network); here the previous list is read in rsync's order (format 2),
 * so a format-1 list is sorted first.
 */
async function writeSums(ring: RingStore, number: number, id: string, previousSums: string | null, signal?: AbortSignal, onGone?: (path: string) => Promise<void> | undefined, reuse?: ReuseRule): Promise<void> {
  const root = ring.slotPath(number);
  const out = ring.sumsPath(id);
  const host = ring.host;
  if (host instanceof SshHost) {
    await writeRemoteSlotSums(host, root, out, previousSums, signal, onGone);
    return;
  }
  const listed = previousSums !== null && (await exists(previousSums)) ? previousSums : null;
  const ordered = listed ? await inRsyncOrder(listed, () => tempPathBeside(ring.changeLogPath(id))) : null;
  try {
    const { files, hashed } = await writeSlotSums(root, out, ordered?.file ?? null, signal, onGone, reuse);
    log('info', `Checksums by walking the slot: ${hashed} entries hashed, ${files - hashed} carried over from the previous slot's list.`);
  } finally {
    await ordered?.cleanup();
  }
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
 * record them now by walking it (reusing the hashes of the slot it was linked against), so verify
 * can check it.
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
    await writeSums(ring, entry.number, entry.id, base?.checksums ? ring.sumsPath(base.id) : null, signal);
    await ring.writeManifest({ ...manifest, checksums: `sums/${entry.id}.tsv`, warnings: [...manifest.warnings, 'Checksums were recorded by a later run, after this run was interrupted.'] });
    filled++;
  }
  return filled;
}

/** A received slot's change log as sendSums reads it, or why it cannot be trusted. */
async function readSendChanges(changeLog: string): Promise<SendChangeSet | string> {
  try {
    return parseSendChangeLog(await readFile(changeLog, 'utf8'));
  } catch (error) {
    if (error instanceof UntrustedChangesError || isErrno(error, 'ENOENT')) return `the change log cannot be read: ${(error as Error).message}`;
    throw error;
  }
}

/**
 * For a slot received by btrfs send: the paths its change log names as made or changed (read back
 * from the log the stream wrote) must be hashed; every other file is the previous slot's, which a
 * received snapshot keeps with its inode. Inode numbers are never reused within a subvolume, so a
 * new file at an old path never matches the old one's.
 */
function untouchedBySend(touched: ReadonlySet<string>): ReuseRule {
  // A made folder (a new or moved one) is named once: everything below it counts as touched.
  const below = (path: string): boolean => {
    for (let cut = path.indexOf('/'); cut > 0; cut = path.indexOf('/', cut + 1)) if (touched.has(path.slice(0, cut))) return true;
    return false;
  };
  // A file with other names changes under all of them while the stream names one: hashed again.
  return (previous, entry) => previous.ino === entry.ino && previous.size === entry.size && entry.nlink <= 1 && !touched.has(entry.path) && !below(entry.path);
}

