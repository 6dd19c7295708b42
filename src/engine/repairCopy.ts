import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { chmod, copyFile, link, lstat, lutimes, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isErrno } from '../platform/fsutil';
import { locateRsync } from '../platform/rsyncTool';
import { run } from '../platform/runner';
import type { RingHost } from '../platform/target/host';
import { SshHost } from '../platform/target/sshHost';

/**
 * How a repair reads and writes: a slot's files through the ring's host (hashed where they are:
 * on a server by its own sha256sum), the source on this computer. A damaged file is rewritten in
 * place — same inode — so every slot that holds it as a hard link is repaired with it.
 */

/** sha256 of a file on this computer, as treeSums records it. */
export async function hashLocalFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  // O_NOFOLLOW: a symlink put where a file was is refused, never hashed as the file it points to.
  const handle = await open(path, process.platform === 'win32' ? 'r' : constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** sha256 of a slot's file `rel` under `root` on the ring's host; null when it cannot be read. */
export async function hashOnHost(host: RingHost, root: string, rel: string): Promise<string | null> {
  if (host instanceof SshHost) return (await host.hashFiles(root, [rel])).get(rel) ?? null;
  return hashLocalFile(host.join(root, rel)).catch(() => null);
}

/** Where a good copy is read from: a path on this computer (the source) or on the ring's host (a slot). */
export type CopyFrom = { onHost: boolean; path: string };

/**
 * Writes the good copy's bytes over `to` on the ring's host, in place when `to` exists (its inode,
 * so its hard links, stay), as a new file otherwise; the modification time is the good copy's.
 * A read-only file gets owner write access for the write and its mode back afterwards.
 */
export async function rewriteOnHost(host: RingHost, from: CopyFrom, to: string, exists: boolean, rsyncPath: string | undefined): Promise<void> {
  if (host instanceof SshHost) {
    if (!exists) await host.mkdirp(dirname(to));
    const copy = async () => {
      if (from.onHost) await host.run('cp', ['--preserve=timestamps', '--', from.path, to]);
      // --inplace: rsync writes into the existing file instead of renaming a new one over it.
      else await run((await locateRsync(rsyncPath)).path, ['-t', '-I', '--inplace', ...host.rsyncTransportArgs(), '--', from.path, host.rsyncDestination(to)]);
    };
    try {
      await copy();
    } catch (error) {
      if (!exists || !/Permission denied/i.test(`${(error as Error).message} ${(error as { stderrTail?: string }).stderrTail ?? ''}`)) throw error;
      await host.run('chmod', ['u+w', '--', to]);
      try { await copy(); } finally { await host.run('chmod', ['u-w', '--', to]); }
    }
    return;
  }
  const mtime = (await lstat(from.path)).mtime;
  if (!exists) {
    await mkdir(dirname(to), { recursive: true });
    await copyFile(from.path, to, constants.COPYFILE_EXCL);
  } else {
    await writeInPlace(from.path, to);
  }
  await lutimes(to, new Date(), mtime);
}

async function writeInPlace(from: string, to: string): Promise<void> {
  const flags = process.platform === 'win32' ? 'r+' : constants.O_WRONLY | constants.O_NOFOLLOW;
  let restoreMode: number | null = null;
  let handle;
  try {
    handle = await open(to, flags);
  } catch (error) {
    if (!isErrno(error, 'EACCES') && !isErrno(error, 'EPERM')) throw error;
    const mode = (await lstat(to)).mode & 0o7777;
    await chmod(to, mode | 0o200);
    restoreMode = mode;
    handle = await open(to, flags);
  }
  try {
    await handle.truncate(0);
    let position = 0;
    for await (const chunk of createReadStream(from)) {
      const buffer = chunk as Buffer;
      await handle.write(buffer, 0, buffer.length, position);
      position += buffer.length;
    }
    await handle.sync();
  } finally {
    await handle.close();
    if (restoreMode !== null) await chmod(to, restoreMode);
  }
}

/** Makes `to` (missing) a hard link to `from` again, both in slots on the ring's host. */
export async function linkOnHost(host: RingHost, from: string, to: string): Promise<void> {
  await host.mkdirp(dirname(to));
  if (host instanceof SshHost) await host.run('ln', ['--', from, to]);
  else await link(from, to);
}
