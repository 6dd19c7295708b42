import { lstatSync } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';

import type { FileIdentity, SlotDirEntry } from '../core/slotEntry';

export type { FileIdentity, SlotDirEntry };

/**
 * Lists one folder of a slot, folders first, then by name, without descending into it: the tree
 * view expands a slot lazily, so a slot with millions of files costs one folder at a time.
 * Entries that vanish while being listed (a slot being dropped) are skipped, not errors.
 */
export async function listSlotDirectory(dir: string): Promise<SlotDirEntry[]> {
  const dirents = await readdir(dir, { withFileTypes: true });
  // One readdir call plus synchronous lstat in small chunks is ~5× faster than opendir iteration
  // and per-entry async lstat (each a libuv pool round trip); yielding between chunks keeps the
  // extension host's event loop responsive (a chunk blocks it for a few milliseconds).
  const entries: SlotDirEntry[] = [];
  for (let i = 0; i < dirents.length; i++) {
    if (i > 0 && i % CHUNK === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const d = dirents[i]!;
    const kind: SlotDirEntry['kind'] = d.isDirectory() ? 'folder' : d.isFile() ? 'file' : d.isSymbolicLink() ? 'symlink' : 'other';
    const s = lstatSync(path.join(dir, d.name), { throwIfNoEntry: false });
    if (!s) continue;
    entries.push({ name: d.name, kind, size: kind === 'folder' ? 0 : s.size, mtimeMs: s.mtimeMs });
  }
  return entries.sort(compareSlotEntries);
}

/** Whether `dir` exists and is a folder (follows symlinks: a target may be reached through one). */
export async function isDirectory(dir: string): Promise<boolean> {
  try { return (await stat(dir)).isDirectory(); } catch { return false; }
}

const CHUNK = 500;

/** Folders first, then by name as file managers show them. */
export function compareSlotEntries(a: SlotDirEntry, b: SlotDirEntry): number {
  const fa = a.kind === 'folder' ? 0 : 1;
  const fb = b.kind === 'folder' ? 0 : 1;
  if (fa !== fb) return fa - fb;
  // Code-unit order is locale-independent and matches what the slot's files are called on disk;
  // case-insensitive first so "README" and "readme.txt" sit together as file managers show them.
  const ia = a.name.toLowerCase(); const ib = b.name.toLowerCase();
  return ia < ib ? -1 : ia > ib ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** The identity of a path (not following a final symlink), or undefined when it does not exist. */
export async function fileIdentity(p: string): Promise<FileIdentity | undefined> {
  try {
    const s = await lstat(p);
    return { size: s.size, mtimeMs: s.mtimeMs, dev: s.dev, ino: s.ino, isFile: s.isFile() };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Whether two identities are the same version: the same inode (a hard link), or the same size and mtime. */
export function sameVersion(a: FileIdentity, b: FileIdentity): boolean {
  if (a.dev === b.dev && a.ino === b.ino) return true;
  // rsync -t keeps mtimes; sub-second precision differs between file systems, so compare whole seconds.
  return a.size === b.size && Math.floor(a.mtimeMs / 1000) === Math.floor(b.mtimeMs / 1000);
}
