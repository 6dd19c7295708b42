import { join } from 'node:path';
import { ShadowSlotsError, invalid } from '../core/errors';
import { describeKind } from '../core/target';
import type { RingEntry } from '../core/ring';
import type { RingStore } from '../platform/ringStore';
import { withRing } from '../platform/target/select';
import { readSums } from '../platform/treeSums';
import type { GoodCopy, RepairFile, RepairResult } from '../rpc/protocol';
import { settledEntries } from './list';
import { changeRing, checkSlotNumber, findSlot, type ChosenSlot, type SlotRef } from './ringChange';
import { hashLocalFile, hashOnHost, linkOnHost, rewriteOnHost } from './repairCopy';
import { validateRelativePath } from './restore';

export interface RepairOptions extends SlotRef {
  /** The damaged files Verify named, relative to the slot. */
  paths: string[];
  /** Only say what would be repaired, from where; write nothing (and take no lock). */
  dryRun: boolean;
  /** The rsync that copies a source file to a ring on a server (the profile's; default: PATH). */
  rsyncPath?: string;
}

/** More than Verify ever names at once (it lists the first 100). */
const MAX_PATHS = 10_000;

/** Hard links mean one damaged file is damaged in every slot that holds it, and one repair mends them all. */
export const SHARED_NOTE = 'Slots share every file that did not change between them (hard links): the same damage shows in every slot holding that file, and repairing it in place repairs all of them.';

/**
 * Repairs damaged files of a slot. A good copy is one whose content has the checksum recorded
 * when the slot was made: the source file, if it still has it, or the same file in another slot
 * (a different inode: the same inode would be just as damaged). The damaged file is rewritten in
 * place, so the slots that share it as a hard link are repaired with it; the result is hashed
 * again before it counts as repaired. A copy-on-write slot is a read-only snapshot and is never
 * written: the result says where the good copy is instead (restore it from there, or delete the
 * slot). Everything is read and written through the ring's host; the source is on this computer.
 */
export async function repairSlot(options: RepairOptions): Promise<RepairResult> {
  checkSlotNumber(options.slot);
  if (!Array.isArray(options.paths) || options.paths.length === 0) throw invalid('Name the damaged files to repair (Verify lists them).');
  if (options.paths.length > MAX_PATHS) throw invalid(`At most ${MAX_PATHS} files can be repaired at once.`);
  const paths = [...new Set(options.paths.map((p) => {
    const parts = validateRelativePath(p);
    if (parts.length === 0) throw invalid('The slot itself is not a file to repair; name its damaged files.');
    return parts.join('/');
  }))];
  if (options.dryRun) {
    return withRing(options.target, 'auto', async (ring) => {
      const entry = findSlot(await settledEntries(ring), options);
      return repairIn(ring, { entry, manifest: await ring.readManifest(entry.id) }, paths, options);
    });
  }
  return changeRing(options, 'repair a slot', (ring, slot) => repairIn(ring, slot, paths, options));
}

