import { randomBytes } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ShadowSlotsError } from '../core/errors';
import { formatBytes } from '../core/format';
import { newSlotId } from '../core/layout';
import type { SlotManifest } from '../core/manifest';
import { validateProfile, type ProfileInput } from '../core/profile';
import type { Phase, ProgressEvent } from '../core/progress';
import { buildRsyncArgv } from '../core/rsyncArgs';
import { fileSystemType } from '../platform/fsProbe';
import { exists, makeFoldersOwnerAccessible } from '../platform/fsutil';
import { acquireLock, type HeldLock } from '../platform/lock';
import { RingStore } from '../platform/ringStore';
import { chooseProvider, providerFor } from '../platform/snapshot/select';
import type { Snapshot, SnapshotProvider } from '../platform/snapshot/provider';
import type { BackupResult, SlotSummary } from '../rpc/protocol';
import { preflight } from './preflight';
import { runRsync } from './rsyncRun';
import { finalizeSlot, SlotRecording } from './finalize';
import { stopOrphanCopy } from '../platform/orphans';
import { faultPoint } from '../platform/faults';

export interface BackupOptions {
  profile: ProfileInput;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** Called the moment slot 0 is complete, before the dropped slot is deleted. */
  onComplete?: (info: { elapsedMs: number; slot: SlotSummary }) => void;
  createTarget?: boolean;
  /** For tests of crash safety: called at every phase boundary. */
  onPhase?: (phase: Phase) => void | Promise<void>;
}

/**
 * One backup, following the ring contract: preflight → lock → repair → snapshot → rsync into an
 * in-progress folder → (only on success) journaled rotation → release → finalize (deleted-file
 * list, checksums, dropping the oldest slot — all after the slot is already complete).
 */
