import { invalid, ShadowSlotsError } from '../../core/errors';
import type { RingEntry, RotationStep, StepStatus } from '../../core/ring';
import type { SlotSpace } from '../../core/target';
import { renameStepStatus, stepPaths } from './pathSteps';
import { cachedSpace } from './spaceCache';
import type { BaseSlot, IncomingPlan, SlotStorage, StorageContext } from './storage';
import { log } from '../runner';
import { failureOf, zfsDatasetHolding, zfsRunner } from './zfsRun';
import { bytesOf, parseGet, RING_PROPERTIES, ringNames, zfsArgv, type ZfsRingNames } from './zfsTool';

/** Same as btrfs: rewrite only the changed blocks of each file in the working copy. */
const COW_RSYNC_ARGS = ['--inplace', '--no-whole-file'];

/**
 * rsync's quick check may trust the working copy only when it is exactly the newest slot (or new
 * and empty). A file an interrupted or abandoned run tore in place got the time of the write as
 * its mtime, which zfs-fuse keeps in whole seconds: in the second the source file changed, the
 * quick check took the torn file for the new one (the ZFS kill suite lost a complete slot's file
 * so). Anything else is compared by content.
 */
function workRsyncArgs(trusted: boolean): string[] {
  return trusted ? COW_RSYNC_ARGS : [...COW_RSYNC_ARGS, '--checksum'];
}

/** What `zfs get -r` says about the ring's datasets (snapshots included). */
class RingDatasets {
  constructor(private readonly props: Map<string, Map<string, string>>) {}
  has(name: string): boolean { return this.props.has(name); }
  /** null for `none`, `legacy` and snapshots. */
  mountpoint(name: string): string | null {
    const value = this.props.get(name)?.get('mountpoint');
    return value?.startsWith('/') ? value : null;
  }
  mounted(name: string): boolean { return this.props.get(name)?.get('mounted') === 'yes'; }
  origin(name: string): string | null { return this.props.get(name)?.get('origin') ?? null; }
  bytes(name: string, property: 'used' | 'referenced'): number | null { return bytesOf(this.props.get(name)?.get(property)); }
  names(): string[] { return [...this.props.keys()]; }
}

/**
 * A ring on ZFS. With `cow`, a run copies into one working dataset (`<container>/work`) mounted at
 * `.shadow-slots/incoming/<id>` with `rsync --inplace --no-whole-file`; the promote makes it a
 * snapshot `work@<id>` and a read-only clone of that snapshot mounted at `<target>/0`, a plain
 * folder any file manager opens (ZFS on FUSE has no `.zfs/snapshot`). A mountpoint cannot be
 * renamed, so rotation moves a clone by changing its `mountpoint`; a dropped slot is mounted in
 * the trash and destroyed after the new slot 0 is complete, clone before its origin snapshot.
 * No holds are used (one left behind makes "dataset is busy" forever, zrepl #767), and the working
 * copy is never destroyed, so no clone ever needs `zfs promote`.
 *
 * Without `cow` (target mode `links`) new slots are hard-linked folders; either way the ring reads
 * and rotates slots of both kinds. Every step is judged from ZFS's own state (where a dataset is
 * mounted), and removes the empty folder an unmount leaves behind, so a replay after a crash at any
 * instant finishes it and no empty folder is ever taken for a slot.
 */
