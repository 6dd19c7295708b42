import { existsSync } from 'node:fs';
import { access, constants, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ShadowSlotsError } from '../core/errors';
import { isErrno, makeFoldersOwnerAccessible } from '../platform/fsutil';
import { acquireLock, isAbandonedLockDraft, isStale, readOwner } from '../platform/lock';
import type { RingStore } from '../platform/ringStore';
import { log, run, startDetached } from '../platform/runner';

/**
 * The slots a rotation dropped, waiting to be deleted: each is a folder `trash/<id>` (renamed there
 * inside the journaled rotation, or an unfinished copy discarded), so the trash folder itself is
 * the purge's journal. Deleting them is slow for a big tree of hard links (rsnapshot #54, #101),
 * so it never delays a backup: a detached process does it after the backup's own process is done,
 * and whatever it did not finish (killed, power cut) stays in the trash until the next run or the
 * next listing starts another. The trash is never listed as a slot.
 */
export interface DroppedSlots {
  trash: string;
  /** A dropped slot's metadata files (manifest, change log, checksums): deleted after its folder. */
  metadataOf(id: string): string[];
  /** The purge's own state: its lock (one purge at a time) and the failures of its last pass. */
  stateDir: string;
}

export function droppedSlotsOf(ring: RingStore): DroppedSlots {
  return {
    trash: ring.paths.trash,
    metadataOf: (id) => [ring.manifestPath(id), ring.changeLogPath(id), ring.sumsPath(id)],
    stateDir: join(ring.paths.meta, 'purge'),
  };
}

const lockOf = (slots: DroppedSlots): string => join(slots.stateDir, 'lock');
const failuresOf = (slots: DroppedSlots): string => join(slots.stateDir, 'failed.json');

/**
 * Deletes every dropped slot in the trash, each on its own, so one stubborn tree does not keep the
 * others: the folder first, then its metadata. Read-only folders (a Go module cache, say) get
 * owner write access first, or `rm` fails as non-root.
 */
export async function purgeDropped(slots: DroppedSlots): Promise<{ removed: string[]; failed: string[] }> {
  const removed: string[] = [];
  const failed: string[] = [];
  for (const id of await trashEntries(slots)) {
    const tree = join(slots.trash, id);
    try {
      try {
        await removeTree(tree);
      } catch {
        await makeFoldersOwnerAccessible(tree);
        await removeTree(tree);
      }
      for (const file of slots.metadataOf(id)) await rm(file, { force: true });
      removed.push(id);
    } catch (error) {
      failed.push(`${id}: ${(error as Error).message}`);
    }
  }
  return { removed, failed };
}

/**
 * The purge process's work: takes the purge lock (another purge running → nothing to do) and
 * deletes dropped slots until the trash is empty; slots a backup drops meanwhile are taken too.
 * The failures of the last pass are kept for the next backup to report.
 */
export async function runPurge(slots: DroppedSlots): Promise<{ ran: boolean; removed: number; failed: string[] }> {
  await mkdir(slots.stateDir, { recursive: true });
  for (const name of await readdir(slots.stateDir)) {
    if (await isAbandonedLockDraft(slots.stateDir, name)) await rm(join(slots.stateDir, name), { force: true });
  }
  let removed = 0;
  let ran = false;
  for (;;) {
    let lock;
    try {
      lock = await acquireLock(lockOf(slots), 'purge dropped slots');
    } catch (error) {
      if (error instanceof ShadowSlotsError && error.code === 'locked') return { ran, removed, failed: [] };
      throw error;
    }
    ran = true;
    let failed: string[];
    try {
      const pass = await purgeDropped(slots);
      removed += pass.removed.length;
      failed = pass.failed;
      if (failed.length > 0) await writeFile(failuresOf(slots), JSON.stringify({ at: new Date().toISOString(), failed }, null, 2) + '\n');
      else await rm(failuresOf(slots), { force: true });
    } finally {
      await lock.release();
    }
    // A slot dropped after this pass listed the trash, while its purge found this one's lock: ours
    // to take. A failed pass stops here, or a tree that cannot be deleted would loop forever.
    if (failed.length > 0 || (await trashEntries(slots)).length === 0) return { ran, removed, failed };
  }
}