export async function runBackup(options: BackupOptions): Promise<BackupResult> {
  const started = performance.now();
  const emit = (phase: Phase, message: string, extra: Partial<ProgressEvent> = {}) => {
    options.onProgress?.({ phase, message, percent: null, bytes: 0, files: 0, rate: null, etaSeconds: null, ...extra });
  };
  let rotated = false;
  const phase = async (p: Phase, message: string) => {
    emit(p, message);
    faultPoint(`phase:${p}`);
    await options.onPhase?.(p);
    // A cancel that arrives after the rotation is too late: the new slot 0 stays and is reported.
    if (options.signal?.aborted && !rotated) throw new ShadowSlotsError('cancelled', 'The backup was cancelled; the ring is unchanged.');
  };

  await phase('preflight', 'Checking source, target and rsync');
  const { profile, notes } = validateProfile(options.profile);
  const report = await preflight(profile, options.createTarget ? { createTarget: true } : {});
  const warnings = [...report.warnings];

  const ring = new RingStore(profile.target);
  await ring.ensureMeta();
  await phase('lock', 'Taking the ring\'s lock');
  const lock: HeldLock = await acquireLock(ring.paths.lockFile, `backup ${profile.name}`);
  if (lock.recoveredStale) notes.push(`Recovered a stale lock left by process ${lock.recoveredStale.pid} (started ${lock.recoveredStale.startedAt}), which is no longer running.`);
  let snapshot: Snapshot | null = null;
  let provider: SnapshotProvider | null = null;
  try {
    await phase('repair', 'Checking the ring');
    notes.push(...(await ring.repair({ capacity: profile.slots })));
    notes.push(...(await stopOrphanedCopy(ring)));
    notes.push(...(await releaseJournaledSnapshots(ring)));

    const { state } = await ring.readState();
    const newest = state.entries[0];
    const linkDest = newest ? ring.slotPath(newest.number) : undefined;
    const previousManifest = newest ? await ring.readManifest(newest.id) : null;

    const id = newSlotId(new Date(), randomBytes(3).toString('hex'));
    const resumed = await prepareIncoming(ring, id);
    if (resumed) notes.push(`Resuming an unfinished backup from ${resumed}.`);

    await phase('snapshot', `Freezing the source (${profile.snapshot})`);
    const chosen = await chooseProvider(profile.snapshot, report.sourceReal);
    provider = chosen.provider;
    snapshot = await provider.create(report.sourceReal, id, async (record) => {
      const journal = await ring.readJournal();
      journal.snapshots.push({ ...record, createdAt: new Date().toISOString(), pid: process.pid });
      await ring.writeJournal(journal);
    }, options.signal);
    if (snapshot.warning) warnings.push(snapshot.warning);

    const argv = buildRsyncArgv({
      source: snapshot.readPath,
      destination: ring.incomingPath(id),
      linkDest,
      excludes: [...profile.excludes, ...snapshot.excludes],
      filterFile: profile.filterFile,
      extraArgs: profile.rsyncArgs,
      timePrecision: report.timePrecision,
      listUnchanged: true,
    });
    const startedAt = new Date().toISOString();
    const manifest: SlotManifest = {
      format: 1,
      id,
      state: 'in-progress',
      profile: profile.name,
      source: profile.source,
      startedAt,
      endedAt: null,
      snapshot: { method: snapshot.method, id: snapshot.id, warning: snapshot.warning },
      rsync: { argv: [report.rsync.path, ...argv], exitCode: null, version: report.rsync.version },
      counts: null,
      warnings: [],
      changeLog: `changes/${id}.log`,
      checksums: null,
      adopted: false,
      linkDest: newest?.id ?? null,
    };
    await ring.writeManifest(manifest);

    await phase('copy', linkDest ? `Copying changes since slot ${newest!.number}` : 'Copying everything (first slot)');
    const sourceIdentity = await identity(snapshot.readPath);
    const recording = await SlotRecording.tryStart(ring, id, previousManifest, resumed !== null);
    const copy = await runRsync(report.rsync.path, argv, ring.changeLogPath(id), {
      list: recording,
      // Relative merge-file names inside a filter file resolve from the filter file's folder.
      ...(profile.filterFile !== undefined ? { cwd: dirname(profile.filterFile) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onSpawn: async (pid) => {
        const journal = await ring.readJournal();
        journal.copy = { pid, destination: ring.incomingPath(id) };
        await ring.writeJournal(journal);
        faultPoint('copy:spawned');
      },
      onProgress: (p) => emit('copy', `${p.percent ?? 0}%`, p),
    });
    await clearCopyRecord(ring);
    manifest.rsync.exitCode = copy.exitCode;
    manifest.endedAt = new Date().toISOString();
    const s = copy.stats;
    const deletedEstimate = previousManifest?.counts ? Math.max(0, previousManifest.counts.files - (s.regularFiles - s.createdRegular)) : 0;
    manifest.counts = {
      files: s.regularFiles,
      dirs: s.dirs,
      // Files, symlinks and devices: a first backup creates every folder too, and "+2,112" for
      // 1,767 files read as if files had been added that are not there.
      created: s.created - s.createdDirs,
      changed: Math.max(0, copy.itemized.changed),
      deleted: deletedEstimate,
      bytesSent: s.literalData,
      totalSize: s.totalSize,
    };
    if (copy.vanished.length > 0) manifest.warnings.push(`Files vanished while being copied: ${copy.vanished.slice(0, 20).join(', ')}${copy.vanished.length > 20 ? ' …' : ''}`);
    if (copy.unreadable.length > 0) manifest.warnings.push(`Files could not be read (permission denied): ${copy.unreadable.slice(0, 20).join(', ')}${copy.unreadable.length > 20 ? ' …' : ''}`);
    manifest.warnings.push(...warnings);

    let outcome = copy.classification.outcome;
    // A source that vanishes or is unmounted mid-copy makes rsync report its files as "vanished"
    // (exit 24, normally harmless): a fragment must never enter the ring as a complete slot.
    const after = await identity(snapshot.readPath);
    if ((outcome === 'complete' || outcome === 'complete-with-warnings') && (after === null || after !== sourceIdentity)) {
      outcome = 'failed';
      await ring.writeManifest(manifest);
      throw new ShadowSlotsError('rsync', `The source ${profile.source} disappeared or was replaced while it was being copied (${after === null ? 'it no longer exists' : 'it is now a different folder or drive'}); the copy is incomplete and the ring is unchanged.`, {
        hint: 'Reconnect or remount the source and run the backup again; the unfinished copy is resumed.',
      });
    }
    if (outcome === 'cancelled') {
      await ring.writeManifest(manifest);
      throw new ShadowSlotsError('cancelled', 'The backup was cancelled; the ring is unchanged and the next run resumes the copy.');
    }
    if (outcome === 'failed') {
      await ring.writeManifest(manifest);
      if (copy.noSpace) {
        const fs = await fileSystemType(profile.target).catch(() => null);
        // rsync prints no --stats when it aborts, so the progress it printed is all we know.
        const written = copy.lastProgress?.bytes ?? 0;
        const estimate = copy.lastProgress && copy.lastProgress.percent > 0 ? Math.round(written * 100 / copy.lastProgress.percent) : null;
        const progressText = written > 0
          ? ` The copy stopped after writing ${formatBytes(written)}${estimate !== null && estimate > written ? ` of about ${formatBytes(estimate)}; it needed about ${formatBytes(estimate - written)} more` : ''}.`
          : '';
        throw new ShadowSlotsError('target-full', `The target is full: ${formatBytes(fs?.freeBytes ?? 0)} free of ${formatBytes(fs?.totalBytes ?? 0)}.${progressText}`, {
          hint: `Previous slots are intact. Free space on the target or keep fewer slots; the unfinished copy is kept in ${ring.incomingPath(id)} and the next run resumes it (delete it to free its space now).`,
          details: { exitCode: copy.exitCode, stderrTail: copy.stderrTail },
        });
      }
      throw new ShadowSlotsError('rsync', `${copy.classification.message}${copy.exitCode === null ? '' : ` (rsync exit ${copy.exitCode})`}; the ring is unchanged and the next run resumes the copy.`, {
        hint: `Details: ${lastLines(copy.stderrTail, 3) || 'see the backup log'}`,
        details: { exitCode: copy.exitCode, stderrTail: copy.stderrTail },
      });
    }
    if (outcome === 'partial') {
      manifest.state = 'partial';
      await ring.writeManifest(manifest);
      await releaseSnapshot(ring, provider, snapshot);
      snapshot = null;
      const durationMs = Math.round(performance.now() - started);
      return {
        slot: { number: null, id, state: 'partial', path: ring.incomingPath(id), manifest },
        outcome: 'partial',
        durationMs,
        timeToCompleteMs: durationMs,
        warnings: [copy.classification.message, ...manifest.warnings],
        notes: [...notes, 'The ring was not rotated: a partial copy never replaces a complete slot. Fix or exclude the files named above; the next run resumes.'],
      };
    }

    await phase('rotate', 'Making the new slot 0');
    const { dropped } = await ring.rotate(manifest, profile.slots);
    manifest.state = 'complete';
    const timeToCompleteMs = Math.round(performance.now() - started);
    const slot: SlotSummary = { number: 0, id, state: 'complete', path: ring.slotPath(0), manifest };
    options.onComplete?.({ elapsedMs: timeToCompleteMs, slot });

    rotated = true;
    await phase('release', 'Releasing the snapshot');
    try {
      await releaseSnapshot(ring, provider, snapshot);
    } catch (error) {
      manifest.warnings.push(`The ${snapshot.method} snapshot could not be released (${(error as Error).message}); the next run removes it.`);
    }
    snapshot = null;

    await phase('finalize', dropped.length > 0 ? `Recording checksums; ${dropped.length} old slot(s) are deleted in the background` : 'Recording checksums');
    // Slot 0 is complete and in the ring: from here on nothing turns the run into a failure or
    // a cancellation; bookkeeping problems become warnings and the next run catches up.
    const finalWarnings = await finalizeSlot(ring, report.rsync.path, manifest, previousManifest, recording).catch((error: unknown) => [`Finishing the slot failed: ${(error as Error).message}`]);
    if (finalWarnings.length > 0) {
      manifest.warnings.push(...finalWarnings);
      await ring.writeManifest(manifest).catch(() => undefined);
    }
    const durationMs = Math.round(performance.now() - started);
    emit('done', 'Backup complete', { percent: 100 });
    return {
      slot: { ...slot, manifest },
      outcome: outcome === 'complete-with-warnings' ? 'complete-with-warnings' : 'complete',
      durationMs,
      timeToCompleteMs,
      warnings: outcome === 'complete-with-warnings' ? [copy.classification.message, ...manifest.warnings] : manifest.warnings,
      notes,
    };
  } finally {
    if (snapshot && provider) await releaseSnapshot(ring, provider, snapshot).catch(() => undefined);
    await lock.release();
  }
}


/**
 * Reuses the newest unfinished in-progress folder (rsync then only copies what is missing) under
 * the new id; older ones are moved to the trash. Returns the id that was resumed.
 */
/** "dev:ino" of a folder, or null when it is gone: detects a source replaced or unmounted mid-copy. */
async function identity(path: string): Promise<string | null> {
  try {
    const st = await stat(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

async function prepareIncoming(ring: RingStore, id: string): Promise<string | null> {
  const ids = await ring.incomingIds();
  let resumed: string | null = null;
  for (const old of ids) {
    if (resumed === null && (await exists(ring.incomingPath(old)))) {
      await rename(ring.incomingPath(old), ring.incomingPath(id));
      if (process.platform !== 'win32') await makeFoldersOwnerAccessible(ring.incomingPath(id));
      await rm(ring.manifestPath(old), { force: true });
      await rm(ring.changeLogPath(old), { force: true });
      resumed = old;
    } else {
      await ring.discardIncoming(old);
    }
  }
  return resumed;
}

async function stopOrphanedCopy(ring: RingStore): Promise<string[]> {
  const journal = await ring.readJournal();
  if (!journal.copy) return [];
  const stopped = await stopOrphanCopy(journal.copy.pid, journal.copy.destination);
  journal.copy = null;
  await ring.writeJournal(journal);
  return stopped ? ['Stopped an rsync left running by an interrupted backup before reusing its folder.'] : [];
}

async function clearCopyRecord(ring: RingStore): Promise<void> {
  const journal = await ring.readJournal();
  if (!journal.copy) return;
  journal.copy = null;
  await ring.writeJournal(journal);
}

async function releaseJournaledSnapshots(ring: RingStore): Promise<string[]> {
  const journal = await ring.readJournal();
  if (journal.snapshots.length === 0) return [];
  const notes: string[] = [];
  const left = [];
  for (const record of journal.snapshots) {
    try {
      if (record.method === 'none' || record.method === 'auto') continue;
      await providerFor(record.method as 'btrfs').release(record);
      notes.push(`Removed a ${record.method} snapshot left behind by an interrupted run (${record.id}).`);
    } catch (error) {
      left.push(record);
      notes.push(`Could not remove a ${record.method} snapshot left behind (${record.id}): ${(error as Error).message}`);
    }
  }
  journal.snapshots = left;
  await ring.writeJournal(journal);
  return notes;
}

async function releaseSnapshot(ring: RingStore, provider: SnapshotProvider, snapshot: Snapshot): Promise<void> {
  if (!snapshot.journal) return;
  await provider.release(snapshot.journal);
  const journal = await ring.readJournal();
  journal.snapshots = journal.snapshots.filter((s) => s.id !== snapshot.journal!.id);
  await ring.writeJournal(journal);
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join(' | ');
}
