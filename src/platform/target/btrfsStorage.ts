import { ShadowSlotsError } from '../../core/errors';
import type { RotationStep } from '../../core/ring';
import type { SlotSpace } from '../../core/target';
import { stepPaths } from './pathSteps';
import { cachedSpace } from './spaceCache';
import type { BaseSlot, IncomingPlan, SlotStorage, StorageContext } from './storage';
import { btrfsTargetArgv, parseFilesystemDu } from './btrfsTool';
import { RECEIVING_PREFIX } from './btrfsSend';
import { stepStatus } from '../../core/ring';

/** btrfs gives every subvolume root this inode number (BTRFS_FIRST_FREE_OBJECTID). */
const SUBVOLUME_ROOT_INODE = 256;

/**
 * rsync's own arguments for a copy-on-write ring: rewrite only the changed blocks of a file inside
 * the writable snapshot of the newest slot. rsync copies local files whole by default, which would
 * rewrite every changed file in full and make the snapshot delta the whole file.
 */
export const COW_RSYNC_ARGS = ['--inplace', '--no-whole-file'];

/**
 * A ring on btrfs. With `cow`, every slot is a read-only subvolume: a run takes a writable snapshot
 * of the newest slot into `.shadow-slots/incoming/<id>`, rsync rewrites only what changed in place,
 * and the rotation renames it to `0` and makes it read-only. Without `cow` (target mode `links`)
 * slots are hard-linked folders as on any file system. Both read and rotate a ring that mixes the
 * two (a hard-linked ring adopted by a copy-on-write one keeps its old folders).
 *
 * Why rotation works: a read-only subvolume can be renamed within its folder (slot N → N+1) but
 * not moved to another folder (its `..` would change), so the promote happens while the new slot
 * is still writable and is sealed right after (`settleNewest`, replayed after a crash), and a drop
 * first clears the read-only flag of the slot it is about to delete.
 */
