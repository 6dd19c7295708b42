import { cp, lstat, mkdir, readdir, realpath, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ShadowSlotsError, invalid } from '../core/errors';
import { exists, isErrno } from '../platform/fsutil';
import { withRing } from '../platform/target/select';
import type { RingStore } from '../platform/ringStore';
import { settledEntries } from './list';
import type { RestoreResult } from '../rpc/protocol';
import type { HostStat } from '../platform/target/host';
import { checkSlotNumber, findSlot } from './ringChange';

export interface RestoreOptions {
  target: string;
  slot: number;
  /** Path inside the slot, relative, `/`-separated; '' or '.' restores the whole slot. */
  path: string;
  /** Folder to restore into: the item lands at `<to>/<path>`. */
  to: string;
  overwrite: boolean;
  /** Where replaced versions are kept; default `<target>/.shadow-slots/replaced/<time>/`. */
  keepAsideDir?: string;
}

/** Checks a user-supplied relative path: no absolute paths, no `..`, no NUL. */
export function validateRelativePath(p: string): string[] {
  if (typeof p !== 'string') throw invalid('The path to restore must be text.');
  if (p.includes('\0')) throw invalid('The path to restore contains a NUL character.');
  // A backslash is a separator only on Windows; on Linux "a\\b" is a legitimate file name.
  const windows = process.platform === 'win32';
  const normal = windows ? p.replace(/\\/g, '/') : p;
  if (normal.startsWith('/') || (windows && /^[a-zA-Z]:/.test(normal)) || isAbsolute(p)) {
    throw invalid(`The path to restore ${JSON.stringify(p)} must be relative to the slot (e.g. src/app.ts).`);
  }
  const parts = normal.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw invalid(`The path to restore ${JSON.stringify(p)} contains "..", which could reach outside the slot.`, 'Give the path as it appears inside the slot.');
  return parts;
}

