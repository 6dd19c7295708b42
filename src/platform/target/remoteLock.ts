import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ShadowSlotsError } from '../../core/errors';
import { shQuote } from '../../core/posixQuote';
import { helperRemoteScript } from '../../core/serverScripts';
import { describeOwner, type HeldLock, type LockOwner } from '../lock';
import type { SshConnection } from './sshConnection';
import { parseRsyncListing, parseServerNow, RSYNC_LIST, SERVER_NOW } from './sshListing';

/** As the local lock: an unreadable lock younger than this may be one being written by hand. */
const UNREADABLE_LOCK_GRACE_S = 30;

/**
 * The ring's lock on a server, with the local lock's file format and rules (lock.ts), judged on
 * the server that holds it. The holder is the connection's remote shell: it lives exactly as
 * long as the ssh session, so a client killed with -9, a dropped connection or a rebooted laptop
 * leaves a lock whose holder the server no longer runs — stale, taken over by the next run —
 * while a run that is still connected keeps it, whoever asks.
 */
export async function acquireRemoteLock(conn: SshConnection, lockFile: string, command: string): Promise<HeldLock> {
  const owner: LockOwner = {
    pid: conn.info.shellPid,
    host: conn.info.hostname,
    pidStart: conn.info.shellStart,
    // The server's shell holds the lock; the message also names the computer that started it.
    command: `${command} from ${hostname()} (pid ${process.pid})`,
    startedAt: new Date().toISOString(),
  };
  const text = JSON.stringify(owner);
  const lock = shQuote(lockFile);
  let recoveredStale: LockOwner | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    // Written whole to a draft, then hard-linked into place: the lock appears complete or not at
    // all, and link(2) fails when it exists, as O_EXCL would (drafts are named as lock.ts names them).
    const published = await conn.exec([
      `d=${lock}.new-$$-${randomBytes(3).toString('hex')}`,
      `if [ -e ${lock} ]; then exit 17; fi`,
      `printf '%s\\n' ${shQuote(text)} > "$d" || { rm -f -- "$d"; exit 1; }`,
      `sync -- "$d" 2>/dev/null`,
      `ln -- "$d" ${lock} 2>/dev/null; s=$?; rm -f -- "$d"`,
      `if [ $s -ne 0 ] && [ -e ${lock} ]; then exit 17; fi`,
      'exit $s',
    ].join('\n'));
    if (published.status === 0) {
      return { owner, recoveredStale, release: () => releaseRemoteLock(conn, lockFile, text) };
    }
    if (published.status !== 17) throw remoteLockError(conn, lockFile, published.stderr);
    const current = await readRemoteOwner(conn, lockFile);
    if (current === null) continue;
    if (current.live) {
      throw new ShadowSlotsError('locked', `Another backup of this ring is running: ${describeOwner(current.owner)}.`, {
        hint: current.owner.host === conn.info.hostname
          ? `Wait for it to finish, or cancel it (the lock on ${conn.label} is held by that connection's shell; it is free the moment it ends).`
          : `It runs on ${current.owner.host}, not on the server ${conn.label}. If you are sure it is not running, delete ${lockFile} on the server.`,
        details: { owner: current.owner, lockFile, server: conn.label },
      });
    }
    const moved = await conn.exec([
      `a=${lock}.stale-$$-${randomBytes(3).toString('hex')}`,
      `mv -f -- ${lock} "$a" 2>/dev/null || exit 3`,
      'cat -- "$a"',
      'printf \'\\n%s\\n\' "$a"',
    ].join('\n'));
    if (moved.status === 3) continue;
    const lines = moved.stdout.replace(/\n$/, '').split('\n');
    const aside = lines.pop()!;
    const movedOwner = parseOwner(lines.join('\n'));
    if (movedOwner && (movedOwner.pid !== current.owner.pid || movedOwner.startedAt !== current.owner.startedAt)) {
      // We moved a fresh lock someone else just took: put it back and report it as held.
      // By link(2), which refuses when a third run published meanwhile (the helper's script too).
      await conn.exec(helperRemoteScript('lockRestore', [aside, lockFile]));
      continue;
    }
    await conn.exec(`rm -f -- ${shQuote(aside)}`);
    recoveredStale = current.owner;
  }
  throw new ShadowSlotsError('locked', `Could not take the ring's lock ${lockFile} on ${conn.label}; another run keeps taking it.`, { hint: 'Try again in a moment.' });
}

