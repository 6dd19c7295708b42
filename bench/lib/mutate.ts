import { rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { createRng, subSeed } from './random';
import { BASE_MTIME, forEachLimit, writeFileFromPool, type FileEntry, type TreePlan } from './tree';

/**
 * One night's worth of change: 1 % of the files rewritten (new content, new mtime), plus a few
 * files added and a few deleted, as a working day leaves a drive.
 */
export interface MutationPlan {
  round: number;
  rewrite: FileEntry[];
  add: FileEntry[];
  remove: string[];
  /** The mtime every touched file gets: distinct per round, so rsync's quick check always sees it. */
  mtime: Date;
}

export interface MutationSpec {
  /** Fraction of files rewritten (0.01 = 1 %). */
  changeFraction: number;
  /** Fraction of files added, and the same fraction deleted. */
  churnFraction: number;
}

export const DEFAULT_MUTATION: MutationSpec = { changeFraction: 0.01, churnFraction: 0.0005 };

/** Pure: picks the files of round `round` from the current file list. */
export function planMutation(files: readonly FileEntry[], dirs: readonly string[], round: number, seed: number, spec: MutationSpec = DEFAULT_MUTATION): MutationPlan {
  if (!Number.isInteger(round) || round < 1) throw new Error(`round must be a positive integer, got ${round}`);
  const rng = createRng(subSeed(seed, 3, round));
  const n = files.length;
  const changeCount = Math.min(n, Math.max(1, Math.round(n * spec.changeFraction)));
  const churn = Math.max(1, Math.round(n * spec.churnFraction));
  const removeCount = Math.min(churn, Math.max(0, n - changeCount));
  const chosen = new Set<number>();
  const pick = (): number => {
    for (;;) {
      const i = rng.int(n);
      if (!chosen.has(i)) { chosen.add(i); return i; }
    }
  };
  const rewrite: FileEntry[] = [];
  for (let k = 0; k < changeCount; k++) {
    const f = files[pick()]!;
    // Sizes move a little, as edited files do; an empty file gets some content.
    const size = Math.max(1, Math.round(f.size * (0.9 + 0.2 * rng.next())));
    rewrite.push({ path: f.path, size, offset: rng.int(4 * 1024 * 1024) });
  }
  const remove: string[] = [];
  for (let k = 0; k < removeCount; k++) remove.push(files[pick()]!.path);
  const add: FileEntry[] = [];
  for (let k = 0; k < churn; k++) {
    const d = dirs.length === 0 ? -1 : rng.int(dirs.length + 1) - 1;
    const name = `added-r${round}-${k}.dat`;
    add.push({ path: d < 0 ? name : `${dirs[d]}/${name}`, size: 1 + rng.int(64 * 1024), offset: rng.int(4 * 1024 * 1024) });
  }
  const mtime = new Date(BASE_MTIME.getTime() + round * 3600_000);
  return { round, rewrite, add, remove, mtime };
}

/** Applies a mutation to the tree on disk and returns the new file list. */
export async function applyMutation(root: string, plan: TreePlan, m: MutationPlan, pool: Buffer, signal?: AbortSignal): Promise<TreePlan> {
  // A round-specific header makes the new content differ from the old even where the pool slice
  // happens to repeat.
  const header = Buffer.from(`round ${m.round}\n`);
  await forEachLimit([...m.rewrite, ...m.add], 32, async (f) => {
    const p = join(root, f.path);
    await writeFileFromPool(p, f, pool, header);
    await utimes(p, m.mtime, m.mtime);
  }, signal);
  for (const r of m.remove) await rm(join(root, r));
  const removed = new Set(m.remove);
  const sizes = new Map(m.rewrite.map((f) => [f.path, f]));
  const files = plan.files.filter((f) => !removed.has(f.path)).map((f) => sizes.get(f.path) ?? f);
  return { dirs: plan.dirs, files: [...files, ...m.add] };
}