async function repairIn(ring: RingStore, slot: ChosenSlot, paths: string[], options: RepairOptions): Promise<RepairResult> {
  const { entry, manifest } = slot;
  if (!manifest?.checksums) {
    throw new ShadowSlotsError('invalid-input', `No checksums were recorded for slot ${entry.number}: nothing tells a damaged file from a good one, so nothing can be repaired.`, { hint: 'Restore the files you need from another slot instead.' });
  }
  const kind = manifest.storage?.kind ?? 'links';
  const readOnly = kind !== 'links';
  const host = ring.host;
  const root = ring.slotPath(entry.number);
  const wanted = new Set(paths);
  const recorded = await recordedSums(ring, entry.id, wanted);
  const slotDev = (await host.stat(root))?.dev ?? -1;
  const others = (await ring.readState()).state.entries.filter((e) => e.number !== entry.number)
    .sort((a, b) => Math.abs(a.number - entry.number) - Math.abs(b.number - entry.number));
  const otherSums = new Map<string, Map<string, Recorded> | null>();
  const sumsOf = async (e: RingEntry) => {
    if (!otherSums.has(e.id)) {
      const m = await ring.readManifest(e.id);
      otherSums.set(e.id, m?.checksums ? await recordedSums(ring, e.id, wanted) : null);
    }
    return otherSums.get(e.id)!;
  };

  const files: RepairFile[] = [];
  for (const path of paths) {
    const file: RepairFile = { path, damage: 'changed', from: null, sharedWith: [], outcome: 'failed', note: null };
    files.push(file);
    const rec = recorded.get(path);
    const want = rec?.hash;
    if (rec === undefined || want === undefined) { file.note = 'It is not in the checksum list recorded when the slot was made (Verify calls such a file unexpected: it is not damage).'; continue; }
    if (want.startsWith('link:')) { file.note = 'It is a symbolic link: restore it from another slot instead.'; continue; }
    const at = host.join(root, path);
    const st = await host.stat(at);
    file.damage = st ? 'changed' : 'missing';
    if (st && st.kind !== 'file') { file.note = `It is now a ${st.kind}, not a file: restore it from another slot instead.`; continue; }
    if (st && (await hashOnHost(host, root, path)) === want) { file.outcome = 'intact'; file.note = 'It matches its recorded checksum (again).'; continue; }
    if (st) {
      for (const e of others) {
        const s = await host.stat(host.join(ring.slotPath(e.number), path));
        if (s && s.dev === st.dev && s.ino === st.ino) file.sharedWith.push(e.number);
      }
      file.sharedWith.sort((a, b) => a - b);
    }
    const found = await goodCopy(ring, manifest.source, path, rec, st, slotDev, others, sumsOf);
    file.from = found?.from ?? null;
    if (readOnly) {
      file.outcome = 'read-only';
      file.note = `The slot is a read-only ${describeKind(kind)} snapshot and is never changed in place${file.from ? `; a good copy is in ${copyName(file.from)}` : ''}.`;
      continue;
    }
    if (!file.from) { file.outcome = 'no-good-copy'; file.note = 'Neither the source nor another slot holds this file with its recorded checksum.'; continue; }
    if (options.dryRun) { file.outcome = 'planned'; continue; }
    try {
      const from = file.from.kind === 'source' ? { onHost: false, path: file.from.path } : { onHost: true, path: host.join(ring.slotPath(file.from.number), path) };
      if (found?.sameFile) await linkOnHost(host, from.path, at);
      else await rewriteOnHost(host, from, at, st !== null, options.rsyncPath);
      if (found?.sameFile) file.note = `Linked again to the very file slot ${(file.from as { number: number }).number} holds, as it was when the slot was made.`;
      const now = await hashOnHost(host, root, path);
      file.outcome = now === want ? 'repaired' : 'failed';
      if (now !== want) file.note = 'After the copy it still differs from its recorded checksum (the good copy changed meanwhile?); run Verify and try again.';
    } catch (error) {
      file.note = `Copying the good copy failed: ${(error as Error).message}`;
    }
  }
  const repaired = files.filter((f) => f.outcome === (options.dryRun ? 'planned' : 'repaired')).length;
  const note = readOnly
    ? `Slot ${entry.number} is a read-only ${describeKind(kind)} snapshot: nothing in it is changed in place (that is what keeps it safe). Restore the good copies named here from where they are, or delete the slot.`
    : files.some((f) => f.sharedWith.length > 0) ? SHARED_NOTE : null;
  return { slot: entry.number, id: entry.id, readOnly, files, repaired, note };
}

/** A file's line in a slot's checksum list: its content hash and the inode it had then. */
interface Recorded { hash: string; ino: number }

/** The recorded checksums of `wanted` paths in slot `id`'s list (read through the host). */
async function recordedSums(ring: RingStore, id: string, wanted: Set<string>): Promise<Map<string, Recorded>> {
  const found = new Map<string, Recorded>();
  const file = ring.sumsPath(id);
  const local = await ring.host.staged(file, 'read');
  try {
    for await (const line of readSums(local)) if (wanted.has(line.path)) found.set(line.path, { hash: line.hash, ino: line.ino });
  } finally {
    if (local !== file) await ring.host.discardStaged(file);
  }
  return found;
}

/**
 * Where a good copy is. A file gone from a hard-linked slot whose very inode another slot still
 * holds intact is linked to it again (`sameFile`), as it was when the slot was made; otherwise the
 * source file if it still has the recorded checksum, else the nearest other slot whose copy has it.
 */
async function goodCopy(
  ring: RingStore, source: string, path: string, want: Recorded, damaged: { dev: number; ino: number } | null, slotDev: number,
  others: RingEntry[], sumsOf: (e: RingEntry) => Promise<Map<string, Recorded> | null>,
): Promise<{ from: GoodCopy; sameFile: boolean } | null> {
  const host = ring.host;
  const candidates: Array<{ e: RingEntry; dev: number; ino: number }> = [];
  for (const e of others) {
    if ((await sumsOf(e))?.get(path)?.hash !== want.hash) continue;
    const s = await host.stat(host.join(ring.slotPath(e.number), path));
    // The same inode is the same damaged file, seen through a hard link.
    if (s?.kind === 'file' && !(damaged && s.dev === damaged.dev && s.ino === damaged.ino)) candidates.push({ e, dev: s.dev, ino: s.ino });
  }
  const intact = async (e: RingEntry) => (await hashOnHost(host, ring.slotPath(e.number), path)) === want.hash;
  for (const c of candidates) {
    // Inode numbers repeat across file systems (and btrfs snapshots): the same device too.
    if (damaged === null && c.dev === slotDev && c.ino === want.ino && (await intact(c.e))) return { from: { kind: 'slot', number: c.e.number, id: c.e.id }, sameFile: true };
  }
  if (source !== '') {
    const full = join(source, ...path.split('/'));
    if ((await hashLocalFile(full).catch(() => null)) === want.hash) return { from: { kind: 'source', path: full }, sameFile: false };
  }
  for (const c of candidates) if (await intact(c.e)) return { from: { kind: 'slot', number: c.e.number, id: c.e.id }, sameFile: false };
  return null;
}

/** "the source (/home/me/project/x)", "slot 2". */
export function copyName(from: GoodCopy): string {
  return from.kind === 'source' ? `the source (${from.path})` : `slot ${from.number}`;
}
