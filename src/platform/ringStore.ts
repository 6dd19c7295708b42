import { ShadowSlotsError } from '../core/errors';
import { emptyJournal, isJournalEmpty, parseJournal, type Journal } from '../core/journal';
import { ringPaths, type RingPaths } from '../core/layout';
import { parseManifest, serializeManifest, type SlotManifest } from '../core/manifest';
import { emptyRing, parseRingState, planRemoval, planRotation, serializeRingState, slotNumbersFromNames, type RemovalPlan, type RingEntry, type RingState, type RotationStep } from '../core/ring';
import type { SlotSpace } from '../core/target';
import { faultPoint } from './faults';
import type { RingHost } from './target/host';
import { localHost } from './target/localHost';
import { incomingIds } from './target/pathSteps';
import type { SlotStorage, SpaceCache, StorageContext } from './target/storage';
import { linksStorage } from './target/linksStorage';

/**
 * The ring on disk, wherever it lives (`host`) and however its slots are stored (`storage`: hard
 * links, btrfs subvolumes…). Reading never writes; everything that writes expects the caller to
 * hold the ring's lock. Rotation steps are journaled first, so `repair()` can finish any rotation a
 * crash interrupted, at any instant, without a gap and without losing a complete slot.
 */
export class RingStore {
  readonly paths: RingPaths;
  readonly storage: SlotStorage;

  constructor(readonly target: string, readonly host: RingHost = localHost, storage?: (ctx: StorageContext) => SlotStorage) {
    this.paths = ringPaths(target, host.join);
    this.storage = (storage ?? linksStorage)(this.context());
  }

  /** What a storage kind is built on; also used to build another kind on the same ring. */
  context(): StorageContext {
    return {
      host: this.host,
      paths: this.paths,
      slotPath: (n) => this.slotPath(n),
      incomingPath: (id) => this.incomingPath(id),
      trashPath: (id) => this.trashPath(id),
    };
  }

  slotPath(number: number): string { return this.host.join(this.target, String(number)); }
  incomingPath(id: string): string { return this.host.join(this.paths.incoming, id); }
  trashPath(id: string): string { return this.host.join(this.paths.trash, id); }
  manifestPath(id: string): string { return this.host.join(this.paths.manifests, `${id}.json`); }
  changeLogPath(id: string): string { return this.host.join(this.paths.changes, `${id}.log`); }
  sumsPath(id: string): string { return this.host.join(this.paths.sums, `${id}.tsv`); }
  private spacePath(key: string): string { return this.host.join(this.paths.meta, SPACE_DIR, `${key}.json`); }

  async ensureMeta(): Promise<void> {
    for (const dir of [this.paths.meta, this.paths.manifests, this.paths.changes, this.paths.sums, this.paths.logs, this.paths.incoming, this.paths.trash]) {
      await this.host.mkdirp(dir);
    }
  }