/**
 * Starts a detached purge when the trash holds dropped slots and no purge is running; returns
 * warnings about slots an earlier purge could not delete. Where the bundled CLI cannot be found
 * (the engine run from its sources, in tests), the purge runs here and is awaited.
 */
export async function startPurge(slots: DroppedSlots, options: { inProcess?: 'when-no-cli' | 'never' } = {}): Promise<string[]> {
  const warnings = await earlierFailures(slots);
  if ((await trashEntries(slots)).length === 0 || (await purgeRunning(slots))) return warnings;
  const cli = join(__dirname, 'cli.js');
  if (!existsSync(cli)) {
    if (options.inProcess === 'never') return warnings;
    const { failed } = await runPurge(slots);
    return failed.length > 0 ? [...warnings, failureWarning(slots, failed)] : warnings;
  }
  // The CLI's purge command rebuilds DroppedSlots from the ring's target folder.
  const target = join(slots.trash, '..', '..');
  if (startDetached(process.execPath, [cli, 'purge', '--target', target]) === undefined) {
    log('warn', 'Could not start the purge of dropped slots; the next run tries again.');
  }
  return warnings;
}

/**
 * For a listing: restarts the purge of slots an interrupted run or purge left in the trash. Never
 * fails the listing, never waits for the purge, and does nothing for a user who cannot write the
 * ring (a listing of someone else's ring, or of a read-only disk).
 */
export async function resumePurge(ring: RingStore): Promise<void> {
  const slots = droppedSlotsOf(ring);
  try {
    if ((await trashEntries(slots)).length > 0 && (await canPurge(slots))) await startPurge(slots, { inProcess: 'never' });
  } catch (error) {
    log('warn', `Could not restart the purge of dropped slots: ${(error as Error).message}`);
  }
}

/** True when no purge is running and no dropped slot waits (for tests and the benchmark). */
export async function purgeIdle(slots: DroppedSlots): Promise<boolean> {
  return (await trashEntries(slots)).length === 0 && !(await purgeRunning(slots));
}

async function purgeRunning(slots: DroppedSlots): Promise<boolean> {
  const owner = await readOwner(lockOf(slots)).catch(() => undefined);
  return owner !== undefined && !(await isStale(owner));
}

async function trashEntries(slots: DroppedSlots): Promise<string[]> {
  try {
    return await readdir(slots.trash);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return [];
    throw error;
  }
}

async function earlierFailures(slots: DroppedSlots): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(failuresOf(slots), 'utf8');
  } catch {
    return [];
  }
  try {
    const { failed } = JSON.parse(text) as { failed: string[] };
    return Array.isArray(failed) && failed.length > 0 ? [failureWarning(slots, failed)] : [];
  } catch {
    return [];
  }
}

function failureWarning(slots: DroppedSlots, failed: string[]): string {
  return `Could not delete ${failed.length} dropped slot(s) in ${slots.trash}: ${failed.join('; ')}. The next run tries again.`;
}

/** True when this user may write the ring's metadata (a purge started otherwise could only fail). */
async function canPurge(slots: DroppedSlots): Promise<boolean> {
  return access(join(slots.stateDir, '..'), constants.W_OK).then(() => true, () => false);
}

/**
 * Deletes a big tree of hard links. `rm -rf` walks it with constant memory; Node's recursive
 * fs.rm keeps the whole tree in flight (69 MB for a 20,000-file slot against 2 MB).
 */
async function removeTree(tree: string): Promise<void> {
  if (process.platform === 'win32') {
    await rm(tree, { recursive: true, force: true, maxRetries: 3 });
    return;
  }
  await run('rm', ['-rf', '--', tree]);
}