function inside(root: string, candidate: string): boolean {
  const rel = relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * Restores a file or folder from a slot. Never writes outside `to` (a symlink in the slot or in
 * the destination cannot redirect it), never replaces anything unless `overwrite`, and keeps
 * every replaced version aside so the restore can be undone.
 */
export async function restore(options: RestoreOptions): Promise<RestoreResult> {
  const parts = validateRelativePath(options.path);
  if (parts.length === 0) throw invalid('Give the path of a file or folder inside the slot to restore (e.g. src/app.ts); a whole slot is restored into a new or empty folder (CLI: restore without --path).');
  if (!Number.isInteger(options.slot) || options.slot < 0) throw invalid(`Slot ${JSON.stringify(options.slot)} is not a slot number.`);
  return withRing(options.target, 'auto', (ring) => restoreFrom(ring, options, parts));
}

/**
 * Where `parts` is inside slot `slot` on the ring's host, after checking the slot exists (and is
 * still slot `id`, when given) and that no component inside the slot is a symbolic link (a
 * symlinked folder in the slot could point anywhere). Throws not-found when it is not there.
 */
async function locateInSlot(ring: RingStore, ref: { target: string; slot: number; id?: string | undefined }, parts: string[]): Promise<{ source: string; kind: HostStat['kind'] }> {
  const entries = await settledEntries(ring);
  if (ref.id !== undefined) findSlot(entries, ref);
  else if (!entries.some((e) => e.number === ref.slot)) {
    throw new ShadowSlotsError('not-found', `Slot ${ref.slot} does not exist in ${ref.target}.`, { hint: `Existing slots: ${entries.map((e) => e.number).join(', ') || 'none'}.` });
  }
  const host = ring.host;
  const slotRoot = host.name === null ? await realpath(ring.slotPath(ref.slot)) : ring.slotPath(ref.slot);
  const source = host.join(slotRoot, ...parts);
  let walk = slotRoot;
  for (const [i, part] of parts.slice(0, -1).entries()) {
    walk = host.join(walk, part);
    const s = await host.stat(walk).catch(() => null);
    if (!s) break;
    if (s.kind === 'symlink') throw invalid(`${parts.join('/')} goes through a symbolic link inside the slot (${parts.slice(0, i + 1).join('/')}); refusing to follow it.`, 'Restore the link itself, or the folder it points to.');
  }
  const sourceStat = await host.stat(source).catch((error: unknown) => {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return null;
    throw error;
  });
  if (!sourceStat) throw new ShadowSlotsError('not-found', `${parts.join('/') || '(slot root)'} is not in slot ${ref.slot}.`);
  return { source, kind: sourceStat.kind };
}

async function restoreFrom(ring: RingStore, options: RestoreOptions, parts: string[]): Promise<RestoreResult> {
  const host = ring.host;
  const { source } = await locateInSlot(ring, options, parts);

  let toRoot: string;
  try {
    toRoot = await realpath(options.to);
  } catch {
    throw invalid(`The restore destination ${options.to} does not exist.`, 'Create it first, or choose an existing folder.');
  }
  const destination = join(toRoot, ...parts);
  // Existing ancestors of the destination must resolve inside the destination root.
  let ancestor = dirname(destination);
  while (!(await exists(ancestor))) ancestor = dirname(ancestor);
  if (!inside(toRoot, await realpath(ancestor))) {
    throw invalid(`Restoring ${parts.join('/')} would write outside ${toRoot} (a folder on the way is a link elsewhere).`, 'Restore into another folder.');
  }
  const destinationExists = await exists(destination);
  if (destinationExists) {
    if (!options.overwrite) {
      throw new ShadowSlotsError('invalid-input', `${destination} already exists; it was not overwritten.`, { hint: 'Confirm overwriting (CLI: --overwrite); the current version is kept aside so the restore can be undone.' });
    }
  }

  // Milliseconds plus a random suffix: two restores within one second keep both replaced versions.
  const stamp = `${new Date().toISOString().replace(/[-:]/g, '').replace('.', '-')}-${randomBytes(2).toString('hex')}`;
  const temp = join(dirname(destination), `.shadow-slots-restore-${randomBytes(4).toString('hex')}`);
  await mkdir(dirname(destination), { recursive: true });
  let keptAside: string | null = null;
  try {
    await host.copyOut(source, temp);
    if (destinationExists) {
      // A ring on a server keeps replaced versions on this machine, inside the restore folder.
      const asideRoot = options.keepAsideDir ?? (host.name === null ? join(ring.paths.meta, 'replaced', stamp) : join(toRoot, '.shadow-slots-replaced', stamp));
      keptAside = join(asideRoot, ...parts);
      await mkdir(dirname(keptAside), { recursive: true });
      await moveAcross(destination, keptAside);
    }
    await rename(temp, destination);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  return { restored: [destination], keptAside };
}

/** rename, or copy + delete when the keep-aside folder is on another file system. */
async function moveAcross(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    if (!isErrno(error, 'EXDEV')) throw error;
    await cp(from, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    await rm(from, { recursive: true, force: true });
  }
}

export interface RestoreIntoOptions {
  target: string;
  slot: number;
  /** When given, the slot must still be this one (numbers move with every backup). */
  id?: string | undefined;
  /** A folder inside the slot, relative; '' restores the whole slot. */
  path: string;
  /** Absolute: a folder that does not exist yet (its parent must), or an empty one. */
  into: string;
}

/**
 * Restores a whole slot, or one of its folders, to a place the user chose: what the slot (folder)
 * holds lands directly in `into`. Nothing is ever overwritten or merged: `into` must be new or
 * empty, must not be a symbolic link (whose target the user did not choose) and must not be
 * inside the ring, where it would turn into a slot or write into one. The copy goes to a hidden
 * folder first and is moved into place only when complete, so a failed restore leaves nothing
 * half-copied behind.
 */
export async function restoreInto(options: RestoreIntoOptions): Promise<RestoreResult> {
  const parts = validateRelativePath(options.path);
  checkSlotNumber(options.slot);
  if (typeof options.into !== 'string' || !isAbsolute(options.into)) throw invalid(`The folder to restore into must be an absolute path, got ${JSON.stringify(options.into)}.`);
  const into = await checkRestoreFolder(options.into);
  return withRing(options.target, 'auto', async (ring) => {
    if (ring.host.name === null && inside(await realpath(ring.target), into.real)) {
      throw invalid(`${options.into} is inside the ring ${ring.target}; a restore there would become part of the ring.`, 'Choose a folder outside the backup target. Nothing was written.');
    }
    const { source, kind } = await locateInSlot(ring, options, parts);
    if (kind !== 'folder') throw invalid(`${parts.join('/')} in slot ${options.slot} is not a folder; restore a file with --path (it lands at DIR/${parts.join('/')}).`);
    const temp = into.exists ? join(into.real, `.shadow-slots-restore-${randomBytes(4).toString('hex')}`) : join(dirname(into.real), `.shadow-slots-restore-${randomBytes(4).toString('hex')}`);
    try {
      await ring.host.copyOut(source, temp);
      if (!into.exists) {
        await rename(temp, into.real);
      } else {
        for (const name of await readdir(temp)) {
          // Something appeared in the folder while the copy ran: never replace it.
          if (await exists(join(into.real, name))) throw invalid(`${join(into.real, name)} appeared while the slot was being copied; it was not replaced.`, 'Restore into a folder nothing else writes to.');
          await rename(join(temp, name), join(into.real, name));
        }
        await rmdir(temp);
      }
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
    return { restored: [into.real], keptAside: null };
  });
}

/** The folder a whole slot goes into: its real path, and whether it exists (then it is empty). */
async function checkRestoreFolder(into: string): Promise<{ real: string; exists: boolean }> {
  const st = await lstat(into).catch((error: unknown) => {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  });
  if (st?.isSymbolicLink()) throw invalid(`${into} is a symbolic link; a restore would write wherever it points.`, 'Choose the folder it points to, or another folder. Nothing was written.');
  if (st && !st.isDirectory()) throw invalid(`${into} exists and is not a folder.`, 'Choose a new or empty folder. Nothing was written.');
  if (st) {
    const names = await readdir(into);
    if (names.length > 0) {
      throw invalid(`${into} is not empty (${names.length} item${names.length === 1 ? '' : 's'}: ${names.slice(0, 3).map((n) => JSON.stringify(n)).join(', ')}${names.length > 3 ? ', …' : ''}); a restore never merges into or overwrites a folder.`, 'Choose a new or empty folder. Nothing was written.');
    }
    return { real: await realpath(into), exists: true };
  }
  const parent = await realpath(dirname(into)).catch(() => null);
  if (parent === null) throw invalid(`The folder ${dirname(into)}, where ${basename(into)} would be made, does not exist.`, 'Create it first, or choose another place. Nothing was written.');
  return { real: join(parent, basename(into)), exists: false };
}
