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

/**
 * The walk's order, component by component (`a/x` before `a-c`, as the walk visits them), computed
 * without splitting: a `/` ranks below every other character. Called once per file when two
 * checksum lists are merged, so it must not allocate.
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x === 47) return -1;
    if (y === 47) return 1;
    return x - y;
  }
  return a.length - b.length;
}
