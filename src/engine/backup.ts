import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ShadowSlotsError } from '../core/errors';
import { formatBytes } from '../core/format';
import { newSlotId } from '../core/layout';
import type { SlotManifest } from '../core/manifest';
import type { Profile } from '../core/profile';
import type { Phase, ProgressEvent } from '../core/progress';
import { buildRsyncArgv } from '../core/rsyncArgs';
import type { RingEntry } from '../core/ring';
import { describeKind } from '../core/target';
import { faultPoint } from '../platform/faults';
import type { HeldLock } from '../platform/lock';
import { newCopyMarker, stopOrphanCopy } from '../platform/orphans';
import type { RingStore } from '../platform/ringStore';
import { chooseProvider, providerFor } from '../platform/snapshot/select';
import type { Snapshot, SnapshotProvider } from '../platform/snapshot/provider';
import { openRing } from '../platform/target/select';
import { openTarget, type OpenedTarget } from '../platform/target/remoteHosts';
import type { IncomingPlan } from '../platform/target/storage';
import type { BackupResult, SlotSummary } from '../rpc/protocol';
import { finalizeSlot, SlotRecording, type SentChanges } from './finalize';
import { startPurge } from './purge';
import { decideSend, keepAsParent, sendIntoRing, settleSendState, snapshotForSend, type SendDecision } from './sendReceive';
import { preflight, type PreflightReport } from './preflight';
import { runRsync, type RsyncRunResult } from './rsyncRun';
import { mayBeUnchanged, recordUnchanged, sameTree } from './unchanged';
import { slotTimeText } from './ringChange';

export interface BackupOptions {
  /** Validated where it entered (CLI arguments, profile file, the extension's request). */
  profile: Profile;
  /** What that validation told the user (e.g. an automatic exclude); reported with the result. */
  notes?: readonly string[];
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
 * in-progress slot → (only on success) journaled rotation → release → finalize (deleted-file
 * list, checksums, dropping the oldest slot — all after the slot is already complete). Where and
 * how slots are stored (hard links, btrfs snapshots…) is the ring's storage kind; this file only
 * orders the phases.
 */
export async function runBackup(options: BackupOptions): Promise<BackupResult> {
  const run = new BackupRun(options);
  try {
    return await run.execute();
  } catch (error) {
    // Whatever failed on a server says which server (the status bar shows this message).
    const where = run.remoteName;
    if (where !== null && error instanceof Error && !error.message.includes(where)) error.message = `${error.message} (ring on ${where})`;
    throw error;
  } finally {
    await run.closeTarget();
  }
}

/** rsync options that fight `--inplace` on a copy-on-write ring. */
const NOT_WITH_INPLACE: Array<{ match: RegExp; why: string }> = [
  { match: /^(-H|--hard-links)$|^-[A-Za-z]*H/, why: 'hard links and --inplace pull files in opposite directions (rsync documents the "tug of war")' },
  { match: /^(-S|--sparse)$|^-[A-Za-z]*S/, why: 'sparse files with --inplace have known rsync bugs that store far more than changed' },
  { match: /^(-W|--whole-file)$|^-[A-Za-z]*W/, why: 'whole-file copies rewrite every changed file in full, which defeats copy-on-write' },
];

/** The state one run carries from phase to phase. */
class BackupRun {
  private readonly started = performance.now();
  private readonly notes: string[] = [];
  private readonly warnings: string[] = [];
  /** After the rotation a cancel is too late: the new slot 0 stays and is reported. */
  private rotated = false;
  private snapshot: Snapshot | null = null;
  private provider: SnapshotProvider | null = null;
  /** The ring's host: one connection per run for a server, released at the end. */
  private opened: OpenedTarget | null = null;
  /** The source snapshot of a btrfs send run, kept as the next run's parent once the slot is in. */
  private sent: { path: string; uuid: string } | null = null;
  /** What the send stream changed (folders included): none means no change at all. */
  private sendChanges: number | null = null;
  /** What finalize needs beyond the change log to merge a received slot's checksums. */
  private sentChanges: SentChanges | null = null;
  /** True when rsync continues an interrupted run's in-progress slot. */
  private resumed = false;
  /** The complete slot the in-progress one is built on (linked against, or snapshotted from). */
  private baseId: string | null = null;
  /** rsync's list of the new slot, recorded during the copy for finalize (null: walk the slot). */
  private recording: SlotRecording | null = null;

