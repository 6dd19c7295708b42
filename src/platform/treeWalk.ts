import { lstat, opendir } from 'node:fs/promises';
import { join } from 'node:path';

export interface WalkEntry {
  /** Path relative to the root, `/`-separated. */
  path: string;
  kind: 'file' | 'symlink' | 'other';
  size: number;
  mtimeMs: number;
  ino: number;
  nlink: number;
}

/**
 * Depth-first walk in a stable order (names sorted within each folder), yielding files and
 * symlinks one at a time: memory stays proportional to one folder, not to the tree.
 * The order is the same on every run, so two walks can be merge-joined (see comparePaths).
 */
export async function* walkTree(root: string, rel = '', signal?: AbortSignal): AsyncGenerator<WalkEntry> {
  let dir;
  try {
    dir = await opendir(rel === '' ? root : join(root, rel));
  } catch (error) {
    // A folder whose name is not valid UTF-8 cannot be reopened by its decoded name; the root must open.
    if (rel === '') throw error;
    return;
  }
  const names: Array<{ name: string; isDir: boolean }> = [];
  for await (const d of dir) names.push({ name: d.name, isDir: d.isDirectory() });
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { name, isDir } of names) {
    if (signal?.aborted) return;
    const childRel = rel === '' ? name : `${rel}/${name}`;
    if (isDir) {
      yield* walkTree(root, childRel, signal);
      continue;
    }
    // Names that are not valid UTF-8 come back mangled and cannot be stat'ed: skip them rather
    // than fail the whole walk (they are neither checksummed nor verified).
    const s = await lstat(join(root, childRel)).catch(() => null);
    if (!s) continue;
    yield { path: childRel, kind: s.isFile() ? 'file' : s.isSymbolicLink() ? 'symlink' : 'other', size: s.size, mtimeMs: Math.trunc(s.mtimeMs), ino: s.ino, nlink: s.nlink };
  }
}

/** The walk's order: component by component, so `a/x` sorts before `a-c` as the walk visits it. */
export function comparePaths(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x !== y) {
      // A folder's contents come where the folder's name sorts among its siblings.
      return x < y ? -1 : 1;
    }
  }
  return pa.length - pb.length;
}
