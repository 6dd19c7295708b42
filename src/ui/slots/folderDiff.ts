import { lstat, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { sameVersion, type FileIdentity } from '../../platform/listing';

/** How a folder of the workspace differs from the same folder in a slot (paths relative to it, `/`-separated). */
export interface FolderDiff {
  /** Files in both whose version differs (size or modification time, as rsync decides). */
  changed: string[];
  /** Files only the slot has (deleted or excluded since). */
  onlyInSlot: string[];
  /** Files only the workspace has (new since), among those the backup would take. */
  onlyInWorkspace: string[];
  /** True when `limit` differences were found and the walk stopped. */
  truncated: boolean;
}

export interface FolderDiffOptions {
  /** Paths (relative to the compared folder) the backup leaves out; they are not reported as new. */
  excluded?: (rel: string, isDir: boolean) => boolean;
  /** Stop after this many differences (default 500: a multi-diff editor with more helps nobody). */
  limit?: number;
}

type Entry = { isDir: boolean; id: FileIdentity | undefined };

async function entries(dir: string): Promise<Map<string, Entry>> {
  const out = new Map<string, Entry>();
  let names: string[];
  try { names = await readdir(dir); } catch { return out; }
  for (const name of names) {
    try {
      const s = await lstat(path.join(dir, name));
      out.set(name, { isDir: s.isDirectory(), id: s.isFile() ? { size: s.size, mtimeMs: s.mtimeMs, dev: s.dev, ino: s.ino, isFile: true } : undefined });
    } catch { /* vanished while listing */ }
  }
  return out;
}

/**
 * Compares a workspace folder with its copy in a slot, one folder level at a time (symlinks and
 * special files are not followed or compared). Files are "changed" when rsync's quick check would
 * copy them again: a different size or modification time.
 */
export async function diffFolders(slotDir: string, workDir: string, options: FolderDiffOptions = {}): Promise<FolderDiff> {
  const limit = options.limit ?? 500;
  const excluded = options.excluded ?? (() => false);
  const diff: FolderDiff = { changed: [], onlyInSlot: [], onlyInWorkspace: [], truncated: false };
  const count = () => diff.changed.length + diff.onlyInSlot.length + diff.onlyInWorkspace.length;
  const stack: string[] = [''];
  while (stack.length > 0) {
    const rel = stack.pop()!;
    const [inSlot, inWork] = await Promise.all([entries(path.join(slotDir, rel)), entries(path.join(workDir, rel))]);
    const names = [...new Set([...inSlot.keys(), ...inWork.keys()])].sort();
    for (const name of names) {
      if (count() >= limit) { diff.truncated = true; return diff; }
      const child = rel === '' ? name : `${rel}/${name}`;
      const s = inSlot.get(name);
      const w = inWork.get(name);
      if (w && !s) {
        if (excluded(child, w.isDir)) continue;
        if (w.isDir) stack.push(child); else if (w.id) diff.onlyInWorkspace.push(child);
        continue;
      }
      if (s && !w) {
        if (s.isDir) stack.push(child); else if (s.id) diff.onlyInSlot.push(child);
        continue;
      }
      if (!s || !w) continue;
      if (s.isDir || w.isDir) {
        if (s.isDir && w.isDir) stack.push(child);
        continue;
      }
      if (s.id && w.id && !sameVersion(s.id, w.id)) diff.changed.push(child);
    }
  }
  for (const list of [diff.changed, diff.onlyInSlot, diff.onlyInWorkspace]) list.sort();
  return diff;
}