  constructor(private readonly options: BackupOptions) {}

  get remoteName(): string | null { return this.opened?.host.name ?? null; }

  async closeTarget(): Promise<void> {
    await this.opened?.release();
    this.opened = null;
  }

  async execute(): Promise<BackupResult> {
    await this.phase('preflight', 'Checking source, target and rsync');
    const { profile, report, ring } = await this.checkPreflight();
    await this.phase('lock', 'Taking the ring\'s lock');
    const lock: HeldLock = await ring.host.acquireLock(ring.paths.lockFile, `backup ${profile.name}`);
    if (lock.recoveredStale) this.notes.push(`Recovered a stale lock left by process ${lock.recoveredStale.pid} (started ${lock.recoveredStale.startedAt}), which is no longer running.`);
    try {
      await this.phase('repair', 'Checking the ring');
      const { id, newest, previousManifest, incoming, send } = await this.repairAndPrepare(ring, profile, report);
      await this.phase('snapshot', `Freezing the source (${profile.snapshot})`);
      const { argv, manifest } = await this.freezeSource(ring, profile, report, id, incoming, send);
      await this.phase('copy', newest ? `${send.use ? 'Sending' : 'Copying'} changes since slot ${newest.number}` : `${send.use ? 'Sending' : 'Copying'} everything (first slot)`);
      const { copy, outcome } = send.use
        ? { copy: null, outcome: await this.copyBySend(ring, send, manifest, previousManifest) }
        : await this.copy(ring, profile, report, argv, manifest, incoming!.path, previousManifest);
      if (outcome === 'partial') return await this.keepPartial(ring, manifest, copy!);
      // A newest slot whose run died before recording its checksums is not one to keep instead of a
      // new slot: the new one gets them, so Verify can check what the source holds.
      const skippable = newest && profile.skipUnchanged && previousManifest?.checksums;
      if (skippable && (await this.unchanged(ring, report, copy, incoming, newest))) return await this.keepUnchanged(ring, manifest, newest, previousManifest);
      await this.phase('rotate', 'Making the new slot 0');
      const { dropped } = await ring.rotate(manifest, profile.slots);
      manifest.state = 'complete';
      const timeToCompleteMs = Math.round(performance.now() - this.started);
      const slot: SlotSummary = { number: 0, id, state: 'complete', path: ring.slotPath(0), manifest };
      this.options.onComplete?.({ elapsedMs: timeToCompleteMs, slot });
      this.rotated = true;
      await this.phase('release', 'Releasing the snapshot');
      await this.releaseAfterRotation(ring, manifest);
      await this.phase('finalize', dropped.length > 0 ? `Recording checksums and deleting ${dropped.length} old slot(s)` : 'Recording checksums');
      await this.finalize(ring, report, manifest, previousManifest);
      const durationMs = Math.round(performance.now() - this.started);
      this.emit('done', 'Backup complete', { percent: 100 });
      return {
        slot: { ...slot, manifest },
        outcome: outcome === 'complete-with-warnings' ? 'complete-with-warnings' : 'complete',
        durationMs,
        timeToCompleteMs,
        warnings: outcome === 'complete-with-warnings' && copy ? [copy.classification.message, ...manifest.warnings] : manifest.warnings,
        notes: this.notes,
      };
    } finally {
      if (this.snapshot && this.provider) await releaseSnapshot(ring, this.provider, this.snapshot).catch(() => undefined);
      // A send that did not make it into the ring: its snapshot and any received copy go now.
      if (this.sent && !this.rotated) await settleSendState(ring).catch(() => undefined);
      // A run that ends before its finalize leaves no draft behind.
      await this.recording?.discard().catch(() => undefined);
      await lock.release();
    }
  }

  private emit(phase: Phase, message: string, extra: Partial<ProgressEvent> = {}): void {
    this.options.onProgress?.({ phase, message, percent: null, bytes: 0, files: 0, rate: null, etaSeconds: null, ...extra });
  }

  private async phase(p: Phase, message: string): Promise<void> {
    this.emit(p, message);
    faultPoint(`phase:${p}`);
    await this.options.onPhase?.(p);
    if (this.options.signal?.aborted && !this.rotated) throw new ShadowSlotsError('cancelled', 'The backup was cancelled; the ring is unchanged.');
  }

