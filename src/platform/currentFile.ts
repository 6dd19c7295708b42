import { lstat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { CatalogKind } from '../core/slotCatalog';
import { shortHash } from '../core/slotCatalog';
import { isErrno } from './fsutil';
import { hashEntry } from './treeSums';

/** Today's version of a file (the workspace copy), as versions in slots are compared with it. */
export interface CurrentFile {
  path: string;
  exists: boolean;
  kind: CatalogKind | 'folder' | 'other' | null;
  size: number | null;
  mtimeMs: number | null;
  /** Its checksum (16 hex digits, as the index keeps them), computed once when first asked for. */
  hash(): Promise<string | null>;
}

/** lstat of `path` (a final symlink is the link itself, as in a slot), and a lazy checksum by the same function the checksum lists use. */
export async function currentFile(path: string): Promise<CurrentFile> {
  const s = await lstat(path).catch((error: unknown) => {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return null;
    throw error;
  });
  const kind = !s ? null : s.isFile() ? 'file' : s.isSymbolicLink() ? 'symlink' : s.isDirectory() ? 'folder' : 'other';
  let hashed: Promise<string | null> | undefined;
  return {
    path,
    exists: s !== null,
    kind,
    size: s && (kind === 'file' || kind === 'symlink') ? s.size : null,
    mtimeMs: s ? Math.trunc(s.mtimeMs) : null,
    hash: () => {
      if (kind !== 'file' && kind !== 'symlink') return Promise.resolve(null);
      hashed ??= hashEntry(dirname(path), { path: basename(path), kind })
        .then((h) => shortHash(h), () => null);
      return hashed;
    },
  };
}
