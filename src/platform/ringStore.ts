import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ShadowSlotsError } from '../core/errors';
import { emptyJournal, isJournalEmpty, parseJournal, type Journal } from '../core/journal';
import { ringPaths, type RingPaths } from '../core/layout';
import { parseManifest, serializeManifest, type SlotManifest } from '../core/manifest';
import { emptyRing, parseRingState, planRotation, serializeRingState, slotNumbersFromNames, stepStatus, type RingEntry, type RingState, type RotationStep } from '../core/ring';
import { exists, isErrno, TORN_WRITE, writeFileAtomic } from './fsutil';
import { faultPoint } from './faults';
import { isAbandonedLockDraft } from './lock';

/**
 * The ring on disk. Reading never writes; everything that writes expects the caller to hold the
 * ring's lock. Renames are journaled first, so `repair()` can finish any rotation a crash
 * interrupted, at any instant, without a gap and without losing a complete slot.
 */
export class RingStore {
  readonly paths: RingPaths;

  constructor(readonly target: string) {
    this.paths = ringPaths(target, join);
  }

  slotPath(number: number): string { return join(this.target, String(number)); }
  incomingPath(id: string): string { return join(this.paths.incoming, id); }
  trashPath(id: string): string { return join(this.paths.trash, id); }
  manifestPath(id: string): string { return join(this.paths.manifests, `${id}.json`); }
  changeLogPath(id: string): string { return join(this.paths.changes, `${id}.log`); }
  sumsPath(id: string): string { return join(this.paths.sums, `${id}.tsv`); }

  async ensureMeta(): Promise<void> {
    for (const dir of [this.paths.meta, this.paths.manifests, this.paths.changes, this.paths.sums, this.paths.logs, this.paths.incoming, this.paths.trash]) {
      await mkdir(dir, { recursive: true });
    }
  }

  async hasMeta(): Promise<boolean> { return exists(this.paths.ringFile); }

