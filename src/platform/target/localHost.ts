import { constants, lstatSync } from 'node:fs';
import { cp, lstat, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ShadowSlotsError } from '../../core/errors';
import { fileSystemType } from '../fsProbe';
import { exists, isErrno, makeFoldersOwnerAccessible, TORN_WRITE, writeFileAtomic } from '../fsutil';
import { acquireLock, isAbandonedLockDraft, isStale, readOwner } from '../lock';
import { run } from '../runner';
import { walkTree } from '../treeWalk';
import type { HostEntry, HostStat, RingHost } from './host';

function kindOf(s: { isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }): HostEntry['kind'] {
  return s.isDirectory() ? 'folder' : s.isFile() ? 'file' : s.isSymbolicLink() ? 'symlink' : 'other';
}

/** This machine: Node's file system calls and the process runner. */
export const localHost: RingHost = {
  name: null,
  join,
  async readText(path) {
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return null;
      throw error;
    }
  },
  writeTextAtomic: (path, text) => writeFileAtomic(path, text),
  remove: (path) => rm(path, { force: true }),
  removeTree,
  rename,
  exists,
  mkdirp: async (path) => { await mkdir(path, { recursive: true }); },
  async list(path) {
    let dirents;
    try {
      dirents = await readdir(path, { withFileTypes: true });
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw error;
    }
    const entries: HostEntry[] = [];
    for (const d of dirents) {
      // Entries that vanish while being listed (a slot being dropped) are skipped, not errors.
      const s = lstatSync(join(path, d.name), { throwIfNoEntry: false });
      if (s) entries.push({ name: d.name, kind: kindOf(s), size: s.isDirectory() ? 0 : s.size, mtimeMs: s.mtimeMs });
    }
    return entries;
  },
  async listNames(path) {
    try {
      return (await readdir(path, { withFileTypes: true })).map((d) => ({ name: d.name, kind: kindOf(d) }));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw error;
    }
  },
  async stat(path): Promise<HostStat | null> {
    try {
      const s = await lstat(path);
      return { kind: kindOf(s), size: s.size, mtimeMs: s.mtimeMs, dev: s.dev, ino: s.ino, nlink: s.nlink };
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return null;
      throw error;
    }
  },
  async readBytes(path, maxBytes) {
    // O_NOFOLLOW: a symlink swapped in since the caller checked the path is refused, not followed.
    const handle = await open(path, process.platform === 'win32' ? 'r' : constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const { size } = await handle.stat();
      if (size > maxBytes) throw new ShadowSlotsError('invalid-input', `${path} is ${size} bytes, more than the ${maxBytes} that can be opened this way.`, { hint: 'Restore it, or open it from the slot folder with another program.' });
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  },
  run: (command, args, options) => run(command, args, options),
  fileSystem: fileSystemType,
  acquireLock: (lockFile, command) => acquireLock(lockFile, command),
  async lockHolder(lockFile) {
    const owner = await readOwner(lockFile);
    return owner === undefined ? null : { owner, live: !(await isStale(owner)) };
  },
  async removeTornWrites(dir) {
    let removed = 0;
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      // Lock drafts are the exception: a run trying to take the lock writes one right now.
      if (TORN_WRITE.test(name) || (await isAbandonedLockDraft(dir, name))) {
        await rm(join(dir, name), { force: true });
        removed++;
      }
    }
    return removed;
  },
  async linkUsage(root) {
    let exclusiveBytes = 0;
    let sharedBytes = 0;
    for await (const entry of walkTree(root)) {
      if (entry.kind !== 'file') continue;
      if (entry.nlink <= 1) exclusiveBytes += entry.size;
      else sharedBytes += entry.size;
    }
    return { exclusiveBytes, sharedBytes };
  },
  makeFoldersAccessible: makeFoldersOwnerAccessible,
  staged: async (path) => path,
  publishStaged: async () => undefined,
  discardStaged: async () => undefined,
  rsyncDestination: (path) => path,
  rsyncTransportArgs: () => [],
  copyOut: (path, to) => cp(path, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true, errorOnExist: true, force: false }),
  close: async () => undefined,
};

/**
 * Deletes a big tree of hard links. `rm -rf` walks it with constant memory; Node's recursive
 * fs.rm keeps the whole tree in flight (69 MB for a 20,000-file slot against 2 MB). Read-only
 * folders (a Go module cache, say) get owner write access first, or `rm` fails as non-root.
 */
async function removeTree(tree: string): Promise<void> {
  if (process.platform === 'win32') {
    await rm(tree, { recursive: true, force: true, maxRetries: 3 });
    return;
  }
  try {
    await run('rm', ['-rf', '--', tree]);
  } catch {
    await makeFoldersOwnerAccessible(tree);
    await run('rm', ['-rf', '--', tree]);
  }
}
