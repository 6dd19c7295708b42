import { cp, mkdir, realpath, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ShadowSlotsError, invalid } from '../core/errors';
import { exists, isErrno } from '../platform/fsutil';
import { withRing } from '../platform/target/select';
import type { RingStore } from '../platform/ringStore';
import { settledEntries } from './list';
import type { RestoreResult } from '../rpc/protocol';

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
  if (parts.length === 0) throw invalid('Give the path of a file or folder inside the slot to restore (e.g. src/app.ts); a whole slot is restored by copying its folder.');
  if (!Number.isInteger(options.slot) || options.slot < 0) throw invalid(`Slot ${JSON.stringify(options.slot)} is not a slot number.`);
  return withRing(options.target, 'auto', (ring) => restoreFrom(ring, options, parts));
}

async function restoreFrom(ring: RingStore, options: RestoreOptions, parts: string[]): Promise<RestoreResult> {
  const entries = await settledEntries(ring);
  if (!entries.some((e) => e.number === options.slot)) {
    throw new ShadowSlotsError('not-found', `Slot ${options.slot} does not exist in ${options.target}.`, { hint: `Existing slots: ${entries.map((e) => e.number).join(', ') || 'none'}.` });
  }
  const host = ring.host;
  const slotRoot = host.name === null ? await realpath(ring.slotPath(options.slot)) : ring.slotPath(options.slot);
  const source = host.join(slotRoot, ...parts);
  // Every component inside the slot must be real (a symlinked folder in the slot could point anywhere).
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
  if (!sourceStat) throw new ShadowSlotsError('not-found', `${parts.join('/') || '(slot root)'} is not in slot ${options.slot}.`);

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