export function zfsStorage(ctx: StorageContext, options: { cow: boolean }): SlotStorage {
  const target = ctx.paths.target;
  let names: Promise<ZfsRingNames> | null = null;
  let parentName = target;
  const zfs = zfsRunner(ctx.host, () => parentName);

  const ring = (): Promise<ZfsRingNames> => {
    names ??= (async () => {
      // zfs prints values unquoted, one per line: a newline in a mountpoint would be unreadable.
      if (/[\n\r]/.test(target)) throw invalid(`A ZFS ring's folder cannot have a line break in its path: ${JSON.stringify(target)}.`, 'Choose a target folder without one.');
      const [parent, stat] = await Promise.all([zfsDatasetHolding(ctx.host, target), ctx.host.stat(target)]);
      if (!parent || !stat) throw new ShadowSlotsError('preflight', `No mounted ZFS dataset holds ${target}.`, { hint: 'Mount the dataset (zfs mount), or use target mode "links". Nothing was changed.' });
      parentName = parent.name;
      return ringNames(parent.name, stat.ino);
    })();
    names.catch(() => { names = null; });
    return names;
  };

  const datasets = async (): Promise<RingDatasets> => {
    const n = await ring();
    try {
      return new RingDatasets(parseGet(await zfs(zfsArgv.get(RING_PROPERTIES, n.container, true))));
    } catch (error) {
      if (failureOf(error) === 'not-found') return new RingDatasets(new Map());
      throw error;
    }
  };

  const targetDevice = async () => (await ctx.host.stat(target))?.dev;
  /** An empty folder on the target's own file system: what an unmount leaves where a dataset was mounted. */
  const isLeftover = async (path: string): Promise<boolean> => {
    const s = await ctx.host.stat(path);
    return s?.kind === 'folder' && s.dev === (await targetDevice()) && (await ctx.host.list(path)).length === 0;
  };
  /** rmdir only: it cannot delete anything but an empty folder, and fails on a mountpoint. */
  const removeLeftover = async (path: string | null) => {
    if (path !== null && (await isLeftover(path))) await ctx.host.run('rmdir', ['--', path]);
  };
  /** `zfs set mountpoint` mounts a dataset that had none, but not one someone unmounted: both end here. */
  const mount = async (name: string) => {
    try {
      await zfs(zfsArgv.mount(name));
    } catch (error) {
      if (failureOf(error) !== 'already-mounted') throw error;
    }
  };
  /** Mounts `name` at `path` (unmounts it for null); the folder it left is removed. */
  const mountAt = async (d: RingDatasets, name: string, path: string | null) => {
    const before = d.mountpoint(name);
    if (before !== path) await zfs(zfsArgv.setMountpoint(name, path));
    // A mounted dataset is remounted by the set itself.
    if (path !== null && !d.mounted(name)) await mount(name);
    if (before !== path) await removeLeftover(before);
  };

  const ensureWork = async (d: RingDatasets, n: ZfsRingNames) => {
    if (!d.has(n.container)) await zfs(zfsArgv.createContainer(n.container));
    if (!d.has(n.work)) await zfs(zfsArgv.createWork(n.work));
  };

  /** The clone behind a ZFS slot at `path`, or null when the slot is a plain folder. */
  const cloneAt = (d: RingDatasets, n: ZfsRingNames, id: string, path: string) =>
    d.mountpoint(n.slot(id)) === path && d.origin(n.slot(id)) === n.snapshot(id) ? n.slot(id) : null;

  /** Moves an abandoned in-progress folder out: the working copy is unmounted (kept), a folder goes to the trash. */
  const vacateIncoming = async (id: string) => {
    const path = ctx.incomingPath(id);
    const n = await ring();
    const d = await datasets();
    if (d.mountpoint(n.work) === path) await zfs(zfsArgv.setMountpoint(n.work, null));
    // Also an empty folder goes through the trash: the purge deletes its manifest with it.
    if (await ctx.host.exists(path)) await ctx.host.rename(path, ctx.trashPath(id));
  };

  const createIncoming = async (id: string, base: BaseSlot | null): Promise<IncomingPlan> => {
    const path = ctx.incomingPath(id);
    const n = await ring();
    let d = await datasets();
    const baseClone = base ? cloneAt(d, n, base.entry.id, base.path) : null;
    if (!options.cow) {
      await ctx.host.mkdirp(path);
      // Hard links cannot reach another file system: a folder slot cannot link against a clone.
      if (base && baseClone) return { path, rsyncArgs: [], baseId: null, notes: [`Slot ${base.entry.number} is a ZFS snapshot, which hard links cannot reach: this hard-linked slot is a full copy.`] };
      return { path, rsyncArgs: base ? [`--link-dest=${base.path}`] : [], baseId: base?.entry.id ?? null, notes: [] };
    }
    const hadWork = d.has(n.work);
    await ensureWork(d, n);
    const exact = hadWork && baseClone !== null && (await rollBackWork(n, base!.entry.id));
    d = await datasets();
    await mountAt(d, n.work, path);
    const notes = base && !baseClone
      ? [`Slot ${base.entry.number} is a hard-linked folder; ZFS copy-on-write slots start with this one, which copies what the working copy does not hold yet. Older slots are kept as they are.`]
      : [];
    return { path, rsyncArgs: workRsyncArgs(exact || !hadWork), baseId: baseClone ? base!.entry.id : null, notes };
  };

  /**
   * Puts the working copy back to the newest slot's snapshot, dropping whatever an abandoned run
   * wrote into it since (nothing complete lives there). False when ZFS refuses, e.g. because a newer
   * snapshot exists: the caller then compares by content instead.
   */
  const rollBackWork = async (n: ZfsRingNames, baseId: string): Promise<boolean> => {
    try {
      await zfs(zfsArgv.rollback(n.snapshot(baseId)));
      return true;
    } catch (error) {
      log('warn', `The working copy could not be reset to slot ${baseId} (${(error as Error).message}); this run compares files by content.`);
      return false;
    }
  };

  return {
    capabilities: { kind: options.cow ? 'zfs' : 'links', hardLinks: !options.cow, copyOnWrite: options.cow, snapshots: options.cow, host: ctx.host.name },
    createIncoming,
    async resumeIncoming(oldId, newId, base) {
      const old = ctx.incomingPath(oldId);
      const n = await ring();
      const d = await datasets();
      const isWork = d.mountpoint(n.work) === old;
      if (options.cow && isWork) {
        // Resumed: it holds what the interrupted run wrote, kept so as not to copy it again.
        await mountAt(d, n.work, ctx.incomingPath(newId));
        const baseClone = base ? cloneAt(d, n, base.entry.id, base.path) : null;
        return { path: ctx.incomingPath(newId), rsyncArgs: workRsyncArgs(false), baseId: baseClone ? base!.entry.id : null, notes: [] };
      }
      if (!options.cow && !isWork && !(await isLeftover(old))) {
        await ctx.host.rename(old, ctx.incomingPath(newId));
        await ctx.host.makeFoldersAccessible(ctx.incomingPath(newId));
        const baseIsFolder = base !== null && cloneAt(d, n, base.entry.id, base.path) === null;
        return { path: ctx.incomingPath(newId), rsyncArgs: base && baseIsFolder ? [`--link-dest=${base.path}`] : [], baseId: base?.entry.id ?? null, notes: [] };
      }
      // Left by a run of the other mode, or only the empty folder of an unmount: start afresh.
      await vacateIncoming(oldId);
      return createIncoming(newId, base);
    },
    discardIncoming: vacateIncoming,
    async stepStatus(step: RotationStep): Promise<StepStatus> {
      const [from, to] = stepPaths(ctx, step);
      const n = await ring();
      const d = await datasets();
      const clone = n.slot(step.id);
      if (d.has(clone)) {
        if (d.mountpoint(clone) === from) return 'pending';
        if (d.mountpoint(clone) !== to) return 'missing'; // mounted elsewhere by hand: not the ring's to move
        const settled = d.mounted(clone) && d.mountpoint(n.work) !== from && !(await isLeftover(from));
        return settled ? 'done' : 'pending';
      }
      if (step.kind === 'promote' && (d.mountpoint(n.work) === from || d.has(n.snapshot(step.id)))) return 'pending';
      return renameStepStatus(ctx, step);
    },
    async applyStep(step: RotationStep) {
      const [from, to] = stepPaths(ctx, step);
      const n = await ring();
      let d = await datasets();
      const clone = n.slot(step.id);
      if (step.kind === 'promote' && !d.has(clone) && (d.mountpoint(n.work) === from || d.has(n.snapshot(step.id)))) {
        // rsync has finished and nothing else writes the working copy: the snapshot is the slot.
        if (!d.has(n.snapshot(step.id))) await zfs(zfsArgv.snapshot(n.snapshot(step.id)));
        await zfs(zfsArgv.clone(n.snapshot(step.id), clone, to));
        d = await datasets();
      }
      if (!d.has(clone)) {
        await ctx.host.rename(from, to);
        return;
      }
      await mountAt(d, clone, to);
      if (step.kind === 'promote' && d.mountpoint(n.work) === from) await zfs(zfsArgv.setMountpoint(n.work, null));
      await removeLeftover(from);
    },
    async settleNewest() {
      // Clones are read-only from birth; a slot that is not mounted (after a failed mount at
      // import) would read as an empty folder, so every slot of the ring is mounted here.
      const n = await ring();
      const d = await datasets();
      for (const name of d.names()) {
        const at = d.mountpoint(name);
        if (name.startsWith(`${n.container}/slot-`) && at !== null && !d.mounted(name)) await mount(name);
      }
    },
    async purgeTrash() {
      const removed: string[] = [];
      const failed: string[] = [];
      const entries = await ctx.host.listNames(ctx.paths.trash);
      if (entries.length === 0) return { removed, failed };
      const n = await ring();
      for (const entry of entries) {
        const path = ctx.host.join(ctx.paths.trash, entry.name);
        try {
          const d = await datasets();
          const clone = n.slot(entry.name);
          if (d.has(clone) && d.mountpoint(clone) === path) await zfs(zfsArgv.destroy(clone));
          // Its origin only once the clone is gone; a snapshot another clone still uses stays.
          if (d.has(n.snapshot(entry.name)) && !d.names().some((x) => x !== clone && d.origin(x) === n.snapshot(entry.name))) {
            await zfs(zfsArgv.destroy(n.snapshot(entry.name)));
          }
          if (await isLeftover(path)) await ctx.host.run('rmdir', ['--', path]);
          else if ((await ctx.host.stat(path))?.dev === (await targetDevice())) await ctx.host.removeTree(path);
          else if (await ctx.host.exists(path)) throw new Error('something other than a slot of this ring is mounted there');
          removed.push(entry.name);
        } catch (error) {
          failed.push(`${entry.name}: ${(error as Error).message}`);
        }
      }
      return { removed, failed };
    },
    async space(entries: RingEntry[], cache) {
      const n = await ring();
      const d = await datasets();
      const result = new Map<string, SlotSpace>();
      for (const e of entries) {
        const clone = cloneAt(d, n, e.id, ctx.slotPath(e.number));
        if (!clone) continue;
        const used = d.bytes(n.snapshot(e.id), 'used');
        const referenced = d.bytes(n.snapshot(e.id), 'referenced');
        const cloneUsed = d.bytes(clone, 'used');
        // Never cached: the newest slot's figure grows as soon as a run rewrites the working copy.
        result.set(e.id, used === null || referenced === null || cloneUsed === null
          ? { id: e.id, exclusiveBytes: null, sharedBytes: null, method: 'not measured', note: `zfs get printed no used/referenced for ${n.snapshot(e.id)}` }
          : { id: e.id, exclusiveBytes: used + cloneUsed, sharedBytes: referenced - used, method: 'ZFS accounting: used of the slot\'s snapshot and clone (freed if deleted now), referenced minus used (shared)', note: null });
      }
      // Hard-linked folders of a mixed ring share files only with each other.
      const folders = entries.filter((e) => !result.has(e.id));
      const measured = await cachedSpace(ctx, folders, cache, async (path, id): Promise<SlotSpace> => {
        const usage = await ctx.host.linkUsage(path);
        return { id, exclusiveBytes: usage.exclusiveBytes, sharedBytes: usage.sharedBytes, method: 'hard-link counts', note: null };
      });
      for (const s of measured) result.set(s.id, s);
      return entries.map((e) => result.get(e.id)!);
    },
  };
}