  /** Everything checked before anything is written, and the ring opened with its storage kind. */
  private async checkPreflight(): Promise<{ profile: Profile; report: PreflightReport; ring: RingStore }> {
    const profile = this.options.profile;
    this.notes.push(...(this.options.notes ?? []));
    this.opened = await openTarget(profile.target, { sshPath: profile.sshPath, rsyncPath: profile.rsyncPath });
    const { host, path } = this.opened;
    const report = await preflight(profile, { ...(this.options.createTarget ? { createTarget: true } : {}), host, targetPath: path });
    this.warnings.push(...report.warnings);
    const { ring, notes: kindNotes } = await openRing(path, profile.targetMode, host);
    this.notes.push(...kindNotes);
    if (ring.storage.capabilities.copyOnWrite) {
      const clash = profile.rsyncArgs.map((arg) => ({ arg, rule: NOT_WITH_INPLACE.find((r) => r.match.test(arg)) })).find((c) => c.rule);
      if (clash) {
        throw new ShadowSlotsError('invalid-input', `The rsync option ${JSON.stringify(clash.arg)} cannot be used with a copy-on-write ring: ${clash.rule!.why}.`, {
          hint: 'Remove it from the extra rsync arguments, or use target mode "links". Nothing was changed.',
        });
      }
    }
    await ring.ensureMeta();
    return { profile, report, ring };
  }

  /**
   * Finishes whatever an interrupted run left (rotation, orphaned rsync, snapshots), then makes
   * the in-progress slot: an interrupted run's is resumed (rsync then only copies what is
   * missing), older ones are moved to the trash.
   */
  private async repairAndPrepare(ring: RingStore, profile: Profile, report: PreflightReport): Promise<{ id: string; newest: RingEntry | undefined; previousManifest: SlotManifest | null; incoming: IncomingPlan | null; send: SendDecision }> {
    // First: a copy an interrupted run left running would write into what the steps below repair
    // (an in-progress folder, a received subvolume, the snapshot a send still reads).
    this.notes.push(...(await stopOrphanedCopy(ring)));
    this.notes.push(...(await ring.repair({ capacity: profile.slots })));
    if (ring.storage.capabilities.kind === 'btrfs') this.notes.push(...(await settleSendState(ring)));
    this.notes.push(...(await releaseJournaledSnapshots(ring)));

    const { state } = await ring.readState();
    const newest = state.entries[0];
    const base = newest ? { entry: newest, path: ring.slotPath(newest.number) } : null;
    const previousManifest = newest ? await ring.readManifest(newest.id) : null;
    const id = newSlotId(new Date(), randomBytes(3).toString('hex'));
    const chosen = await chooseProvider(profile.snapshot, report.sourceReal);
    this.provider = chosen.provider;
    const send = await decideSend(ring, profile, chosen.provider.method, report.sourceReal, base?.path ?? null);
    if (!send.use && send.note) this.notes.push(send.note);

    let incoming: IncomingPlan | null = null;
    for (const old of await ring.incomingIds()) {
      if (!send.use && incoming === null && (await ring.host.exists(ring.incomingPath(old)))) {
        incoming = await ring.storage.resumeIncoming(old, id, base);
        this.resumed = true;
        await ring.host.remove(ring.manifestPath(old));
        await ring.host.remove(ring.changeLogPath(old));
        this.notes.push(`Resuming an unfinished backup from ${old}.`);
      } else {
        await ring.discardIncoming(old);
      }
    }
    if (!send.use) {
      incoming ??= await ring.storage.createIncoming(id, base);
      this.notes.push(...incoming.notes);
    }
    this.baseId = incoming?.baseId ?? null;
    return { id, newest, previousManifest, incoming, send };
  }

