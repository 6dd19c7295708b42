import type { RotationStep } from '../../core/ring';
import type { SlotSpace } from '../../core/target';
import { renameStepStatus, stepPaths } from './pathSteps';
import type { BaseSlot, IncomingPlan, SlotStorage, SpaceCache, StorageContext } from './storage';
import { cachedSpace } from './spaceCache';

/**
 * The hard-linked ring (the recipe's): every slot a plain folder, every unchanged file a hard link
 * to the same file in the previous slot (`rsync --link-dest`).
 */
export function linksStorage(ctx: StorageContext, hardLinks = true): SlotStorage {
  const plan = (id: string, base: BaseSlot | null, notes: string[]): IncomingPlan => ({
    path: ctx.incomingPath(id),
    rsyncArgs: base ? [`--link-dest=${base.path}`] : [],
    baseId: base?.entry.id ?? null,
    notes,
  });
  return {
    capabilities: { kind: 'links', hardLinks, copyOnWrite: false, snapshots: false, host: ctx.host.name },
    async createIncoming(id, base) {
      await ctx.host.mkdirp(ctx.incomingPath(id));
      return plan(id, base, []);
    },
    async resumeIncoming(oldId, newId, base) {
      await ctx.host.rename(ctx.incomingPath(oldId), ctx.incomingPath(newId));
      // rsync without -p keeps a copied folder's mode: one copied as 000 would block the resume.
      if (process.platform !== 'win32') await ctx.host.makeFoldersAccessible(ctx.incomingPath(newId));
      return plan(newId, base, []);
    },
    async discardIncoming(id) {
      await ctx.host.rename(ctx.incomingPath(id), ctx.trashPath(id));
    },
    stepStatus: (step) => renameStepStatus(ctx, step),
    async applyStep(step: RotationStep) {
      const [from, to] = stepPaths(ctx, step);
      await ctx.host.rename(from, to);
    },
    async settleNewest() { /* a folder of hard links needs nothing more */ },
    async purgeTrash() {
      const removed: string[] = [];
      const failed: string[] = [];
      for (const entry of await ctx.host.listNames(ctx.paths.trash)) {
        try {
          await ctx.host.removeTree(ctx.host.join(ctx.paths.trash, entry.name));
          removed.push(entry.name);
        } catch (error) {
          failed.push(`${entry.name}: ${(error as Error).message}`);
        }
      }
      return { removed, failed };
    },
    space: (entries, cache: SpaceCache) => cachedSpace(ctx, entries, cache, async (path, id): Promise<SlotSpace> => {
      const usage = await ctx.host.linkUsage(path);
      return { id, exclusiveBytes: usage.exclusiveBytes, sharedBytes: usage.sharedBytes, method: 'hard-link counts', note: null };
    }),
  };
}
