import { ShadowSlotsError } from '../core/errors';
import type { SlotDirEntry, SlotEntryInfo } from '../core/slotEntry';
import { compareSlotEntries } from '../platform/listing';
import type { RingStore } from '../platform/ringStore';
import { withRing } from '../platform/target/select';
import { settledEntries } from './list';
import { validateRelativePath } from './restore';

/** Files larger than this are not sent to the editor in one message; restore them instead. */
export const MAX_SLOT_FILE_BYTES = 256 * 1024 * 1024;

/**
 * Reading inside a slot for the editor (tree, read-only documents, comparisons), through the
 * ring's host, so it works wherever the ring lives. A path is relative to the slot; no component
 * may be `..` or a symbolic link inside the slot, so nothing outside the slot is ever read as if
 * it were part of the backup.
 */
async function inSlot<T>(target: string, slot: SlotRef, relPath: string, fn: (ring: RingStore, path: string) => Promise<T>): Promise<T> {
  const parts = validateRelativePath(relPath);
  if (typeof slot === 'number' && (!Number.isInteger(slot) || slot < 0)) throw new ShadowSlotsError('invalid-input', `Slot ${JSON.stringify(slot)} is not a slot number.`);
  return withRing(target, 'auto', async (ring) => fn(ring, await locate(ring, target, slot, parts)));
}

async function locate(ring: RingStore, target: string, slot: SlotRef, parts: string[]): Promise<string> {
  let path: string;
  if (typeof slot === 'string') {
    // An unfinished run's folder, by its id: listed so that what a partial copy holds can be seen.
    if (!(await ring.incomingIds()).includes(slot)) throw new ShadowSlotsError('not-found', `No unfinished backup ${JSON.stringify(slot)} in ${target}.`);
    path = ring.incomingPath(slot);
  } else {
    const entries = await settledEntries(ring);
    if (!entries.some((e) => e.number === slot)) throw new ShadowSlotsError('not-found', `Slot ${slot} does not exist in ${target}.`);
    path = ring.slotPath(slot);
  }
  for (const [i, part] of parts.entries()) {
    path = ring.host.join(path, part);
    if (i === parts.length - 1) break;
    const s = await ring.host.stat(path);
    if (s?.kind === 'symlink') throw new ShadowSlotsError('invalid-input', `${parts.slice(0, i + 1).join('/')} is a symbolic link inside slot ${slot}; it is not followed.`);
  }
  return path;
}

/** A complete slot by number, or an unfinished one by its id. */
export type SlotRef = number | string;

/** One folder of a slot, folders first, then by name. */
export async function listSlotFolder(target: string, slot: SlotRef, relPath: string): Promise<SlotDirEntry[]> {
  return inSlot(target, slot, relPath, async (ring, path) => {
    const s = await ring.host.stat(path);
    if (!s) throw new ShadowSlotsError('not-found', `${relPath || '(slot root)'} is not in slot ${slot}.`);
    if (s.kind !== 'folder') throw new ShadowSlotsError('invalid-input', `${relPath} in slot ${slot} is not a folder.`);
    const entries = await ring.host.list(path);
    return entries.map((e) => ({ name: e.name, kind: e.kind, size: e.size, mtimeMs: e.mtimeMs })).sort(compareSlotEntries);
  });
}

/** Kind, size, time and inode of one entry (not following a final symlink), or null when absent. */
export async function statSlotEntry(target: string, slot: SlotRef, relPath: string): Promise<SlotEntryInfo | null> {
  return inSlot(target, slot, relPath, async (ring, path) => {
    const s = await ring.host.stat(path);
    return s ? { kind: s.kind, size: s.size, mtimeMs: s.mtimeMs, dev: s.dev, ino: s.ino, isFile: s.kind === 'file' } : null;
  });
}

/** A file's content from a slot. */
export async function readSlotFile(target: string, slot: SlotRef, relPath: string): Promise<Buffer> {
  return inSlot(target, slot, relPath, async (ring, path) => {
    const s = await ring.host.stat(path);
    if (!s) throw new ShadowSlotsError('not-found', `${relPath} is not in slot ${slot}.`);
    if (s.kind !== 'file') throw new ShadowSlotsError('invalid-input', `${relPath} in slot ${slot} is not a file.`);
    return ring.host.readBytes(path, MAX_SLOT_FILE_BYTES);
  });
}