  /** Takes the snapshot (journaled before it exists) and records the run's manifest. */
  private async freezeSource(ring: RingStore, profile: Profile, report: PreflightReport, id: string, incoming: IncomingPlan | null, send: SendDecision): Promise<{ argv: string[]; manifest: SlotManifest }> {
    if (send.use) return { argv: [], manifest: await this.freezeForSend(ring, profile, id, send) };
    this.snapshot = await this.provider!.create(report.sourceReal, id, async (record) => {
      const journal = await ring.readJournal();
      journal.snapshots.push({ ...record, createdAt: new Date().toISOString(), pid: process.pid });
      await ring.writeJournal(journal);
    }, this.options.signal);
    if (this.snapshot.warning) this.warnings.push(this.snapshot.warning);

    const argv = buildRsyncArgv({
      source: this.snapshot.readPath,
      // `host:path` and `-e` through this run's connection for a ring on a server.
      destination: ring.host.rsyncDestination(incoming!.path),
      targetArgs: incoming!.rsyncArgs,
      excludes: [...profile.excludes, ...this.snapshot.excludes],
      filterFile: profile.filterFile,
      extraArgs: [...ring.host.rsyncTransportArgs(), ...profile.rsyncArgs],
      timePrecision: report.timePrecision,
      // Every entry of the slot, unchanged ones too, for the record finalize builds on (startRecording).
      listUnchanged: true,
    });
    const manifest: SlotManifest = {
      format: 1,
      id,
      state: 'in-progress',
      profile: profile.name,
      source: profile.source,
      startedAt: new Date().toISOString(),
      endedAt: null,
      snapshot: { method: this.snapshot.method, id: this.snapshot.id, warning: this.snapshot.warning },
      rsync: { argv: [report.rsync.path, ...argv], exitCode: null, version: report.rsync.version },
      counts: null,
      warnings: [],
      changeLog: `changes/${id}.log`,
      checksums: null,
      adopted: false,
      linkDest: incoming!.baseId,
      storage: { kind: ring.storage.capabilities.kind, description: describeKind(ring.storage.capabilities.kind) },
    };
    await ring.writeManifest(manifest);
    return { argv, manifest };
  }

  /** Runs rsync and judges its outcome; anything but a complete or partial copy throws. */
  private async copy(ring: RingStore, profile: Profile, report: PreflightReport, argv: string[], manifest: SlotManifest, destination: string, previousManifest: SlotManifest | null): Promise<{ copy: RsyncRunResult; outcome: 'complete' | 'complete-with-warnings' | 'partial' }> {
    const snapshot = this.snapshot!;
    const sourceIdentity = await identity(snapshot.readPath);
    // rsync's change log is streamed into a local file; a server's copy is sent after the copy.
    const changeLog = await ring.host.staged(ring.changeLogPath(manifest.id), 'write');
    this.recording = await this.startRecording(ring, manifest.id, previousManifest);
    const marker = await journalCopy(ring, destination);
    const copy = await runRsync(report.rsync.path, argv, changeLog, {
      list: this.recording,
      marker,
      // Relative merge-file names inside a filter file resolve from the filter file's folder.
      ...(profile.filterFile !== undefined ? { cwd: dirname(profile.filterFile) } : {}),
      ...(this.options.signal ? { signal: this.options.signal } : {}),
      onSpawn: async (pid) => {
        faultPoint('copy:unrecorded');
        await journalCopyPid(ring, pid);
        faultPoint('copy:spawned');
      },
      onProgress: (p) => this.emit('copy', `${p.percent ?? 0}%`, p),
    }).catch(async (error: unknown) => { await stopFailedCopy(ring); throw error; });
    // On a full target even these small writes can fail; rsync's own outcome is what the user must
    // hear about (a stale copy record is checked and cleared by the next run).
    await ring.host.publishStaged(ring.changeLogPath(manifest.id)).catch(() => undefined);
    await clearCopyRecord(ring).catch(() => undefined);
    recordCopy(manifest, copy, previousManifest, this.warnings);
    const recordFailedRun = () => ring.writeManifest(manifest).catch(() => undefined);

    const outcome = copy.classification.outcome;
    // A source that vanishes or is unmounted mid-copy makes rsync report its files as "vanished"
    // (exit 24, normally harmless): a fragment must never enter the ring as a complete slot.
    const after = await identity(snapshot.readPath);
    if ((outcome === 'complete' || outcome === 'complete-with-warnings') && (after === null || after !== sourceIdentity)) {
      await recordFailedRun();
      throw new ShadowSlotsError('rsync', `The source ${profile.source} disappeared or was replaced while it was being copied (${after === null ? 'it no longer exists' : 'it is now a different folder or drive'}); the copy is incomplete and the ring is unchanged.`, {
        hint: 'Reconnect or remount the source and run the backup again; the unfinished copy is resumed.',
      });
    }
    if (outcome === 'cancelled') {
      await recordFailedRun();
      throw new ShadowSlotsError('cancelled', 'The backup was cancelled; the ring is unchanged and the next run resumes the copy.');
    }
    if (outcome === 'failed') {
      await recordFailedRun();
      throw await copyFailure(ring, copy, manifest.id);
    }
    return { copy, outcome };
  }

