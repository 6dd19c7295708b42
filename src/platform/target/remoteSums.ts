import { createHash } from 'node:crypto';
import { ShadowSlotsError } from '../../core/errors';
import { BatchedWriter } from '../batchedWriter';
import { formatSumLine, readSums, sumsOrderOf, type SumLine } from '../treeSums';
import { compareRsyncOrder } from '../../core/rsyncOrder';
import { comparePaths } from '../treeWalk';
import type { RemoteWalkEntry, SshHost } from './sshHost';

/**
 * Checksums of a slot on a server, in the same file format and walk order as treeSums writes
 * locally, so a ring made remotely verifies locally and vice versa. The slot is listed by rsync
 * on the server, and a file is hashed only when it is not a hard link of the previous slot's
 * (POSIX cannot print inode numbers in bulk, so "the same inode" is "more than one link, and the
 * previous slot's file of that path had this size"; an inode of 0 is recorded, which a local run
 * reading this list treats as "hash again"). Hashes are computed where sshHash.ts says.
 */

type RemoteEntry = RemoteWalkEntry;

function linkHash(entry: RemoteEntry): string {
  return 'link:' + createHash('sha256').update(entry.target).digest('hex');
}

async function hashesOf(host: SshHost, root: string, entries: RemoteEntry[], signal?: AbortSignal): Promise<Map<string, string>> {
  const files = entries.filter((e) => e.kind === 'file').map((e) => e.path);
  const hashes = await host.hashFiles(root, files, signal);
  for (const e of entries) if (e.kind === 'symlink') hashes.set(e.path, linkHash(e));
  return hashes;
}

/** As treeSums.writeSlotSums, for a slot on `host` (outFile and previousSums are server paths). */
export async function writeRemoteSlotSums(host: SshHost, slotRoot: string, outFile: string, previousSums: string | null, signal?: AbortSignal, onGone?: (path: string) => Promise<void> | undefined): Promise<{ files: number; hashed: number }> {
  const entries = (await host.walk(slotRoot, signal)).filter((e) => e.kind !== 'other');
  const previousLocal = previousSums ? await host.staged(previousSums, 'read') : null;
  const reused = new Map<string, string>();
  try {
    const previous = previousLocal ? readSums(previousLocal) : undefined;
    // A list written here (format 2) is in rsync's order, not the walk's: merged in its own order.
    const compare = previousLocal ? await orderOf(previousLocal) : comparePaths;
    let prev = previous ? (await previous.next()).value as SumLine | undefined : undefined;
    for (const entry of compare === comparePaths ? entries : [...entries].sort((a, b) => compare(a.path, b.path))) {
      while (prev && previous && compare(prev.path, entry.path) < 0) {
        await onGone?.(prev.path);
        prev = (await previous.next()).value as SumLine | undefined;
      }
      if (prev && previous && prev.path === entry.path) {
        if (entry.linked && prev.size === entry.size && !prev.hash.startsWith('link:')) reused.set(entry.path, prev.hash);
        prev = (await previous.next()).value as SumLine | undefined;
      }
    }
    for (; prev && previous; prev = (await previous.next()).value as SumLine | undefined) await onGone?.(prev.path);
  } finally {
    if (previousSums) await host.discardStaged(previousSums);
  }
  const fresh = await hashesOf(host, slotRoot, entries.filter((e) => !reused.has(e.path)), signal);
  const local = await host.staged(outFile, 'write');
  const out = await BatchedWriter.open(local, 'write');
  let closed = false;
  try {
    for (const entry of entries) {
      const hash = reused.get(entry.path) ?? fresh.get(entry.path);
      if (hash === undefined) throw new ShadowSlotsError('process', `${entry.path} in ${slotRoot} on ${host.name} could not be hashed (it vanished or cannot be read).`);
      await out.write(formatSumLine({ hash, size: entry.size, mtimeMs: entry.mtimeMs, ino: 0, path: entry.path }));
    }
    closed = true;
    await out.close({ sync: true });
  } catch (error) {
    if (!closed) await out.close().catch(() => undefined);
    await host.discardStaged(outFile);
    throw error;
  }
  await host.publishStaged(outFile);
  return { files: entries.length, hashed: fresh.size };
}

/** What verify reports: files hashed and compared, and the paths that differ. */
export interface RemoteVerifyCounts {
  checked: number;
  missing: string[];
  changed: string[];
  extra: string[];
}

/** Re-hashes every file of a slot on `host` (on the server) and compares with its recorded sums. */
export async function verifyRemoteSlot(host: SshHost, root: string, sumsFile: string, signal?: AbortSignal, maxListed = 100): Promise<RemoteVerifyCounts> {
  const entries = (await host.walk(root, signal)).filter((e) => e.kind !== 'other');
  const hashes = await hashesOf(host, root, entries, signal);
  const result: RemoteVerifyCounts = { checked: 0, missing: [], changed: [], extra: [] };
  const push = (list: string[], p: string) => { if (list.length < maxListed) list.push(p); };
  const local = await host.staged(sumsFile, 'read');
  try {
    const recorded = readSums(local);
    const compare = await orderOf(local);
    let want = (await recorded.next()).value as SumLine | undefined;
    for (const actual of compare === comparePaths ? entries : [...entries].sort((a, b) => compare(a.path, b.path))) {
      while (want && compare(want.path, actual.path) < 0) {
        push(result.missing, want.path);
        want = (await recorded.next()).value as SumLine | undefined;
      }
      if (want && want.path === actual.path) {
        result.checked++;
        if (hashes.get(actual.path) !== want.hash) push(result.changed, actual.path);
        want = (await recorded.next()).value as SumLine | undefined;
      } else {
        push(result.extra, actual.path);
      }
    }
    for (; want; want = (await recorded.next()).value as SumLine | undefined) push(result.missing, want.path);
  } finally {
    await host.discardStaged(sumsFile);
  }
  return result;
}

/** How a checksum list is ordered: the walk's (written on a server, or before format 2) or rsync's. */
async function orderOf(list: string): Promise<(a: string, b: string) => number> {
  return (await sumsOrderOf(list)) === 'rsync' ? compareRsyncOrder : comparePaths;
}
