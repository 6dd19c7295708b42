import { stepStatus, type RotationStep, type StepStatus } from '../../core/ring';
import type { StorageContext } from './storage';

/**
 * Rotation steps of kinds whose slots are folders (or subvolumes) moved by rename: a drop moves
 * the slot to the trash, a move renumbers it, a promote makes the in-progress slot 0.
 */
export function stepPaths(ctx: StorageContext, step: RotationStep): [string, string] {
  switch (step.kind) {
    case 'drop': return [ctx.slotPath(step.from), ctx.trashPath(step.id)];
    case 'move': return [ctx.slotPath(step.from), ctx.slotPath(step.to)];
    case 'promote': return [ctx.incomingPath(step.id), ctx.slotPath(0)];
  }
}

/** Judged only by which of the step's two paths exist, so replaying after a crash is safe. */
export async function renameStepStatus(ctx: StorageContext, step: RotationStep): Promise<StepStatus> {
  const [from, to] = stepPaths(ctx, step);
  return stepStatus(await ctx.host.exists(from), await ctx.host.exists(to));
}

/** In-progress slots of runs that did not finish, newest first (ids sort by time). */
export async function incomingIds(ctx: StorageContext): Promise<string[]> {
  const entries = await ctx.host.listNames(ctx.paths.incoming);
  return entries.filter((e) => e.kind === 'folder').map((e) => e.name).sort().reverse();
}