  /** Whether the copy holds exactly what the newest slot holds (see unchanged.ts); a send run knows from its stream. */
  private async unchanged(ring: RingStore, report: PreflightReport, copy: RsyncRunResult | null, incoming: IncomingPlan | null, newest: RingEntry): Promise<boolean> {
    if (!copy || !incoming) return this.sendChanges === 0;
    if (!mayBeUnchanged(copy)) return false;
    this.emit('copy', 'Comparing the copy with the newest slot');
    return sameTree(ring, report.rsync.path, incoming.path, ring.slotPath(newest.number), this.options.signal);
  }

  /**
   * Nothing changed since the newest slot: no slot is made (the oldest stays in the ring), the
   * copy is discarded and the run is recorded as "no changes" for the status bar and `list`.
   */
  private async keepUnchanged(ring: RingStore, manifest: SlotManifest, newest: RingEntry, newestManifest: SlotManifest | null): Promise<BackupResult> {
    await this.phase('release', 'Releasing the snapshot');
    if (this.snapshot && this.provider) await releaseSnapshot(ring, this.provider, this.snapshot);
    this.snapshot = null;
    await this.phase('finalize', `No changes since slot ${newest.number}: discarding the copy`);
    // A send run's received copy goes with its snapshot in execute()'s cleanup.
    await ring.discardIncoming(manifest.id);
    await ring.host.remove(ring.changeLogPath(manifest.id));
    // Through the one purge path: a detached purge may be deleting this ring's trash already.
    const purgeWarnings = await startPurge(ring);
    await recordUnchanged(ring, newest);
    const durationMs = Math.round(performance.now() - this.started);
    this.emit('done', 'No changes', { percent: 100 });
    const when = newestManifest ? ` (${slotTimeText(newestManifest)})` : '';
    return {
      slot: { number: newest.number, id: newest.id, state: 'complete', path: ring.slotPath(newest.number), manifest: newestManifest },
      outcome: 'unchanged',
      durationMs,
      timeToCompleteMs: durationMs,
      warnings: [...this.warnings, ...purgeWarnings],
      notes: [...this.notes, `No changes since slot ${newest.number}${when}: no new slot was made, so the oldest slot was kept.`],
    };
  }

  /**
   * Starts recording rsync's list of the slot (see finalize.ts), so that finalize hashes only the
   * new entries: here, or on the server for a ring there (all of them in one batch).
   */
  private async startRecording(ring: RingStore, id: string, previous: SlotManifest | null): Promise<SlotRecording | null> {
    const cow = ring.storage.capabilities.copyOnWrite;
    return SlotRecording.tryStart(ring, id, previous, {
      // A copy-on-write destination starts with the newest slot's files (and a resumed one with
      // what an interrupted run wrote): a vanished source file may stay there unlisted.
      destinationHeldFiles: this.resumed || cow,
      // A fresh btrfs snapshot of slot 0 holds exactly that slot: what rsync keeps is its file.
      // ZFS's working copy may also hold what an abandoned run wrote.
      keptIsPrevious: cow && !this.resumed && ring.storage.capabilities.kind === 'btrfs' && previous !== null && this.baseId === previous.id,
    });
  }

  /** The snapshot of a btrfs send run, and its manifest (the slot is built on slot 0 by the stream). */
  private async freezeForSend(ring: RingStore, profile: Profile, id: string, send: Extract<SendDecision, { use: true }>): Promise<SlotManifest> {
    this.sent = await snapshotForSend(ring, send, id, this.options.signal);
    const { state } = await ring.readState();
    const manifest: SlotManifest = {
      format: 1,
      id,
      state: 'in-progress',
      profile: profile.name,
      source: profile.source,
      startedAt: new Date().toISOString(),
      endedAt: null,
      snapshot: { method: 'btrfs', id: this.sent.path, warning: null },
      rsync: { argv: [], exitCode: null, version: null },
      counts: null,
      warnings: [],
      changeLog: `changes/${id}.log`,
      checksums: null,
      adopted: false,
      linkDest: send.parent ? state.entries[0]?.id ?? null : null,
      storage: { kind: ring.storage.capabilities.kind, description: describeKind(ring.storage.capabilities.kind) },
      transfer: { method: 'btrfs-send', command: [], parentUuid: send.parent?.uuid ?? null },
    };
    await ring.writeManifest(manifest);
    return manifest;
  }