  /**
   * The ring as recorded, reconciled with the folders that exist: entries whose folder is gone are
   * left out. Numbered folders the metadata does not know are adopted only as a seed ring made by
   * the original scripts — no ring.json yet and exactly the folders 0…k — because adopting means
   * rotating and, one day, deleting them: any other numbered folder (a "2024" of the user's) is
   * reported as foreign and never touched. Pure read.
   */
  async readState(): Promise<{ state: RingState; adopted: RingEntry[]; missing: RingEntry[]; foreign: number[] }> {
    let recorded: RingState = emptyRing();
    let hasRecord = true;
    try {
      recorded = parseRingState(await readFile(this.paths.ringFile, 'utf8'));
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) {
        throw new ShadowSlotsError('ring-corrupt', `The ring's metadata ${this.paths.ringFile} cannot be read: ${(error as Error).message}.`, {
          hint: 'Your slots are untouched. Move the file aside; the next run adopts the numbered folders 0…N-1 as they are.',
        });
      }
      hasRecord = false;
    }
    const folders = await this.numberedFolders();
    const present = new Set(folders);
    const missing = recorded.entries.filter((e) => !present.has(e.number));
    const known = recorded.entries.filter((e) => present.has(e.number));
    const knownNumbers = new Set(known.map((e) => e.number));
    const unknown = folders.filter((n) => !knownNumbers.has(n));
    const seedRing = !hasRecord && unknown.every((n, i) => n === i);
    const adopted: RingEntry[] = [];
    if (seedRing) {
      for (const n of unknown) adopted.push({ number: n, id: adoptedId(n, (await stat(this.slotPath(n))).mtime) });
    }
    const entries = [...known, ...adopted].sort((a, b) => a.number - b.number);
    return { state: { format: recorded.format, entries }, adopted, missing, foreign: seedRing ? [] : unknown };
  }

  async numberedFolders(): Promise<number[]> {
    let names: string[];
    try {
      names = (await readdir(this.target, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw error;
    }
    return slotNumbersFromNames(names);
  }

  async writeState(state: RingState): Promise<void> {
    await writeFileAtomic(this.paths.ringFile, serializeRingState(state));
  }

  async readManifest(id: string): Promise<SlotManifest | null> {
    try {
      return parseManifest(await readFile(this.manifestPath(id), 'utf8'));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return null;
      return null; // An unreadable manifest must not hide the slot itself.
    }
  }

  async writeManifest(manifest: SlotManifest): Promise<void> {
    await writeFileAtomic(this.manifestPath(manifest.id), serializeManifest(manifest));
  }

  async readJournal(): Promise<Journal> {
    try {
      return parseJournal(await readFile(this.paths.journalFile, 'utf8'));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return emptyJournal();
      throw new ShadowSlotsError('ring-corrupt', `The ring's journal ${this.paths.journalFile} cannot be read: ${(error as Error).message}.`, {
        hint: 'Complete slots are untouched. Move the journal aside and run again; check that numbered folders have no gap.',
      });
    }
  }

  async writeJournal(journal: Journal): Promise<void> {
    if (isJournalEmpty(journal)) await rm(this.paths.journalFile, { force: true });
    else await writeFileAtomic(this.paths.journalFile, JSON.stringify(journal, null, 2) + '\n');
  }

  /** In-progress folders left by runs that did not finish, newest first. */
  async incomingIds(): Promise<string[]> {
    try {
      const names = (await readdir(this.paths.incoming, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
      return names.sort().reverse();
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw error;
    }
  }

  /**
   * Makes the recorded ring match the folders (adopting seed slots, forgetting missing ones) and
   * finishes an interrupted rotation. Caller holds the lock. Returns what it did, for the user.
   */
  async repair(options: { capacity?: number } = {}): Promise<string[]> {
    const notes: string[] = [];
    await this.ensureMeta();
    const journal = await this.readJournal();
    if (journal.rotation) {
      await this.replayRotation(journal.rotation.newId, journal.rotation.steps, journal.rotation.final);
      journal.rotation = null;
      await this.writeJournal(journal);
      notes.push('Finished a rotation that an earlier run left interrupted; no slot was lost.');
    }
    const removedTemps = await this.removeTornWrites();
    if (removedTemps > 0) notes.push(`Removed ${removedTemps} temporary file(s) of writes an interrupted run did not finish.`);
    const { state, adopted, missing, foreign } = await this.readState();
    if (foreign.length > 0) {
      throw new ShadowSlotsError('preflight', `The target ${this.target} holds folder(s) named ${foreign.map((n) => `"${n}"`).join(', ')} that are not slots of this ring; a backup would rotate or delete them.`, {
        hint: 'Move them out of the target folder (it should hold only the ring), then run again; if they are slots of a ring made by the original scripts, rename them to 0…N-1 without gaps. Nothing was changed.',
        details: { foreign },
      });
    }
    if (options.capacity !== undefined && adopted.length > options.capacity) {
      throw new ShadowSlotsError('invalid-input', `The target holds a ring of ${adopted.length} slots made without Shadow Slots, more than the ${options.capacity} this profile keeps; continuing would delete ${adopted.length - options.capacity + 1} of them at once.`, {
        hint: `Keep at least ${adopted.length} slots (--slots ${adopted.length}), or delete the oldest folders yourself first. Nothing was changed.`,
      });
    }
    for (const e of adopted) {
      if (await this.readManifest(e.id)) continue;
      const mtime = (await stat(this.slotPath(e.number))).mtime.toISOString();
      await this.writeManifest(adoptedManifest(e.id, mtime));
    }
    if (adopted.length > 0) notes.push(`Adopted ${adopted.length} numbered slot folder(s) made without Shadow Slots (${adopted.map((e) => e.number).join(', ')}); they are kept and rotated like the others.`);
    if (missing.length > 0) notes.push(`Slot folder(s) ${missing.map((e) => e.number).join(', ')} no longer exist and were removed from the ring.`);
    if (adopted.length > 0 || missing.length > 0 || !(await this.hasMeta())) await this.writeState(state);
    return notes;
  }

  /**
   * Rotates a complete in-progress slot into 0. The plan is journaled before the first rename;
   * the new slot's manifest becomes `complete` inside the journaled section, so a crash leaves
   * either the old ring plus a resumable in-progress slot, or a journal the next start replays.
   */
  async rotate(manifest: SlotManifest, capacity: number): Promise<{ dropped: string[] }> {
    const { state } = await this.readState();
    const plan = planRotation(state, capacity, manifest.id);
    const journal = await this.readJournal();
    journal.rotation = { newId: manifest.id, steps: plan.steps, final: plan.final, startedAt: new Date().toISOString() };
    await this.writeJournal(journal);
    faultPoint('rotate:journaled');
    await this.replayRotation(manifest.id, plan.steps, plan.final, manifest);
    faultPoint('rotate:state-written');
    journal.rotation = null;
    await this.writeJournal(journal);
    return { dropped: plan.dropped };
  }

  private async replayRotation(newId: string, steps: RotationStep[], final: RingState, manifest?: SlotManifest): Promise<void> {
    const current = manifest ?? (await this.readManifest(newId));
    if (current && current.state !== 'complete') await this.writeManifest({ ...current, state: 'complete' });
    for (const [index, step] of steps.entries()) {
      const [from, to] = this.stepPaths(step);
      const status = stepStatus(await exists(from), await exists(to));
      if (status === 'pending') {
        faultPoint(`rotate:step-${index}`);
        await rename(from, to);
      }
    }
    await this.writeState(final);
  }

  private stepPaths(step: RotationStep): [string, string] {
    switch (step.kind) {
      case 'drop': return [this.slotPath(step.from), this.trashPath(step.id)];
      case 'move': return [this.slotPath(step.from), this.slotPath(step.to)];
      case 'promote': return [this.incomingPath(step.id), this.slotPath(0)];
    }
  }

  /**
   * Atomic writes (temp file + rename) interrupted by a crash leave their temp file behind. Only
   * the lock holder writes metadata, so under the lock every such file belongs to a dead writer.
   * Lock drafts are the exception: a run trying to take the lock writes one right now.
   */
  private async removeTornWrites(): Promise<number> {
    let removed = 0;
    // changes/: a finalize collects deleted files in such a temp file before appending them.
    for (const dir of [this.paths.meta, this.paths.manifests, this.paths.changes]) {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        if (TORN_WRITE.test(name) || (await isAbandonedLockDraft(dir, name))) {
          await rm(join(dir, name), { force: true });
          removed++;
        }
      }
    }
    return removed;
  }

  /** Moves an abandoned in-progress folder out of the way (deleted with the trash). */
  async discardIncoming(id: string): Promise<void> {
    if (await exists(this.incomingPath(id))) await rename(this.incomingPath(id), this.trashPath(id));
    else await rm(this.manifestPath(id), { force: true });
  }
}

function adoptedId(number: number, mtime: Date): string {
  const stamp = mtime.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `adopted-${number}-${stamp}`;
}

function adoptedManifest(id: string, mtimeIso: string): SlotManifest {
  return {
    format: 1,
    id,
    state: 'complete',
    profile: '',
    source: '',
    startedAt: mtimeIso,
    endedAt: mtimeIso,
    snapshot: { method: 'unknown', id: null, warning: null },
    rsync: { argv: [], exitCode: null, version: null },
    counts: null,
    warnings: ['Adopted from a ring made without Shadow Slots: its start time is the folder\'s modification time and nothing else is known.'],
    changeLog: null,
    checksums: null,
    adopted: true,
    linkDest: null,
  };
}
