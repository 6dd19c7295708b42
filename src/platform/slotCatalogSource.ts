import { shortHash, SlotCatalog, type CatalogEntry } from '../core/slotCatalog';
import type { RingHost } from './target/host';
import { SshHost } from './target/sshHost';
import { readSums } from './treeSums';
import { walkTree } from './treeWalk';
import { yieldWhenDue } from './eventLoopTurns';
import { ShadowSlotsError } from '../core/errors';

/**
 * The catalog of one slot for the ring index, read where the ring lives. A slot with a checksum
 * list is read from that list alone — every file and symlink with its size, time, inode and
 * checksum, recorded when the slot was made — so a new slot costs no walk at all. A slot without
 * one (adopted from a ring made without Shadow Slots, or left without it by an interrupted run)
 * is walked once: sizes, times and inodes only; no file's content is ever read for the index.
 */
export async function readSlotCatalog(host: RingHost, slotFolder: string, sumsFile: string | null, signal?: AbortSignal): Promise<{ catalog: SlotCatalog; from: 'sums' | 'walk' }> {
  if (sumsFile !== null) return { catalog: await fromSums(host, sumsFile, signal), from: 'sums' };
  return { catalog: await fromWalk(host, slotFolder, signal), from: 'walk' };
}

function cancelled(): ShadowSlotsError {
  return new ShadowSlotsError('cancelled', 'Indexing the slots was cancelled.');
}

async function fromSums(host: RingHost, sumsFile: string, signal?: AbortSignal): Promise<SlotCatalog> {
  // On a server the list is fetched once (a few MB for 200,000 files) and read here.
  const local = await host.staged(sumsFile, 'read');
  const items: Array<[string, CatalogEntry]> = [];
  try {
    for await (const s of readSums(local)) {
      items.push([s.path, { kind: s.hash.startsWith('link:') ? 'symlink' : 'file', size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, hash: shortHash(s.hash) }]);
      if ((items.length & 0xffff) === 0 && signal?.aborted) throw cancelled();
    }
  } finally {
    await host.discardStaged(sumsFile);
  }
  return SlotCatalog.fromUnsorted(items);
}

async function fromWalk(host: RingHost, root: string, signal?: AbortSignal): Promise<SlotCatalog> {
  const items: Array<[string, CatalogEntry]> = [];
  const add = (e: { path: string; kind: string; size: number; mtimeMs: number; ino: number }) => {
    if (e.kind === 'file' || e.kind === 'symlink') items.push([e.path, { kind: e.kind, size: e.size, mtimeMs: e.mtimeMs, ino: e.ino, hash: null }]);
  };
  if (host instanceof SshHost) {
    for (const e of await host.walk(root, signal)) add(e);
  } else {
    for await (const e of walkTree(root, signal)) add(e);
  }
  await yieldWhenDue();
  return SlotCatalog.fromUnsorted(items);
}