  /** btrfs send | btrfs receive: no walk of the tree; the stream holds only what changed. */
  private async copyBySend(ring: RingStore, send: Extract<SendDecision, { use: true }>, manifest: SlotManifest, previous: SlotManifest | null): Promise<'complete'> {
    const marker = await journalCopy(ring, ring.target);
    const result = await sendIntoRing(ring, send, this.sent!, ring.changeLogPath(manifest.id), this.options.signal, marker, async (pid) => {
      faultPoint('copy:unrecorded');
      await journalCopyPid(ring, pid);
      faultPoint('copy:spawned');
    }).catch(async (error: unknown) => { await stopFailedCopy(ring); throw error; });
    await clearCopyRecord(ring).catch(() => undefined);
    this.sendChanges = result.changes.length;
    this.sentChanges = { retimed: result.retimed };
    const count = (change: string) => result.changes.filter((c) => c.change === change && !c.folder).length;
    manifest.endedAt = new Date().toISOString();
    manifest.transfer = { method: 'btrfs-send', command: result.command, parentUuid: send.parent?.uuid ?? null };
    // Files and size are counted again from the checksums once the slot is complete (finalize).
    manifest.counts = {
      files: Math.max(0, (previous?.counts?.files ?? 0) + count('created') - count('deleted')),
      dirs: previous?.counts?.dirs ?? 0,
      created: count('created'),
      changed: count('changed'),
      deleted: count('deleted'),
      bytesSent: result.bytes,
      totalSize: previous?.counts?.totalSize ?? 0,
    };
    manifest.warnings.push(...this.warnings);
    return 'complete';
  }

  /** A partial copy is kept for the next run to resume; it never replaces a complete slot. */
  private async keepPartial(ring: RingStore, manifest: SlotManifest, copy: RsyncRunResult): Promise<BackupResult> {
    manifest.state = 'partial';
    await ring.writeManifest(manifest);
    await releaseSnapshot(ring, this.provider!, this.snapshot!);
    this.snapshot = null;
    const durationMs = Math.round(performance.now() - this.started);
    return {
      slot: { number: null, id: manifest.id, state: 'partial', path: ring.incomingPath(manifest.id), manifest },
      outcome: 'partial',
      durationMs,
      timeToCompleteMs: durationMs,
      warnings: [copy.classification.message, ...manifest.warnings],
      notes: [...this.notes, 'The ring was not rotated: a partial copy never replaces a complete slot. Fix or exclude the files named above; the next run resumes.'],
    };
  }

  private async releaseAfterRotation(ring: RingStore, manifest: SlotManifest): Promise<void> {
    if (this.sent) {
      try {
        await keepAsParent(ring, this.sent);
      } catch (error) {
        manifest.warnings.push(`The previous btrfs send parent could not be deleted (${(error as Error).message}); the next run tries again.`);
      }
      return;
    }
    const snapshot = this.snapshot!;
    try {
      await releaseSnapshot(ring, this.provider!, snapshot);
    } catch (error) {
      manifest.warnings.push(`The ${snapshot.method} snapshot could not be released (${(error as Error).message}); the next run removes it.`);
    }
    this.snapshot = null;
  }