  async hasMeta(): Promise<boolean> { return this.host.exists(this.paths.ringFile); }

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
    let text: string | null;
    try {
      text = await this.host.readText(this.paths.ringFile);
      if (text !== null) recorded = parseRingState(text);
    } catch (error) {
      throw new ShadowSlotsError('ring-corrupt', `The ring's metadata ${this.paths.ringFile} cannot be read: ${(error as Error).message}.`, {
        hint: 'Your slots are untouched. Move the file aside; the next run adopts the numbered folders 0…N-1 as they are.',
      });
    }
    if (text === null) hasRecord = false;
    const folders = await this.numberedFolderEntries();
    const present = new Set(folders.map((f) => f.number));
    const missing = recorded.entries.filter((e) => !present.has(e.number));
    const known = recorded.entries.filter((e) => present.has(e.number));
    const knownNumbers = new Set(known.map((e) => e.number));
    const unknown = folders.filter((f) => !knownNumbers.has(f.number));
    const seedRing = !hasRecord && unknown.every((f, i) => f.number === i);
    // An adopted slot's id carries its folder's time: listed only then (names alone are cheaper on a server).
    const mtimes = seedRing && unknown.length > 0 ? new Map((await this.host.list(this.target)).map((e) => [e.name, e.mtimeMs])) : new Map<string, number>();
    const adopted: RingEntry[] = seedRing ? unknown.map((f) => ({ number: f.number, id: adoptedId(f.number, new Date(mtimes.get(String(f.number)) ?? 0)) })) : [];
    const entries = [...known, ...adopted].sort((a, b) => a.number - b.number);
    return { state: { format: recorded.format, entries }, adopted, missing, foreign: seedRing ? [] : unknown.map((f) => f.number) };
  }

  async numberedFolders(): Promise<number[]> {
    return (await this.numberedFolderEntries()).map((f) => f.number);
  }

  private async numberedFolderEntries(): Promise<Array<{ number: number }>> {
    const folders = (await this.host.listNames(this.target)).filter((e) => e.kind === 'folder');
    return slotNumbersFromNames(folders.map((f) => f.name)).map((n) => ({ number: n }));
  }

  async writeState(state: RingState): Promise<void> {
    await this.host.writeTextAtomic(this.paths.ringFile, serializeRingState(state));
  }

  async readManifest(id: string): Promise<SlotManifest | null> {
    try {
      const text = await this.host.readText(this.manifestPath(id));
      return text === null ? null : parseManifest(text);
    } catch {
      return null; // An unreadable manifest must not hide the slot itself.
    }
  }

  async writeManifest(manifest: SlotManifest): Promise<void> {
    await this.host.writeTextAtomic(this.manifestPath(manifest.id), serializeManifest(manifest));
  }

  async readJournal(): Promise<Journal> {
    try {
      const text = await this.host.readText(this.paths.journalFile);
      return text === null ? emptyJournal() : parseJournal(text);
    } catch (error) {
      throw new ShadowSlotsError('ring-corrupt', `The ring's journal ${this.paths.journalFile} cannot be read: ${(error as Error).message}.`, {
        hint: 'Complete slots are untouched. Move the journal aside and run again; check that numbered folders have no gap.',
      });
    }
  }

  async writeJournal(journal: Journal): Promise<void> {
    if (isJournalEmpty(journal)) await this.host.remove(this.paths.journalFile);
    else await this.host.writeTextAtomic(this.paths.journalFile, JSON.stringify(journal, null, 2) + '\n');
  }

  /** In-progress folders left by runs that did not finish, newest first. */
  incomingIds(): Promise<string[]> {
    return incomingIds(this.context());
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
      const deletion = journal.rotation.kind === 'delete';
      await this.replayRotation(journal.rotation.newId, journal.rotation.steps, journal.rotation.final, undefined, deletion ? 'delete' : 'rotate');
      journal.rotation = null;
      await this.writeJournal(journal);
      notes.push(deletion
        ? 'Finished deleting a slot, which an interrupted run had begun; no other slot was lost.'
        : 'Finished a rotation that an earlier run left interrupted; no slot was lost.');
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
      const mtime = (await this.host.stat(this.slotPath(e.number)))?.mtimeMs ?? Date.now();
      await this.writeManifest(adoptedManifest(e.id, new Date(mtime).toISOString()));
    }
    if (adopted.length > 0) notes.push(`Adopted ${adopted.length} numbered slot folder(s) made without Shadow Slots (${adopted.map((e) => e.number).join(', ')}); they are kept and rotated like the others.`);
    if (missing.length > 0) notes.push(`Slot folder(s) ${missing.map((e) => e.number).join(', ')} no longer exist and were removed from the ring.`);
    if (adopted.length > 0 || missing.length > 0 || !(await this.hasMeta())) await this.writeState(state);
    return notes;
  }

  /**
   * Rotates a complete in-progress slot into 0. The plan is journaled before the first step;
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

  /**
   * Deletes the complete slot numbered `number` (and only if it is still slot `id`, when given:
   * numbers move with every backup). Journaled like a rotation — a drop to the trash, then moves
   * that close the gap — so a crash at any instant leaves a ring the next start (or `list`)
   * finishes, with no gap. The slot's tree is only renamed here; `purgeTrash` deletes it after the
   * ring is consistent again. Caller holds the lock.
   */
  async removeSlot(number: number, id?: string): Promise<RemovalPlan> {
    const { state } = await this.readState();
    const entry = state.entries.find((e) => e.number === number);
    // The engine names the slot for the user first (engine/ringChange.ts); this is the last guard.
    if (!entry || (id !== undefined && entry.id !== id)) throw new ShadowSlotsError('not-found', `Slot ${number}${id ? ` (${id})` : ''} is not in the ring; nothing was deleted.`);
    const plan = planRemoval(state, number);
    const journal = await this.readJournal();
    journal.rotation = { newId: entry.id, kind: 'delete', steps: plan.steps, final: plan.final, startedAt: new Date().toISOString() };
    await this.writeJournal(journal);
    faultPoint('delete:journaled');
    await this.replayRotation(entry.id, plan.steps, plan.final, undefined, 'delete');
    faultPoint('delete:state-written');
    journal.rotation = null;
    await this.writeJournal(journal);
    return plan;
  }

  /**
   * Sets (or, with null, removes) the label of slot `id` in its manifest, through the ring's host.
   * The manifest is rewritten atomically; the caller holds the lock, so no run rewrites it meanwhile.
   */
  async writeLabel(id: string, label: string | null): Promise<SlotManifest> {
    const manifest = await this.readManifest(id);
    if (!manifest) throw new ShadowSlotsError('ring-corrupt', `The manifest of slot ${id} is missing or unreadable, so its label cannot be stored.`, { hint: 'Run a backup (or list the ring): a slot adopted without metadata gets a manifest then.' });
    const { label: _old, ...rest } = manifest;
    const next: SlotManifest = label === null ? rest : { ...rest, label };
    await this.writeManifest(next);
    return next;
  }

  private async replayRotation(newId: string, steps: RotationStep[], final: RingState, manifest?: SlotManifest, faults: 'rotate' | 'delete' = 'rotate'): Promise<void> {
    // A deletion's newId is the slot it deletes: nothing is promoted, nothing to mark complete.
    const current = faults === 'delete' ? null : manifest ?? (await this.readManifest(newId));
    if (current && current.state !== 'complete') await this.writeManifest({ ...current, state: 'complete' });
    for (const [index, step] of steps.entries()) {
      if ((await this.storage.stepStatus(step)) === 'pending') {
        faultPoint(`${faults}:step-${index}`);
        await this.storage.applyStep(step);
      }
    }
    faultPoint(`${faults}:settle`);
    await this.storage.settleNewest();
    await this.writeState(final);
  }

  /**
   * Atomic writes (temp file + rename) interrupted by a crash leave their temp file behind. Only
   * the lock holder writes metadata, so under the lock every such file belongs to a dead writer.
   */
  private async removeTornWrites(): Promise<number> {
    let removed = 0;
    // changes/: a finalize collects deleted files in such a temp file before appending them.
    for (const dir of [this.paths.meta, this.paths.manifests, this.paths.changes, this.paths.sums, this.host.join(this.paths.meta, SPACE_DIR)]) {
      removed += await this.host.removeTornWrites(dir);
    }
    return removed;
  }

  /**
   * Deletes slots dropped from the ring (slow for big hard-link trees; runs after slot 0 is
   * complete), each entry on its own so one stubborn tree does not keep the others, and the
   * metadata of those deleted.
   */
  async purgeTrash(): Promise<{ removed: number; failed: string[] }> {
    const { removed, failed } = await this.storage.purgeTrash();
    for (const name of removed) {
      await this.host.remove(this.manifestPath(name));
      await this.host.remove(this.changeLogPath(name));
      await this.host.remove(this.sumsPath(name));
      await this.forgetSpace(name);
    }
    return { removed: removed.length, failed };
  }

  /** Moves an abandoned in-progress folder out of the way (deleted with the trash). */
  async discardIncoming(id: string): Promise<void> {
    if (await this.host.exists(this.incomingPath(id))) await this.storage.discardIncoming(id);
    else await this.host.remove(this.manifestPath(id));
  }

  /**
   * Space per slot of the ring, measured the way the storage kind allows. Figures are cached in
   * `.shadow-slots/space/` (they depend only on a slot and its neighbours) except while dropped
   * slots wait in the trash: those still hold links and blocks of the oldest slot.
   */
  async space(entries: RingEntry[]): Promise<SlotSpace[]> {
    const trashEmpty = (await this.host.listNames(this.paths.trash)).length === 0;
    const cache: SpaceCache = {
      get: async (key) => {
        const text = await this.host.readText(this.spacePath(key)).catch(() => null);
        if (text === null) return null;
        try { return JSON.parse(text) as SlotSpace; } catch { return null; }
      },
      put: async (key, value) => {
        if (!trashEmpty) return;
        await this.host.mkdirp(this.host.join(this.paths.meta, SPACE_DIR));
        await this.host.writeTextAtomic(this.spacePath(key), JSON.stringify(value) + '\n');
        await this.forgetSpace(value.id, `${key}.json`);
      },
    };
    return this.storage.space(entries, cache);
  }

  /** Drops cached space figures of slot `id` (all of them, or all but `keep`). */
  private async forgetSpace(id: string, keep?: string): Promise<void> {
    const dir = this.host.join(this.paths.meta, SPACE_DIR);
    for (const entry of await this.host.list(dir)) {
      if (entry.name.startsWith(`${id}~`) && entry.name !== keep) await this.host.remove(this.host.join(dir, entry.name));
    }
  }
}

/** Cached space figures per slot (see RingStore.space). */
const SPACE_DIR = 'space';

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
