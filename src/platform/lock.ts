import { hostname } from 'node:os';
import { link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { formatName } from '../core/displayName';
import { ShadowSlotsError } from '../core/errors';
import { exists, isErrno } from './fsutil';
import { join } from 'node:path';

/** Who holds a ring's lock; written into the lock file so a refusal can name the holder. */
export interface LockOwner {
  /** Set on an unreadable lock that is too new to be judged stale. */
  live?: boolean;
  pid: number;
  host: string;
  /** Process start time (Linux /proc), so a recycled pid is not mistaken for the owner. */
  pidStart: string | null;
  command: string;
  startedAt: string;
}

export interface HeldLock {
  owner: LockOwner;
  /** True when a lock left by a crashed run was taken over. */
  recoveredStale: LockOwner | null;
  release(): Promise<void>;
}

const UNREADABLE_LOCK_GRACE_MS = 30_000;

/**
 * A draft lives for the few milliseconds between writing the owner and linking it into place,
 * while its writer does not hold the lock yet: repair under the lock must not take it for the
 * debris of a crash. One this old was left by a crash (on this or another computer sharing the
 * target, so the pid in its name proves nothing).
 */
const ABANDONED_DRAFT_AGE_MS = 60_000;
const LOCK_DRAFT = /^lock\.new-\d+-[0-9a-f]{6}$/;

function lockDraftPath(lockFile: string): string {
  return `${lockFile}.new-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** True for a lock draft (see acquireLock) that its writer can no longer be using. */
export async function isAbandonedLockDraft(dir: string, name: string, now = Date.now()): Promise<boolean> {
  if (!LOCK_DRAFT.test(name)) return false;
  const modified = await stat(join(dir, name)).then((s) => s.mtimeMs, () => null);
  return modified !== null && now - modified > ABANDONED_DRAFT_AGE_MS;
}

async function processStartTime(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime) comes after the parenthesised command, which may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrno(error, 'EPERM');
  }
}

/** A lock is stale when its owner ran on this host and that process no longer exists. */
export async function isStale(owner: LockOwner): Promise<boolean> {
  if (owner.live) return false;
  if (owner.host !== hostname()) return false;
  if (!processAlive(owner.pid)) return true;
  if (owner.pidStart !== null) {
    const now = await processStartTime(owner.pid);
    if (now !== null && now !== owner.pidStart) return true;
  }
  return false;
}

export function describeOwner(owner: LockOwner): string {
  // A lock file is anyone's text who can write the ring (a shared disk, a server): what would not
  // show, or would reorder the message, is written as \uXXXX.
  return `process ${owner.pid} on ${formatName(String(owner.host))} (${formatName(String(owner.command))}, started ${formatName(String(owner.startedAt))})`;
}

/**
 * Takes the lock with O_EXCL. A lock whose owner is gone (crash, kill -9, reboot) is taken over:
 * it is first renamed aside, and the renamed file is checked to be the stale one we judged, so two
 * runs recovering the same stale lock cannot both win.
 */
export async function acquireLock(lockFile: string, command: string, testHooks: LockTestHooks = {}): Promise<HeldLock> {
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    pidStart: await processStartTime(process.pid),
    command,
    startedAt: new Date().toISOString(),
  };
  let recoveredStale: LockOwner | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await publishOwner(lockFile, owner, testHooks)) {
      return { owner, recoveredStale, release: () => releaseLock(lockFile, owner) };
    }
    const current = await readOwner(lockFile);
    if (current === undefined) continue; // vanished between open and read: try again
    if (!(await isStale(current))) {
      throw new ShadowSlotsError('locked', `Another backup of this ring is running: ${describeOwner(current)}.`, {
        hint: current.host === hostname()
          ? 'Wait for it to finish, or cancel it.'
          : `It runs on another computer. If you are sure it is not running, delete ${lockFile}.`,
        details: { owner: current, lockFile },
      });
    }
    const aside = `${lockFile}.stale-${process.pid}-${randomBytes(3).toString('hex')}`;
    try {
      await rename(lockFile, aside);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) continue;
      throw error;
    }
    const moved = await readOwner(aside);
    if (moved && (moved.pid !== current.pid || moved.startedAt !== current.startedAt)) {
      // We moved a fresh lock someone else just took: put it back and report it as held.
      await rename(aside, lockFile).catch(() => undefined);
      continue;
    }
    await rm(aside, { force: true });
    recoveredStale = current;
  }
  throw new ShadowSlotsError('locked', `Could not take the ring's lock ${lockFile}; another run keeps taking it.`, { hint: 'Try again in a moment.' });
}

/** Lets a test act between writing the draft and linking it (e.g. remove it, as a repair might). */
export interface LockTestHooks {
  beforeLink?: (draft: string) => Promise<void>;
}

/**
 * The owner is written to a private draft first and then hard-linked into place: the lock appears
 * complete or not at all, so nobody can read a half-written lock, judge it stale and take it while
 * its owner is running (link(2) fails with EEXIST like O_EXCL). False when a lock already exists.
 *
 * Not fsynced: other processes see the lock through the page cache, and a lock never has to
 * survive a power cut, because its owner does not: after a reboot the lock names a process that is
 * gone, or is empty, which readOwner takes as stale once its grace period is over. Two fsyncs (and
 * the ext4 journal commits they force) per run saved.
 */
async function publishOwner(lockFile: string, owner: LockOwner, testHooks: LockTestHooks): Promise<boolean> {
  // A draft can vanish before it is linked: an older version's repair, or a repair whose clock
  // disagrees with the file server's, takes it for crash debris. Write it again; that is no sign
  // of another run holding the lock, so it does not count against acquireLock's attempts.
  for (let written = 0; written < 5; written++) {
    const draft = lockDraftPath(lockFile);
    const handle = await open(draft, 'wx', 0o644);
    try {
      await handle.writeFile(JSON.stringify(owner) + '\n');
    } finally {
      await handle.close();
    }
    try {
      await testHooks.beforeLink?.(draft);
      await link(draft, lockFile);
      return true;
    } catch (error) {
      if (isErrno(error, 'EEXIST')) return false;
      if (!isErrno(error, 'ENOENT') || (await exists(draft))) throw error;
    } finally {
      await rm(draft, { force: true });
    }
  }
  throw new ShadowSlotsError('locked', `Could not take the ring's lock ${lockFile}: something keeps deleting the lock file being written.`, {
    hint: 'Check for another tool cleaning the .shadow-slots folder, then try again.',
  });
}

export async function readOwner(lockFile: string): Promise<LockOwner | undefined> {
  let text: string;
  try {
    text = await readFile(lockFile, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  try {
    const raw = JSON.parse(text) as Partial<LockOwner>;
    if (typeof raw.pid === 'number' && typeof raw.host === 'string') {
      return { pid: raw.pid, host: raw.host, pidStart: raw.pidStart ?? null, command: raw.command ?? '?', startedAt: raw.startedAt ?? '?' };
    }
  } catch {
    // Unreadable: locks appear whole (see acquireLock), so this is damage, not a writer mid-way.
  }
  // Still, an unreadable lock counts as live for a grace period, in case another version or
  // another tool wrote it non-atomically; after that it is taken as left by a crash.
  const age = await stat(lockFile).then((s) => Date.now() - s.mtimeMs, () => Number.POSITIVE_INFINITY);
  if (age < UNREADABLE_LOCK_GRACE_MS) return { pid: 0, host: hostname(), pidStart: null, command: 'a lock being written', startedAt: new Date(Date.now() - age).toISOString(), live: true };
  return { pid: -1, host: hostname(), pidStart: null, command: 'unreadable lock file', startedAt: '?' };
}

async function releaseLock(lockFile: string, owner: LockOwner): Promise<void> {
  const current = await readOwner(lockFile);
  if (current && current.pid === owner.pid && current.startedAt === owner.startedAt) {
    await rm(lockFile, { force: true });
  }
}
