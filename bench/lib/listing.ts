import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listSlotDirectory } from '../../src/platform/listing';
import { median } from './stats';

/** Scenario 5: one slot folder of `n` entries, listed through the tree view's own code. */
export interface ListingResult {
  entries: number;
  firstMs: number;
  medianMs: number;
  samples: number;
}

/** A slot-shaped folder (`<root>/0/big`) of `n` entries: mostly files, some folders and symlinks. */
export async function makeListingFolder(root: string, n: number): Promise<string> {
  const dir = join(root, '0', 'big');
  await mkdir(dir, { recursive: true });
  const body = Buffer.alloc(512, 'x');
  for (let i = 0; i < n; i++) {
    const name = `entry-${String(i).padStart(5, '0')}`;
    if (i % 25 === 0) await mkdir(join(dir, `${name}.d`));
    else if (i % 101 === 0) await symlink('../elsewhere', join(dir, `${name}.lnk`));
    else await writeFile(join(dir, `${name}.txt`), body);
  }
  return dir;
}

export async function measureListing(dir: string, expected: number, samples = 15): Promise<ListingResult> {
  const time = async (): Promise<number> => {
    const t = performance.now();
    const entries = await listSlotDirectory(dir);
    const ms = performance.now() - t;
    if (entries.length !== expected) throw new Error(`listSlotDirectory returned ${entries.length} entries, expected ${expected}`);
    return ms;
  };
  const firstMs = await time();
  const runs: number[] = [];
  for (let i = 0; i < samples; i++) runs.push(await time());
  return { entries: expected, firstMs, medianMs: median(runs), samples };
}
