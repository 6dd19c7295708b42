import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, rename, rm, stat, lstat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** Permissions of the new file (default 0o644; 0o600 for a profile that names the user's folders). */
  mode?: number;
  /**
   * Creates missing parent folders, durably. Never for ring metadata: a target whose disk was
   * unplugged must fail, not be recreated as an empty folder on the system disk.
   */
  makeFolders?: boolean;
}

/**
 * The one way this project replaces a file: write a temp file beside it, fsync, rename over, fsync
 * the folder. A crash leaves either the old or the new content, never a torn or empty file (the
 * ring's journal and the schedule registry both depend on it). On a failure the temp file is gone.
 */
export async function writeFileAtomic(file: string, content: string | Buffer, options: AtomicWriteOptions = {}): Promise<void> {
  if (options.makeFolders) await makeFoldersDurably(dirname(file));
  const tmp = tempPathBeside(file);
  try {
    const handle = await open(tmp, 'w', options.mode ?? 0o644);
    try {
      await handle.writeFile(content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  await syncDir(dirname(file));
}

/** mkdir -p, then fsync the parent of every folder it made: a new folder is an entry in its parent. */
async function makeFoldersDurably(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let made = dir; ; made = dirname(made)) {
    await syncDir(dirname(made));
    if (made === first || dirname(made) === made) break;
  }
}

/**
 * A private temporary name next to `file`. Only the lock holder writes ring metadata, so a repair
 * removes any such name a crashed writer left behind (TORN_WRITE).
 */
export function tempPathBeside(file: string): string {
  return `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** Names made by tempPathBeside. */
export const TORN_WRITE = /\.tmp-\d+-[0-9a-f]{8}$/;

/** Makes a rename durable; not supported on every platform (Windows), where it is a no-op. */
export async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some file systems (e.g. network mounts) refuse fsync on a directory; the rename still happened.
  } finally {
    await handle?.close();
  }
}

export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return false;
    throw error;
  }
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return false;
    throw error;
  }
}

/** Opens a file for reading; null when it does not exist (a list not written yet reads as empty). */
export async function openIfExists(file: string): Promise<FileHandle | null> {
  try {
    return await open(file, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
}

export function isErrno(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/**
 * Gives the owner rwx on every folder of a tree (never following links). rsync without -p keeps a
 * copied folder's mode, so a folder copied as 000 would block resuming into it, reading it, and
 * deleting it as non-root.
 */
export async function makeFoldersOwnerAccessible(root: string): Promise<void> {
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    const st = await lstat(dir).catch(() => null);
    if (!st?.isDirectory()) continue;
    if ((st.mode & 0o700) !== 0o700) await chmod(dir, (st.mode & 0o7777) | 0o700).catch(() => undefined);
    for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) if (e.isDirectory()) pending.push(join(dir, e.name));
  }
}
