import { existsSync } from 'node:fs';
import { access, constants, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ENGINE_NODE_FLAGS } from '../core/engineNodeFlags';
import { ShadowSlotsError } from '../core/errors';
import { isErrno } from '../platform/fsutil';
import { acquireLock, isAbandonedLockDraft, isStale, readOwner } from '../platform/lock';
import type { RingStore } from '../platform/ringStore';
import { log, startDetached } from '../platform/runner';

/**
 * The slots a rotation dropped wait in the trash (`trash/<id>`, renamed there inside the journaled
 * rotation, or an unfinished copy discarded), so the trash folder itself is the purge's journal;
 * the trash is never listed as a slot. Every purge deletes them the way the ring's storage kind
 * does (RingStore.purgeTrash: `rm -rf` of a hard-linked tree, `btrfs subvolume delete`, `zfs
 * destroy`, on the ring's host). Where that is slow — a big tree of hard links on this machine
 * (rsnapshot #54, #101) — it never delays a backup: a detached process does it after the backup's
 * own process is done, and whatever it did not finish (killed, power cut) stays in the trash until
 * the next run or the next listing starts another. Snapshot deletions return at once and a ring on
 * a server is purged there, through the run's own connection, before the run ends.
 */

/** The purge's own state on this machine: its lock (one purge at a time) and its last failures. */
const stateDirOf = (ring: RingStore): string => join(ring.paths.meta, 'purge');
const lockOf = (ring: RingStore): string => join(stateDirOf(ring), 'lock');
const failuresOf = (ring: RingStore): string => join(stateDirOf(ring), 'failed.json');

/** Whether this ring's dropped slots are deleted by a detached process (see above). */
export function purgesDetached(ring: RingStore): boolean {
  return ring.host.name === null && ring.storage.capabilities.hardLinks;
}

/**
 * The purge's work on a ring on this machine: takes the purge lock (another purge running →
 * nothing to do) and deletes dropped slots until the trash is empty; slots a backup drops
 * meanwhile are taken too. The failures of the last pass are kept for the next backup to report.
 */
export async function runPurge(ring: RingStore): Promise<{ ran: boolean; removed: number; failed: string[] }> {
  const stateDir = stateDirOf(ring);
  try {
    // Not recursive: a purge started for a ring that has been deleted since must not make its
    // folders again (a user who deleted the ring, or a test's cleanup, finds them back).
    await mkdir(stateDir);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { ran: false, removed: 0, failed: [] };
    if (!isErrno(error, 'EEXIST')) throw error;
  }
  for (const name of await readdir(stateDir)) {
    if (await isAbandonedLockDraft(stateDir, name)) await rm(join(stateDir, name), { force: true });
  }
  let removed = 0;
  let ran = false;
  for (;;) {
    let lock;
    try {
      lock = await acquireLock(lockOf(ring), 'purge dropped slots');
    } catch (error) {
      if (error instanceof ShadowSlotsError && error.code === 'locked') return { ran, removed, failed: [] };
      throw error;
    }
    ran = true;
    let failed: string[];
    try {
      const pass = await ring.purgeTrash();
      removed += pass.removed;
      failed = pass.failed;
      if (failed.length > 0) await writeFile(failuresOf(ring), JSON.stringify({ at: new Date().toISOString(), failed }, null, 2) + '\n');
      else await rm(failuresOf(ring), { force: true });
    } finally {
      await lock.release();
    }
    // A slot dropped after this pass listed the trash, while its purge found this one's lock: ours
    // to take. A failed pass stops here, or a tree that cannot be deleted would loop forever.
    if (failed.length > 0 || (await trashEntries(ring)).length === 0) return { ran, removed, failed };
  }
}

/**
 * Deletes the dropped slots after a backup (the caller holds the ring's lock): starts a detached
 * purge where deleting is slow (purgesDetached) and none is running, purges in this process
 * otherwise. Returns warnings about slots this or an earlier purge could not delete. Where the
 * bundled CLI cannot be found (the engine run from its sources, in tests), the purge runs here and
 * is awaited; `inProcess: 'never'` (a listing) then leaves it to the next run.
 */
export async function startPurge(ring: RingStore, options: { inProcess?: 'when-no-cli' | 'never' } = {}): Promise<string[]> {
  if (ring.host.name !== null) {
    // On the server, through this run's connection: a detached process would need its own.
    const { failed } = await ring.purgeTrash();
    return failed.length > 0 ? [failureWarning(ring, failed)] : [];
  }
  const warnings = await earlierFailures(ring);
  if ((await trashEntries(ring)).length === 0 || (await purgeRunning(ring))) return warnings;
  const cli = join(__dirname, 'cli.js');
  if (!purgesDetached(ring) || !existsSync(cli)) {
    if (options.inProcess === 'never') return warnings;
    const { failed } = await runPurge(ring);
    return failed.length > 0 ? [...warnings, failureWarning(ring, failed)] : warnings;
  }
  // The CLI's purge command opens the ring again, with the storage its file system calls for; this
  // process's node (Electron as node under the extension: its env says so) with the engine's flags.
  if (startDetached(process.execPath, [...ENGINE_NODE_FLAGS, cli, 'purge', '--target', ring.target]) === undefined) {
    log('warn', 'Could not start the purge of dropped slots; the next run tries again.');
  }
  return warnings;
}

/**
 * For a listing: restarts the detached purge of slots an interrupted run or purge left in the
 * trash. Never fails the listing, never waits for the purge, never deletes in the listing's own
 * process, and does nothing for a user who cannot write the ring (a listing of someone else's
 * ring, or of a read-only disk) or for a ring whose slots are not purged detached.
 */
export async function resumePurge(ring: RingStore): Promise<void> {
  if (!purgesDetached(ring)) return;
  try {
    if ((await trashEntries(ring)).length > 0 && (await canPurge(ring))) await startPurge(ring, { inProcess: 'never' });
  } catch (error) {
    log('warn', `Could not restart the purge of dropped slots: ${(error as Error).message}`);
  }
}

/** True when no purge is running and no dropped slot waits (for tests and the benchmark). */
export async function purgeIdle(ring: RingStore): Promise<boolean> {
  return (await trashEntries(ring)).length === 0 && !(await purgeRunning(ring));
}

async function purgeRunning(ring: RingStore): Promise<boolean> {
  const owner = await readOwner(lockOf(ring)).catch(() => undefined);
  return owner !== undefined && !(await isStale(owner));
}

async function trashEntries(ring: RingStore): Promise<string[]> {
  return (await ring.host.listNames(ring.paths.trash)).map((e) => e.name);
}

async function earlierFailures(ring: RingStore): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(failuresOf(ring), 'utf8');
  } catch {
    return [];
  }
  try {
    const { failed } = JSON.parse(text) as { failed: string[] };
    return Array.isArray(failed) && failed.length > 0 ? [failureWarning(ring, failed)] : [];
  } catch {
    return [];
  }
}

function failureWarning(ring: RingStore, failed: string[]): string {
  return `Could not delete ${failed.length} dropped slot(s) in ${ring.paths.trash}: ${failed.join('; ')}. The next run tries again.`;
}

/** True when this user may write the ring's metadata (a purge started otherwise could only fail). */
async function canPurge(ring: RingStore): Promise<boolean> {
  return access(ring.paths.meta, constants.W_OK).then(() => true, () => false);
}