  /**
   * Slot 0 is complete and in the ring: from here on nothing turns the run into a failure or a
   * cancellation; bookkeeping problems become warnings and the next run catches up.
   */
  private async finalize(ring: RingStore, report: PreflightReport, manifest: SlotManifest, previousManifest: SlotManifest | null): Promise<void> {
    // Without rsync's list of the slot, checksums carried forward by inode only hold for hard-linked
    // slots: a copy-on-write run rewrites changed files in place, keeping their inode, so its slot
    // is hashed in full. With the list, rsync itself says which entries it wrote; a received slot's
    // change log says which entries the stream wrote (finalize.ts, untouchedBySend).
    const comparable = ring.storage.capabilities.hardLinks || this.recording !== null || manifest.transfer?.method === 'btrfs-send' ? previousManifest : null;
    const recording = this.recording;
    this.recording = null;
    // A send run's file count and size come from the checksum list finalize writes.
    const finalWarnings = await finalizeSlot(ring, report.rsync.path, manifest, comparable, recording, undefined, this.sentChanges ?? undefined).catch((error: unknown) => [`Finishing the slot failed: ${(error as Error).message}`]);
    if (finalWarnings.length > 0) {
      manifest.warnings.push(...finalWarnings);
      await ring.writeManifest(manifest).catch(() => undefined);
    }
  }
}

/** Counts and warnings of the copy, into the manifest. */
function recordCopy(manifest: SlotManifest, copy: RsyncRunResult, previous: SlotManifest | null, warnings: string[]): void {
  manifest.rsync.exitCode = copy.exitCode;
  manifest.endedAt = new Date().toISOString();
  const s = copy.stats;
  const deletedEstimate = previous?.counts ? Math.max(0, previous.counts.files - (s.regularFiles - s.createdRegular)) : 0;
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
}

/** The error for an rsync that failed: a full target is told apart, with what was written. */
async function copyFailure(ring: RingStore, copy: RsyncRunResult, id: string): Promise<ShadowSlotsError> {
  if (copy.noSpace) {
    const fs = await ring.host.fileSystem(ring.target).catch(() => null);
    // rsync prints no --stats when it aborts, so the progress it printed is all we know.
    const written = copy.lastProgress?.bytes ?? 0;
    const estimate = copy.lastProgress && copy.lastProgress.percent > 0 ? Math.round(written * 100 / copy.lastProgress.percent) : null;
    const progressText = written > 0
      ? ` The copy stopped after writing ${formatBytes(written)}${estimate !== null && estimate > written ? ` of about ${formatBytes(estimate)}; it needed about ${formatBytes(estimate - written)} more` : ''}.`
      : '';
    return new ShadowSlotsError('target-full', `The target${ring.host.name ? ` on ${ring.host.name}` : ''} is full: ${formatBytes(fs?.freeBytes ?? 0)} free of ${formatBytes(fs?.totalBytes ?? 0)}.${progressText}`, {
      hint: `Previous slots are intact. Free space on the target or keep fewer slots; the unfinished copy is kept in ${ring.incomingPath(id)} and the next run resumes it (delete it to free its space now).`,
      details: { exitCode: copy.exitCode, stderrTail: copy.stderrTail },
    });
  }
  return new ShadowSlotsError('rsync', `${copy.classification.message}${copy.exitCode === null ? '' : ` (rsync exit ${copy.exitCode})`}; the ring is unchanged and the next run resumes the copy.`, {
    hint: `Details: ${lastLines(copy.stderrTail, 3) || 'see the backup log'}`,
    details: { exitCode: copy.exitCode, stderrTail: copy.stderrTail },
  });
}

/** "dev:ino" of a folder, or null when it is gone: detects a source replaced or unmounted mid-copy. */
async function identity(path: string): Promise<string | null> {
  try {
    const st = await stat(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return null;
  }
}

/** Journals a copy before it starts (see Journal.copy); returns the marker its processes carry. */
async function journalCopy(ring: RingStore, destination: string): Promise<string> {
  const marker = newCopyMarker();
  const journal = await ring.readJournal();
  journal.copy = { pid: null, destination, marker };
  await ring.writeJournal(journal);
  return marker;
}

/** The pid is for reading the journal by eye: the marker alone finds the copy, so a failed write changes nothing. */
async function journalCopyPid(ring: RingStore, pid: number): Promise<void> {
  try {
    const journal = await ring.readJournal();
    if (journal.copy) journal.copy.pid = pid;
    await ring.writeJournal(journal);
  } catch { /* the record with its marker stays */ }
}

/** The folders a copy of this ring may write: a record naming anything else is not acted on. */
async function copyDestinations(ring: RingStore): Promise<string[]> {
  return [ring.target, ...(await ring.incomingIds()).map((id) => ring.host.rsyncDestination(ring.incomingPath(id)))];
}

async function stopOrphanedCopy(ring: RingStore): Promise<string[]> {
  const journal = await ring.readJournal();
  if (!journal.copy) return [];
  const stopped = await stopOrphanCopy(journal.copy, await copyDestinations(ring));
  journal.copy = null;
  await ring.writeJournal(journal);
  return stopped ? ['Stopped a copy (rsync, or btrfs send | receive) left running by an interrupted backup before reusing its folder.'] : [];
}

/**
 * A copy that failed or was cancelled may still have processes (one whose start could not be
 * journaled, a group member still exiting): they are stopped before its record goes.
 */
async function stopFailedCopy(ring: RingStore): Promise<void> {
  await stopOrphanedCopy(ring).catch(() => undefined);
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