export function btrfsStorage(ctx: StorageContext, options: { cow: boolean; btrfsPath?: string }): SlotStorage {
  const btrfs = options.btrfsPath ?? 'btrfs';
  const tool = (args: string[]) => ctx.host.run(btrfs, args, { errorCode: 'preflight' });
  const isSubvolume = async (path: string) => (await ctx.host.stat(path))?.ino === SUBVOLUME_ROOT_INODE;
  const isReadOnly = async (path: string) => /ro=true/.test((await tool(btrfsTargetArgv.getReadOnly(path))).stdout);

  const createIncoming = async (id: string, base: BaseSlot | null): Promise<IncomingPlan> => {
    const path = ctx.incomingPath(id);
    if (!options.cow) {
      await ctx.host.mkdirp(path);
      // Hard links cannot cross subvolumes (EXDEV): a folder slot cannot link against a subvolume slot.
      if (base && (await isSubvolume(base.path))) {
        return { path, rsyncArgs: [], baseId: null, notes: [`Slot ${base.entry.number} is a copy-on-write snapshot, which hard links cannot reach: this hard-linked slot is a full copy.`] };
      }
      return { path, rsyncArgs: base ? [`--link-dest=${base.path}`] : [], baseId: base?.entry.id ?? null, notes: [] };
    }
    if (base && (await isSubvolume(base.path))) {
      await tool(btrfsTargetArgv.snapshot(base.path, path));
      return { path, rsyncArgs: COW_RSYNC_ARGS, baseId: base.entry.id, notes: [] };
    }
    // The first copy-on-write slot starts empty: a working copy that shared inodes with a
    // hard-linked slot would be rewritten in place through the link, changing that slot too.
    await tool(btrfsTargetArgv.create(path));
    const notes = base ? [`Slot ${base.entry.number} is a hard-linked folder; copy-on-write slots start with this one, which copies everything once. Older slots are kept as they are.`] : [];
    return { path, rsyncArgs: COW_RSYNC_ARGS, baseId: null, notes };
  };

  /**
   * A slot received by `btrfs send/receive` arrives read-only in the target folder itself (it
   * could not leave `incoming/`), under a hidden name; it is promoted from there.
   */
  const paths = async (step: RotationStep): Promise<[string, string]> => {
    const [from, to] = stepPaths(ctx, step);
    if (step.kind !== 'promote' || (await ctx.host.exists(from))) return [from, to];
    return [ctx.host.join(ctx.paths.target, `${RECEIVING_PREFIX}${step.id}`), to];
  };

  return {
    capabilities: { kind: options.cow ? 'btrfs' : 'links', hardLinks: !options.cow, copyOnWrite: options.cow, snapshots: options.cow, host: ctx.host.name },
    createIncoming,
    async resumeIncoming(oldId, newId, base) {
      const old = ctx.incomingPath(oldId);
      // A run of the other mode left it: a subvolume cannot take hard links to a folder slot, and
      // a folder is not a snapshot of the newest slot. Start afresh rather than mix them.
      if ((await isSubvolume(old)) !== options.cow) {
        await ctx.host.rename(old, ctx.trashPath(oldId));
        return createIncoming(newId, base);
      }
      await ctx.host.rename(old, ctx.incomingPath(newId));
      if (!options.cow) await ctx.host.makeFoldersAccessible(ctx.incomingPath(newId));
      // A copy-on-write working copy torn by the interruption is repaired by rsync itself: a file
      // written half-way has a new mtime, so the quick check sends it again.
      return {
        path: ctx.incomingPath(newId),
        rsyncArgs: options.cow ? COW_RSYNC_ARGS : (base && !(await isSubvolume(base.path)) ? [`--link-dest=${base.path}`] : []),
        baseId: base?.entry.id ?? null,
        notes: [],
      };
    },
    async discardIncoming(id) {
      await ctx.host.rename(ctx.incomingPath(id), ctx.trashPath(id));
    },
    async stepStatus(step) {
      const [from, to] = await paths(step);
      return stepStatus(await ctx.host.exists(from), await ctx.host.exists(to));
    },
    async applyStep(step: RotationStep) {
      const [from, to] = await paths(step);
      // A read-only subvolume cannot leave its folder; the slot is deleted next, so its flag
      // (and the received UUID that goes with it) no longer matters.
      if (step.kind === 'drop' && (await isSubvolume(from)) && (await isReadOnly(from))) {
        await tool(btrfsTargetArgv.setReadOnly(from, false));
      }
      await ctx.host.rename(from, to);
    },
    async settleNewest() {
      const newest = ctx.slotPath(0);
      if ((await isSubvolume(newest)) && !(await isReadOnly(newest))) await tool(btrfsTargetArgv.setReadOnly(newest, true));
    },
    async purgeTrash() {
      const removed: string[] = [];
      const failed: string[] = [];
      for (const entry of await ctx.host.listNames(ctx.paths.trash)) {
        const path = ctx.host.join(ctx.paths.trash, entry.name);
        try {
          // Deleting a subvolume returns at once; btrfs frees its blocks in the background.
          if (await isSubvolume(path)) await tool(btrfsTargetArgv.remove(path));
          else await ctx.host.removeTree(path);
          removed.push(entry.name);
        } catch (error) {
          failed.push(`${entry.name}: ${(error as Error).message}`);
        }
      }
      return { removed, failed };
    },
    space: (entries, cache) => cachedSpace(ctx, entries, cache, async (path, id): Promise<SlotSpace> => {
      if (!(await isSubvolume(path))) {
        const usage = await ctx.host.linkUsage(path);
        return { id, exclusiveBytes: usage.exclusiveBytes, sharedBytes: usage.sharedBytes, method: 'hard-link counts', note: null };
      }
      const du = parseFilesystemDu((await tool(btrfsTargetArgv.du(path))).stdout);
      if (!du) throw new ShadowSlotsError('process', `btrfs filesystem du printed nothing readable for ${path}.`);
      return { id, exclusiveBytes: du.exclusive, sharedBytes: du.shared, method: 'btrfs filesystem du (whole extents)', note: null };
    }),
  };
}
