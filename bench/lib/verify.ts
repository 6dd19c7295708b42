import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/platform/runner';

/**
 * A slot counts only if it is a faithful copy of the source: rsync compares every file by content
 * (`-c`, a dry run with `--delete`) and itemizes anything that differs, is missing or is extra;
 * an independent walk counts the slot's regular files against the benchmark's own file list.
 */
export interface SlotCheck {
  ok: boolean;
  files: number;
  expectedFiles: number;
  /** The first differences rsync itemized (empty when ok). */
  differences: string[];
}

/** Pure: the itemized lines of `rsync -rcn --delete -i` that mean the copy differs. */
export function differencesFrom(itemized: string): string[] {
  return itemized.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '' && /^(\*deleting|[<>ch.][fdLDS])/.test(l));
}

export async function countFiles(root: string): Promise<number> {
  let n = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.isDirectory()) { if (!(dir === root && e.name === ENGINE_SNAPSHOT_DIR)) await walk(join(dir, e.name)); }
      else if (e.isFile()) n++;
    }
  };
  await walk(root);
  return n;
}

/**
 * The engine's btrfs provider keeps its snapshots in this folder at the root of the source's
 * subvolume (it cannot put them elsewhere: snapshots stay on their file system), and excludes it
 * from its own copy; the folder is not part of the user's data, so it is not compared.
 */
export const ENGINE_SNAPSHOT_DIR = '.shadow-slots-snapshots';

export async function checkSlot(source: string, slot: string, expectedFiles: number, signal?: AbortSignal): Promise<SlotCheck> {
  const argv = ['-rcn', '--delete', '-i', `--exclude=/${ENGINE_SNAPSHOT_DIR}/`, `${source}/`, `${slot}/`];
  // A difference is exit 0 with itemized lines; a failed rsync (killed from outside, as tests on a
  // shared machine sometimes do) says nothing about the slot, so it is retried, twice at most.
  const compare = async (): Promise<string> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await run('rsync', argv, { signal, maxBuffer: 64 * 1024 })).stdout;
      } catch (e) {
        if (signal?.aborted || attempt >= 3) throw e;
      }
    }
  };
  // Both read the slot; together they keep the quick run within its minute.
  const [stdout, files] = await Promise.all([compare(), countFiles(slot)]);
  const differences = differencesFrom(stdout).slice(0, 5);
  return { ok: differences.length === 0 && files === expectedFiles, files, expectedFiles, differences };
}