/** The lock's holder and whether the server still runs it; null when there is no lock. */
export async function readRemoteOwner(conn: SshConnection, lockFile: string): Promise<{ owner: LockOwner; live: boolean } | null> {
  const lock = shQuote(lockFile);
  // The clock, the lock's time (rsync lists it; POSIX prints no exact mtime), then its text.
  const r = await conn.exec([
    `t=$(cat -- ${lock} 2>/dev/null) || exit 3`,
    SERVER_NOW,
    `${RSYNC_LIST} -- ${lock} 2>/dev/null`,
    `printf '@@lock\\n%s' "$t"`,
  ].join('\n'));
  if (r.status === 3) return null;
  const split = r.stdout.indexOf('@@lock\n');
  const now = parseServerNow(r.stdout.slice(0, split));
  const mtime = parseRsyncListing(r.stdout.slice(0, split))[0]?.mtimeMs ?? Number.NaN;
  const owner = parseOwner(r.stdout.slice(split + '@@lock\n'.length));
  if (!owner) {
    const age = Number.isFinite(now - mtime) ? (now - mtime) / 1000 : Number.POSITIVE_INFINITY;
    if (age < UNREADABLE_LOCK_GRACE_S) return { owner: { pid: 0, host: conn.info.hostname, pidStart: null, command: 'a lock being written', startedAt: '?' }, live: true };
    return { owner: { pid: -1, host: conn.info.hostname, pidStart: null, command: 'unreadable lock file', startedAt: '?' }, live: false };
  }
  // A holder on another computer (a share the server also mounts) cannot be judged from here.
  if (owner.host !== conn.info.hostname) return { owner, live: true };
  return { owner, live: await remoteProcessRuns(conn, owner.pid, owner.pidStart) };
}

/**
 * Whether the server runs process `pid` (started at `start`, when known). /proc where there is
 * one; elsewhere `kill -0`, where "not permitted" still means it exists.
 */
async function remoteProcessRuns(conn: SshConnection, pid: number, start: string | null): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  // The very script the Windows helper judges a server lock's holder with (helper.ps1 mirrors it).
  const r = await conn.exec(helperRemoteScript('processAlive', [String(pid)]));
  const [state, now] = r.stdout.trim().split(' ');
  if (state !== 'alive') return false;
  return !(start !== null && now !== undefined && now !== start);
}

function parseOwner(text: string): LockOwner | null {
  try {
    const raw = JSON.parse(text) as Partial<LockOwner>;
    if (typeof raw.pid === 'number' && typeof raw.host === 'string') {
      return { pid: raw.pid, host: raw.host, pidStart: raw.pidStart ?? null, command: raw.command ?? '?', startedAt: raw.startedAt ?? '?' };
    }
  } catch {
    // an unreadable lock: judged by its age
  }
  return null;
}

async function releaseRemoteLock(conn: SshConnection, lockFile: string, text: string): Promise<void> {
  if (!conn.alive) return; // the session's end already made the lock stale
  await conn.exec(`if [ "$(cat -- ${shQuote(lockFile)} 2>/dev/null)" = ${shQuote(text)} ]; then rm -f -- ${shQuote(lockFile)}; fi`);
}

function remoteLockError(conn: SshConnection, lockFile: string, stderr: string): ShadowSlotsError {
  if (/No space left|Disk quota/i.test(stderr)) {
    return new ShadowSlotsError('target-full', `The target on ${conn.label} is full: not even the lock ${lockFile} could be written.`, { hint: 'Previous slots are intact. Free space on the server or keep fewer slots, then run again.' });
  }
  return new ShadowSlotsError('preflight', `Could not write the ring's lock ${lockFile} on ${conn.label}: ${stderr.trim() || 'unknown error'}.`, { hint: 'Check that the account can write to the target folder on the server.' });
}
